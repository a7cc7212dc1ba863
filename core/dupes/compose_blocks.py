"""Compose top-level blocks repeated in one file → one YAML anchor and aliases (across files:
compose_include.py).

Contract: `compose_block_proposal(cluster, index)` returns a checked `Proposal` for a "compose-block"
cluster whose copies (`x-*` blocks, or entries of `networks`/`volumes`/`configs`/`secrets`) are identical
and live in one compose file, or raises `NotProposable` with the reason. Compose reads anchors and
aliases, so the first copy's key line gains `&<name>` (or keeps the anchor it has) and every later
copy's body is replaced, by line span, with `*<name>` on its key line; nothing else moves. Before it is
offered the rewritten file is parsed again: the whole document with aliases resolved must equal the
original, and every copy must now be the anchored node. Anchors do not reach across files; copies in
several files are compose_include's.
"""

from __future__ import annotations

import re

from core.discovery import InfraIndex
from core.dupes.building import NotProposable, dedup_proposal, slug
from core.dupes.model import DuplicateCluster, Occurrence
from core.patching import Proposal
from core.yamlnodes import MappingNode, Node, ScalarNode, compose_documents, get, items, last_line, to_python

#: what may follow a block's key on its line: `:`, an optional anchor, an optional comment
_TAIL = re.compile(r"^:[ \t]*(?:&(?P<anchor>[^\s#]+))?[ \t]*(?P<comment>#.*)?$")


def _where(doc: Node, occ: Occurrence) -> tuple[Node | None, str]:
    """The mapping holding a copy and its key: the document for `x-*` blocks, else `networks` and co."""
    if occ.container == "top":
        return doc, occ.label
    return get(doc, occ.container), occ.label.split(".", 1)[1]


def _find(doc: Node, occ: Occurrence) -> tuple[ScalarNode, MappingNode]:
    """The key and block of one copy, found by its label and checked against the scanned line."""
    parent, name = _where(doc, occ)
    for key, node in items(parent):
        if key.value == name and key.start_mark.line + 1 == occ.start_line and isinstance(node, MappingNode):
            return key, node
    raise NotProposable(f"{occ.path} changed since the scan; rescan")


def _tail(lines: list[str], key: ScalarNode, node: MappingNode, path: str) -> re.Match[str]:
    line = lines[key.start_mark.line]
    match = _TAIL.match(line[key.end_mark.column :])
    inline = not node.value or node.value[0][0].start_mark.line == key.start_mark.line
    if match is None or node.flow_style or inline:
        raise NotProposable(f"{path}: {key.value} carries a tag or is written inline; write it as a block "
                            "first")
    return match


def _anchor_name(label: str, text: str) -> str:
    base = slug(label.rsplit(".", 1)[-1].removeprefix("x-"))
    name, n = base, 2
    while f"&{name}" in text or f"*{name}" in text:
        name, n = f"{base}-{n}", n + 1
    return name


def _marked(line: str, key: ScalarNode, marker: str, comment: str | None) -> str:
    return f"{line[: key.end_mark.column]}: {marker}" + (f"  {comment}" if comment else "")


def _verify(old_doc: Node, old_count: int, new_text: str, path: str, first: Occurrence,
            copies: list[Occurrence]) -> None:
    docs, problem = compose_documents(new_text)
    if problem is not None or not docs:
        raise NotProposable(f"the rewritten {path} would not parse: {problem}")
    if len(docs) != old_count:
        raise NotProposable(f"the rewritten {path} has a different number of documents")
    if to_python(docs[0]) != to_python(old_doc):
        raise NotProposable(f"resolving the aliases in {path} does not give back the original file")
    anchored = _find(docs[0], first)[1]
    for occ in copies:
        if get(*_where(docs[0], occ)) is not anchored:
            raise NotProposable(f"the rewritten {path} does not alias {occ.label} to the anchored block")


def _anchor(cluster: DuplicateCluster, index: InfraIndex) -> Proposal:
    path = cluster.files[0]
    parsed = index.parsed[path]
    if not parsed.docs:
        raise NotProposable(f"{path} has no YAML document")
    if not cluster.exact:
        what = ", ".join(dict.fromkeys(p.name for p in cluster.parameters)) or "their values"
        raise NotProposable(f"the blocks differ in {what}; an alias can only stand for an identical block")
    doc = parsed.docs[0]
    occs = sorted(cluster.occurrences, key=lambda o: o.start_line)
    found = [_find(doc, occ) for occ in occs]
    if len({id(node) for _, node in found}) != len(found):
        raise NotProposable(f"{path}: some of these blocks are aliases of one another already")
    lines = parsed.text.split("\n")
    tails = [_tail(lines, key, node, path) for key, node in found]
    for (key, _), tail in zip(found[1:], tails[1:], strict=True):
        if tail.group("anchor"):
            raise NotProposable(f"{path}: {key.value} has its own anchor &{tail.group('anchor')}; point its "
                                "aliases at the first copy before merging them")
    first_key = found[0][0]
    existing = tails[0].group("anchor")
    name = existing or _anchor_name(occs[0].label, parsed.text)
    for (key, node), tail in reversed(list(zip(found[1:], tails[1:], strict=True))):
        start = key.start_mark.line
        lines[start : last_line(node) + 1] = [_marked(lines[start], key, f"*{name}", tail.group("comment"))]
    if not existing:
        at = first_key.start_mark.line
        lines[at] = _marked(lines[at], first_key, f"&{name}", tails[0].group("comment"))
    new_text = "\n".join(lines)
    _verify(doc, len(parsed.docs), new_text, path, occs[0], occs[1:])
    others = ", ".join(o.label for o in occs[1:])
    return dedup_proposal(
        index,
        title=f"Alias the {cluster.copies - 1} copies of {occs[0].label} in {path} with a YAML anchor",
        rationale=(
            f"{occs[0].label} and {others} are identical ({cluster.lines_each} lines each). "
            f"{'Keeping its anchor' if existing else 'Anchoring the first'} as `&{name}` and writing the "
            f"others as `*{name}` leaves one copy to edit; Compose resolves aliases like any YAML reader."
        ),
        modified={path: new_text},
    )


def compose_block_proposal(cluster: DuplicateCluster, index: InfraIndex) -> Proposal:
    """The checked anchor proposal for identical blocks of one compose file, or `NotProposable` why not."""
    if len(cluster.files) != 1:  # across files is compose_include's (an anchor reaches within one file)
        raise NotProposable("the copies live in different compose files; an anchor only reaches within one")
    return _anchor(cluster, index)
