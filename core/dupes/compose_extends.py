"""Compose services copied across files → one base service in a shared file that each copy `extends`.

Contract: `compose_extends(cluster, index)` returns a checked `Proposal` or raises `NotProposable` with
the reason. A new `compose/common.yml` (or, if taken, `compose.common.yml` next to the first copy's
file) holds a service `<name>-base` with the settings whose canonical value is equal in every copy,
copied as text from the first copy. Each copy loses those settings and gains a block-style
`extends: {file: <relative path>, service: <name>-base}`. Settings compose does not inherit through
`extends` (`depends_on`, `links`, `volumes_from`) stay in each copy, and settings holding relative paths
(`build`, `env_file`, `volumes`, ...) are shared only when the base file sits in the copy's folder,
because compose resolves them against the file that declares them. Before it is offered, every copy is
resolved again (base merged under the copy, mappings one level deep) and must equal the original.
"""

from __future__ import annotations

import json
import os
from pathlib import PurePosixPath
from typing import Any

from core.discovery import InfraIndex
from core.dupes.building import NotProposable, dedup_proposal, slug, yaml_scalar
from core.dupes.canonical import exact_form
from core.dupes.model import DuplicateCluster
from core.patching import Proposal
from core.yamlnodes import MappingNode, ScalarNode, compose_documents, get, last_line, to_python

#: settings compose never passes down through `extends`
NOT_INHERITED = frozenset({"depends_on", "links", "volumes_from"})
#: settings whose relative paths compose resolves against the file that declares them
PATH_KEYS = frozenset({"build", "env_file", "volumes", "label_file", "configs", "secrets", "extends"})
_MERGED_MAPPINGS = frozenset({"environment", "labels", "annotations", "sysctls", "extra_hosts", "ulimits",
                              "logging", "healthcheck", "deploy", "build"})


def _canon(value: Any, key: str) -> str:
    return json.dumps(exact_form(value, key), sort_keys=True, default=str)


def _common_path(index: InfraIndex, first: str) -> str:
    folder = PurePosixPath(first).parent
    for candidate in ("compose/common.yml", (folder / "compose.common.yml").as_posix()):
        if candidate not in index.files and not (index.root / candidate).exists():
            return candidate
    raise NotProposable("compose/common.yml and compose.common.yml exist already; extend by hand")


def _resolve(base: dict[str, Any], service: dict[str, Any]) -> dict[str, Any]:
    """What compose builds for `service` extending `base`: the copy wins, mappings merge one level."""
    out = dict(base)
    for key, value in service.items():
        if key in _MERGED_MAPPINGS and isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = {**out[key], **value}
        else:
            out[key] = value
    return out


