"""Identical GitHub jobs inside one workflow → one YAML anchor on the first copy, aliases for the rest.

Contract: `yaml_anchor(cluster, index)` returns a checked `Proposal` or raises `NotProposable` with the
reason. GitHub Actions reads anchors and aliases but not `<<` merge keys, so only copies that are
exactly identical (the same plain YAML value, names and comments-free content included) are offered:
the first copy's key line gains `&<name>` and every later copy's body is replaced, by line span, with
`*<name>` on its key line. Nothing else in the file moves. Before it is offered the rewritten file is
parsed again: the whole document, aliases resolved, must equal the original, and no merge key may
appear.
"""

from __future__ import annotations

import re

from core.discovery import InfraIndex
from core.dupes.building import NotProposable, dedup_proposal, slug
from core.dupes.model import DuplicateCluster, Occurrence
from core.patching import Proposal
from core.yamlnodes import (
    MappingNode,
    Node,
    ScalarNode,
    SequenceNode,
    compose_documents,
    get,
    items,
    last_line,
    to_python,
)

_TRAILING = re.compile(r"^:[ \t]*(#.*)?$")


def _job_node(doc: Node, occ: Occurrence) -> tuple[ScalarNode, MappingNode]:
    key = occ.label.split(" ", 1)[1]
    for k, v in items(get(doc, "jobs")):
        if k.value == key and isinstance(v, MappingNode) and k.start_mark.line + 1 == occ.start_line:
            return k, v
    raise NotProposable(f"{occ.path} changed since the scan; rescan")


def _has_merge_key(node: Node | None, seen: set[int] | None = None) -> bool:
    seen = set() if seen is None else seen
    if node is None or id(node) in seen:
        return False
    seen.add(id(node))
    if isinstance(node, MappingNode):
        return any((isinstance(k, ScalarNode) and k.value == "<<") or _has_merge_key(v, seen)
                   for k, v in node.value)
    return isinstance(node, SequenceNode) and any(_has_merge_key(v, seen) for v in node.value)


def _anchor_name(key: str, text: str) -> str:
    base = f"{slug(key)}-job"
    name, n = base, 2
    while f"&{name}" in text or f"*{name}" in text:
        name, n = f"{base}-{n}", n + 1
    return name


def _key_tail(lines: list[str], key: ScalarNode, path: str) -> str:
    """What follows the key on its line: only `:` and an optional comment may, so the anchor fits."""
    line = lines[key.start_mark.line]
    tail = line[key.end_mark.column :] if key.end_mark.line == key.start_mark.line else ""
    if not _TRAILING.match(tail):
        raise NotProposable(f"{path}: the job {key.value} already carries an anchor, alias or tag, or is "
                            "written inline")
    return tail


def _with_marker(line: str, key: ScalarNode, tail: str, marker: str) -> str:
    comment = tail[1:].strip()
    return f"{line[: key.end_mark.column]}: {marker}" + (f"  {comment}" if comment else "")


def yaml_anchor(cluster: DuplicateCluster, index: InfraIndex) -> Proposal:
    """The checked anchor/alias proposal for identical jobs of one workflow (see the module docstring)."""
    if len(cluster.files) != 1:
        raise NotProposable("the copies live in different workflows; an anchor only reaches within one file")
    path = cluster.files[0]
    parsed = index.parsed[path]
    if not parsed.docs:
        raise NotProposable(f"{path} has no YAML document")
    doc = parsed.docs[0]
    occs = sorted(cluster.occurrences, key=lambda o: o.start_line)
    jobs = [_job_node(doc, occ) for occ in occs]
    if len({id(node) for _, node in jobs}) != len(jobs):
        raise NotProposable(f"{path}: some of these jobs are aliases of one another already")
    values = [to_python(node) for _, node in jobs]
    first = values[0]
    differing = sorted({k for v in values[1:] for k in {*v, *first} if v.get(k) != first.get(k) or
                        (k in v) != (k in first)})
    if not cluster.exact or differing:
        what = ", ".join(f"`{k}`" for k in differing) or "their values"
        raise NotProposable(f"the jobs differ in {what}; an alias can only stand for an identical job "
                            "(GitHub Actions does not support `<<` merge keys)")
    lines = parsed.text.split("\n")
    tails = [_key_tail(lines, key, path) for key, _ in jobs]
    for key, node in jobs:
        if node.start_mark.line == key.start_mark.line or getattr(node, "flow_style", False):
            raise NotProposable(f"{path}: the job {key.value} is written inline; write it as a block first")
    first_key = jobs[0][0]
    name = _anchor_name(first_key.value, parsed.text)
    for (key, node), tail in reversed(list(zip(jobs[1:], tails[1:], strict=True))):
        start = key.start_mark.line
        lines[start : last_line(node) + 1] = [_with_marker(lines[start], key, tail, f"*{name}")]
    lines[first_key.start_mark.line] = _with_marker(lines[first_key.start_mark.line], first_key, tails[0],
                                                    f"&{name}")
    new_text = "\n".join(lines)
    _verify(parsed.text, doc, new_text, path, [key.value for key, _ in jobs])
    others = ", ".join(key.value for key, _ in jobs[1:])
    return dedup_proposal(
        index,
        title=f"Alias the {cluster.copies - 1} copies of job {first_key.value} in {path} with a YAML anchor",
        rationale=(
            f"The jobs {first_key.value}, {others} are identical ({cluster.lines_each} lines each). "
            f"Anchoring the first as `&{name}` and writing the others as `*{name}` keeps one copy to "
            "edit; GitHub Actions resolves aliases (but not `<<` merge keys, so none is used)."
        ),
        modified={path: new_text},
    )


def _verify(old_text: str, old_doc: Node, new_text: str, path: str, names: list[str]) -> None:
    docs, problem = compose_documents(new_text)
    if problem is not None or not docs:
        raise NotProposable(f"the rewritten {path} would not parse: {problem}")
    if len(docs) != len(compose_documents(old_text)[0]):
        raise NotProposable(f"the rewritten {path} has a different number of documents")
    if _has_merge_key(docs[0]) and not _has_merge_key(old_doc):
        raise NotProposable(f"the rewritten {path} would use a `<<` merge key, which GitHub does not read")
    if to_python(docs[0]) != to_python(old_doc):
        raise NotProposable(f"resolving the aliases in {path} does not give back the original workflow")
    job_nodes = {id(get(get(docs[0], "jobs"), n)) for n in names}
    if len(job_nodes) != 1:
        raise NotProposable(f"the rewritten {path} does not alias every copy to the anchored job")
