"""Turn a duplicate cluster into a `Proposal` — and prove the rewrite keeps the meaning.

Offered today: steps shared by several jobs → a composite action (inputs for what varies, secrets passed
as inputs because composite actions cannot read `secrets`); copy-pasted compose services in one file →
an `x-` block with an anchor and `<<` merges; copy-pasted GitLab jobs → a hidden template job with
`extends:`; whole GitHub jobs repeated across workflows → a reusable workflow (`core.dupes.reusable`);
identical shell functions → a shared library the scripts source. Every proposal is checked before it
is offered: the rewritten files are parsed again and the abstraction is expanded (inputs
substituted, merges and `extends` resolved, the library inlined); the result must equal the original
canonical content, or the proposal is not offered (`NotProposable`). Edits are line-placed from parse
positions, so comments and layout outside the replaced spans are untouched.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.discovery import InfraIndex
from core.dupes.anchors import yaml_anchor
from core.dupes.basestage import base_stage
from core.dupes.building import (
    COMPOSITE_UNSUPPORTED,
    NotProposable,
    action_name,
    common_parent,
    dedup_proposal,
    dump_yaml,
    expand_steps,
    file_lines,
    finish_action_steps,
    keep_uses_comments,
    parameterize_steps,
    replace_calls,
    slug,
    step_title,
    steps_nodes,
    strip_uses_ref,
)
from core.dupes.canonical import exact_form
from core.dupes.compose_blocks import compose_block_proposal
from core.dupes.compose_extends import compose_extends
from core.dupes.compose_include import compose_include
from core.dupes.existing_action import existing_action
from core.dupes.gapped_action import gapped_composite
from core.dupes.gitlab_reference import gitlab_reference
from core.dupes.model import DuplicateCluster, Occurrence
from core.dupes.reusable import reusable_workflow
from core.dupes.shell_runs import shell_run_library
from core.dupes.stages import command_chain_proposal, stage_proposal
from core.models import FileKind
from core.parsing import ParsedFile
from core.patching import Proposal
from core.yamlnodes import MappingNode, Node, compose_documents, get, items, last_line, seq, to_python

__all__ = ["NotProposable", "propose_abstraction"]


def _composite(cluster: DuplicateCluster, index: InfraIndex) -> Proposal:
    if any(o.length < 2 for o in cluster.occurrences):
        raise NotProposable("a single step is not worth a composite action")
    existing = [o.path for o in cluster.occurrences if index.parsed[o.path].kind is FileKind.GHA_ACTION]
    if existing:
        return existing_action(cluster, index)
    originals: list[list[dict[str, Any]]] = []
    for occ in cluster.occurrences:
        nodes = steps_nodes(index.parsed[occ.path], occ)
        if len(nodes) != occ.length:
            raise NotProposable(f"{occ.path} changed since the scan; rescan")
        originals.append([to_python(n) for n in nodes])
    for step in originals[0]:
        if COMPOSITE_UNSUPPORTED & set(step):
            unsupported = sorted(COMPOSITE_UNSUPPORTED & set(step))
            raise NotProposable(f"composite actions do not support {unsupported}")
    name = action_name(originals[0], index)
    inputs: dict[str, dict[str, Any]] = {}
    caller_with: list[dict[str, str]] = [{} for _ in cluster.occurrences]
    steps = parameterize_steps(cluster, originals[0], inputs, caller_with)
    added_shell = finish_action_steps(steps, inputs, caller_with)
    title = " + ".join(step_title(s) for s in originals[0])[:60]
    action = {
        "name": title,
        "description": f"Steps shared by {cluster.copies} jobs ({', '.join(cluster.files)}); "
                       "made by devops-tui from copy-pasted steps.",
        **({"inputs": inputs} if inputs else {}),
        "runs": {"using": "composite", "steps": steps},
    }
    action_text = keep_uses_comments(dump_yaml(action), cluster, index)
    action_path = f".github/actions/{name}/action.yml"
    new_texts = replace_calls(cluster, index, title, action_path, caller_with)
    _verify_composite(cluster, originals, steps, added_shell, caller_with, new_texts, action_path)
    note = f" It {cluster.note}." if cluster.note else ""
    return dedup_proposal(
        index,
        title=f"Extract {cluster.units_each} copy-pasted steps into the composite action {name}",
        rationale=(
            f"The same {cluster.units_each} steps appear in {cluster.copies} jobs "
            f"({cluster.lines_each} lines each). A composite action keeps them in one place; "
            f"{len(inputs)} input(s) carry what differs.{note} Composite-action `run` steps need an "
            "explicit shell, so `shell: bash` is added where it was implied."
        ),
        created={action_path: action_text}, modified=new_texts,
    )


def _verify_composite(cluster: DuplicateCluster, originals: list[list[dict[str, Any]]],
                      steps: list[dict[str, Any]], added_shell: list[int],
                      caller_with: list[dict[str, str]], new_texts: dict[str, list[str]],
                      action_path: str) -> None:
    for i, original in enumerate(originals):
        expected = [exact_form(strip_uses_ref(s)) for s in original]
        if expand_steps(steps, caller_with[i], added_shell) != expected:
            raise NotProposable("expanding the composite action does not give back the original steps")
    for path, lines in new_texts.items():
        docs, problem = compose_documents("\n".join(lines))
        if problem is not None or not docs:
            raise NotProposable(f"the rewritten {path} would not parse: {problem}")
        calls = [s for job_key, job in items(get(docs[0], "jobs")) for s in seq(get(job, "steps"))
                 if to_python(get(s, "uses")) == f"./{action_path.rsplit('/', 1)[0]}"]
        if len(calls) != sum(1 for o in cluster.occurrences if o.path == path):
            raise NotProposable(f"the rewritten {path} does not call the action where expected")


# --- compose anchors and GitLab templates --------------------------------------------------------------


def _template(cluster: DuplicateCluster, index: InfraIndex, style: str) -> Proposal:
    paths = set(cluster.files)
    if len(paths) != 1:
        raise NotProposable("copies live in different files; move them together or use `extends` by hand")
    path = next(iter(paths))
    parsed = index.parsed[path]
    doc = parsed.docs[0]
    container = get(doc, "services") if style == "compose" else doc
    names = [o.label.split(" ", 1)[1] for o in cluster.occurrences]
    nodes = [get(container, n) for n in names]
    if not all(isinstance(n, MappingNode) for n in nodes):
        raise NotProposable("a copy is not a mapping")
    blocked = "<<" if style == "compose" else "extends"
    if any(any(k.value in (blocked, "<<") for k, _ in n.value) for n in nodes):  # type: ignore[union-attr]
        raise NotProposable(f"a copy already uses {blocked}")
    per_copy = [{k.value: (k, v) for k, v in n.value} for n in nodes]  # type: ignore[union-attr]
    common = [
        key for key in per_copy[0]
        if all(key in c for c in per_copy)
        and len({json.dumps(exact_form(to_python(c[key][1]), key), sort_keys=True, default=str)
                 for c in per_copy}) == 1
    ]
    if len(common) < 2:
        raise NotProposable("fewer than two settings are shared by every copy")
    lines = file_lines(parsed)
    if style == "compose":
        template_name = slug("-".join(names[:2]) + "-common")
    else:
        template_name = f"{slug(names[0])}-base"
    first_key = per_copy[0][common[0]][0]
    body_indent = first_key.start_mark.column
    block: list[str] = []
    for key in common:
        k, v = per_copy[0][key]
        for text in lines[k.start_mark.line : last_line(v) + 1]:
            block.append("  " + text[body_indent:] if text.strip() else text)
    spans: list[tuple[int, int, int, str]] = []  # (first line, last line, indent, insert-text)
    for node, copy_keys in zip(nodes, per_copy, strict=True):
        ranges = sorted((copy_keys[k][0].start_mark.line, last_line(copy_keys[k][1])) for k in common)
        indent = node.value[0][0].start_mark.column  # type: ignore[union-attr]
        ref = f"<<: *{template_name}" if style == "compose" else f"extends: .{template_name}"
        first = node.value[0][0].start_mark.line  # type: ignore[union-attr]
        spans.append((first, -1, indent, " " * indent + ref))
        spans.extend((a, b, 0, "") for a, b in ranges)
    for start, end, _, insert in sorted(spans, key=lambda s: (s[0], s[1]), reverse=True):
        if end == -1:
            lines.insert(start, insert)
        else:
            del lines[start : end + 1]
    if style == "compose":
        at = next(k.start_mark.line for k, _ in doc.value if k.value == "services")
        lines[at:at] = [f"x-{template_name}: &{template_name}", *block, ""]
    else:
        job_key_line = min(n.start_mark.line for n in nodes if n is not None) - 1  # the first job's name line
        lines[job_key_line:job_key_line] = [f".{template_name}:", *block, ""]
    new_text = "\n".join(lines)
    _verify_template(parsed, new_text, names, style, template_name)
    label = "services" if style == "compose" else "jobs"
    if style == "compose":
        what = f"an `x-{template_name}` block merged with `<<: *{template_name}`"
        short = f"x-{template_name}"
    else:
        what = f"the hidden job `.{template_name}` they `extends:`"
        short = f".{template_name}"
    return dedup_proposal(
        index,
        title=f"Share {len(common)} settings of {cluster.copies} {label} through {short}",
        rationale=(f"{', '.join(names)} repeat {', '.join(common)}. Moving them into {what} leaves one "
                   f"place to change them; each {label[:-1]} keeps only what is its own."),
        modified={path: new_text},
    )


def _resolve_gitlab(doc: Node, name: str, depth: int = 0) -> dict[str, Any]:
    job = to_python(get(doc, name)) or {}
    parent = job.pop("extends", None)
    if not parent or depth > 10:
        return job
    base: dict[str, Any] = {}
    for p in [parent] if isinstance(parent, str) else parent:
        base = _deep_merge(base, _resolve_gitlab(doc, p, depth + 1))
    return _deep_merge(base, job)


def _deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def _verify_template(parsed: ParsedFile, new_text: str, names: list[str], style: str, template: str) -> None:
    docs, problem = compose_documents(new_text)
    if problem is not None or not docs:
        raise NotProposable(f"the rewrite would not parse: {problem}")
    old_doc = parsed.docs[0]
    if style == "compose":
        before = to_python(get(old_doc, "services"))
        after = to_python(get(docs[0], "services"))
        ok = before == after
    else:
        ok = all(_resolve_gitlab(old_doc, n) == _resolve_gitlab(docs[0], n) for n in names)
        others = [k for k in to_python(old_doc) if k not in names]
        ok = ok and all(to_python(get(old_doc, k)) == to_python(get(docs[0], k)) for k in others)
    if not ok:
        raise NotProposable(f"resolving the {template} template does not give back the original content")


# --- shell library --------------------------------------------------------------------------------------


def _shell_lib(cluster: DuplicateCluster, index: InfraIndex) -> Proposal:
    if not cluster.exact:
        raise NotProposable("the functions differ; a shared library needs identical copies")
    first = cluster.occurrences[0]
    func_lines = file_lines(index.parsed[first.path])[first.start_line - 1 : first.end_line]
    folders = {str(Path(o.path).parent) for o in cluster.occurrences}
    common = Path(next(iter(folders))) if len(folders) == 1 else Path(common_parent(folders))
    lib_path = (common / "lib" / "common.sh").as_posix()
    if lib_path in index.files:
        raise NotProposable(f"{lib_path} exists already; add the function there by hand")
    library = ("# Shared shell functions, sourced by the deploy scripts.\n"
               "# Made by devops-tui from copy-pasted functions.\n\n" + "\n".join(func_lines) + "\n")
    rewritten: dict[str, str | list[str]] = {}
    by_file: dict[str, list[Occurrence]] = {}
    for occ in cluster.occurrences:
        by_file.setdefault(occ.path, []).append(occ)
    for path, occs in by_file.items():
        lines = file_lines(index.parsed[path])
        rel = Path(lib_path).relative_to(Path(path).parent) if lib_path.startswith(str(Path(path).parent)) \
            else Path("..") / lib_path
        source = f'. "$(dirname "$0")/{rel.as_posix()}"'
        for occ in sorted(occs, key=lambda o: -o.start_line):
            lines[occ.start_line - 1 : occ.end_line] = [source]
        rewritten[path] = lines
    name = first.label.split(" ", 1)[1]
    return dedup_proposal(
        index,
        title=f"Move the shell function {name} into {lib_path}",
        rationale=f"{name} is copied into {cluster.copies} scripts; one shared library keeps one copy.",
        created={lib_path: library}, modified=rewritten,
    )


def _compose_template(cluster: DuplicateCluster, index: InfraIndex) -> Proposal:
    return _template(cluster, index, "compose")


def _gitlab_template(cluster: DuplicateCluster, index: InfraIndex) -> Proposal:
    if index.parsed[cluster.occurrences[0].path].kind is not FileKind.GITLAB_CI:
        raise NotProposable("not a GitLab CI file")
    return _template(cluster, index, "gitlab")


def _steps(cluster: DuplicateCluster, index: InfraIndex) -> Proposal:
    return gapped_composite(cluster, index) if cluster.gaps else _composite(cluster, index)


Proposer = Callable[[DuplicateCluster, InfraIndex], Proposal]
#: (category, abstraction) -> the module that builds and checks that abstraction
PROPOSERS: dict[tuple[str, str], Proposer] = {
    ("gha-steps", "composite-action"): _steps,
    ("gha-job", "reusable-workflow"): reusable_workflow,
    ("gha-job", "yaml-anchor"): yaml_anchor,
    ("gitlab-job", "gitlab-extends"): _gitlab_template,
    ("gitlab-script", "gitlab-extends"): gitlab_reference,
    ("compose-service", "compose-anchor"): _compose_template,
    ("compose-service", "compose-extends"): compose_extends,
    ("compose-block", "yaml-anchor"): compose_block_proposal,
    ("compose-block", "compose-include"): compose_include,
    ("docker-run", "docker-base-stage"): base_stage,
    ("docker-stage", "docker-base-stage"): stage_proposal,
    ("docker-commands", "docker-script"): command_chain_proposal,
    ("shell-function", "shell-lib"): _shell_lib,
    ("shell-statements", "shell-lib"): shell_run_library,
}


def propose_abstraction(cluster: DuplicateCluster, index: InfraIndex) -> Proposal:
    """The checked proposal for `cluster`, or `NotProposable` saying why there is none."""
    for occ in cluster.occurrences:
        parsed = index.parsed.get(occ.path)
        if parsed is None or parsed.problem is not None:
            raise NotProposable(f"{occ.path} is not parsed cleanly; fix it first")
    proposer = PROPOSERS.get((cluster.category, cluster.abstraction))
    if proposer is None:
        raise NotProposable(f"no automatic {cluster.abstraction} proposal yet; shown for manual work")
    return proposer(cluster, index)