def compose_extends(cluster: DuplicateCluster, index: InfraIndex) -> Proposal:
    if len(set(cluster.files)) < 2:
        raise NotProposable("the copies share one file; an x- block with << merges fits better")
    names = [o.label.split(" ", 1)[1] for o in cluster.occurrences]
    nodes: list[MappingNode] = []
    for occ, name in zip(cluster.occurrences, names, strict=True):
        node = get(get(index.parsed[occ.path].docs[0], "services"), name)
        if not isinstance(node, MappingNode) or not node.value:
            raise NotProposable(f"service {name} in {occ.path} is not a mapping; rescan")
        if node.flow_style:
            raise NotProposable(f"service {name} in {occ.path} is written inline; write it as a block first")
        if any(isinstance(k, ScalarNode) and k.value in ("extends", "<<") for k, _ in node.value):
            raise NotProposable(f"service {name} in {occ.path} already uses extends or <<")
        nodes.append(node)
    base_path = _common_path(index, cluster.occurrences[0].path)
    base_dir = PurePosixPath(base_path).parent
    same_folder = all(PurePosixPath(p).parent == base_dir for p in cluster.files)
    per_copy = [{k.value: (k, v) for k, v in node.value} for node in nodes]
    common = [
        key for key in per_copy[0]
        if key not in NOT_INHERITED and (same_folder or key not in PATH_KEYS)
        and all(key in c for c in per_copy)
        and len({_canon(to_python(c[key][1]), key) for c in per_copy}) == 1
    ]
    if len(common) < 2:
        raise NotProposable("fewer than two settings that compose inherits are shared by every copy")
    base_name = f"{slug(names[0])}-base"
    first_lines = index.parsed[cluster.occurrences[0].path].text.split("\n")
    body_indent = per_copy[0][common[0]][0].start_mark.column
    block: list[str] = []
    for key in common:
        k, v = per_copy[0][key]
        for text in first_lines[k.start_mark.line : last_line(v) + 1]:
            cut = text[body_indent:] if text[:body_indent].strip() == "" else text.lstrip()
            block.append("    " + cut if text.strip() else "")
    base_text = ("# Settings shared by compose services in several files; each one `extends` this.\n"
                 "# Made by devops-tui from copy-pasted services.\n"
                 f"services:\n  {base_name}:\n" + "\n".join(block) + "\n")
    new_texts: dict[str, list[str]] = {}
    spans: dict[str, list[tuple[int, int, list[str]]]] = {}  # path -> (first line, last line, insert)
    for occ, node, copy_keys in zip(cluster.occurrences, nodes, per_copy, strict=True):
        new_texts.setdefault(occ.path, index.parsed[occ.path].text.split("\n"))
        rel = os.path.relpath(base_path, PurePosixPath(occ.path).parent.as_posix() or ".")
        pad = " " * node.value[0][0].start_mark.column
        ref = [f"{pad}extends:", f"{pad}  file: {yaml_scalar(rel)}", f"{pad}  service: {base_name}"]
        todo = spans.setdefault(occ.path, [])
        todo.append((node.value[0][0].start_mark.line, -1, ref))
        todo.extend((copy_keys[k][0].start_mark.line, last_line(copy_keys[k][1]), []) for k in common)
    for path, todo in spans.items():
        lines = new_texts[path]
        for start, end, insert in sorted(todo, key=lambda s: (s[0], s[1]), reverse=True):
            if end == -1:
                lines[start:start] = insert
            else:
                del lines[start : end + 1]
    _verify(cluster, index, names, base_path, base_name, base_text, new_texts)
    kept = sorted(NOT_INHERITED & set(per_copy[0]))
    stays = f" Kept in each copy, because compose does not inherit them: {', '.join(kept)}." if kept else ""
    return dedup_proposal(
        index,
        title=f"Share {len(common)} settings of {cluster.copies} compose services through {base_path}",
        rationale=(f"{', '.join(dict.fromkeys(names))} repeat {', '.join(common)} across "
                   f"{', '.join(cluster.files)}. A base service `{base_name}` in {base_path} that each one "
                   f"`extends` leaves one place to change them.{stays}"),
        created={base_path: base_text}, modified=new_texts,
    )


def _verify(cluster: DuplicateCluster, index: InfraIndex, names: list[str], base_path: str, base_name: str,
            base_text: str, new_texts: dict[str, list[str]]) -> None:
    docs, problem = compose_documents(base_text)
    if problem is not None or not docs:
        raise NotProposable(f"the shared file {base_path} would not parse: {problem}")
    base = to_python(get(get(docs[0], "services"), base_name))
    if not isinstance(base, dict):
        raise NotProposable(f"the shared file {base_path} lacks the service {base_name}")
    resolved: dict[str, Any] = {}
    for path, lines in new_texts.items():
        docs, problem = compose_documents("\n".join(lines))
        if problem is not None or not docs:
            raise NotProposable(f"the rewritten {path} would not parse: {problem}")
        resolved[path] = to_python(docs[0])
    for occ, name in zip(cluster.occurrences, names, strict=True):
        service = dict(resolved[occ.path]["services"][name])
        ref = service.pop("extends", None)
        rel = os.path.relpath(base_path, PurePosixPath(occ.path).parent.as_posix() or ".")
        if ref != {"file": rel, "service": base_name}:
            raise NotProposable(f"the rewritten service {name} in {occ.path} does not extend {base_name}")
        resolved[occ.path]["services"][name] = _resolve(base, service)
    for path, doc in resolved.items():
        original = to_python(index.parsed[path].docs[0])
        if exact_form(doc) != exact_form(original):
            raise NotProposable(f"resolving extends in {path} does not give back the original services")
