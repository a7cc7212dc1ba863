"""Compose resources copied across files → one shared compose file that each copy pulls in with `include:`.

Contract: `compose_include(cluster, index)` returns a checked `Proposal` for a "compose-block" cluster
whose identical copies (entries of `networks`/`volumes`/`configs`/`secrets`, or such a block whole) sit
in several compose files, or raises `NotProposable` with the reason. The entries move, as text, into a
shared file: a resources-only file every copy already includes (its block gains them), else a new
`compose.shared.yaml` in the copies' common folder. Each file loses its copies (and the block key once
it is empty) and gains a relative `include:` entry, added to a block `include:` list it has. Compose
semantics decide what is legal (Compose 2.20+): an included file's resources merge into the project, a
name both defined locally and included is an error, and relative paths in the included file resolve
against its own folder, so entries holding a relative path move only when the shared file sits in the
copy's folder. `x-` blocks are not merged by `include`: they get a reason, not a proposal. Before it is
offered, every rewritten file and the shared file are parsed again, each file's include is resolved (the
shared file's resources loaded into its top-level blocks), and the result must equal the original file,
value for value.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from typing import Any

from core.discovery import InfraIndex
from core.dupes.building import NotProposable, common_parent, dedup_proposal, yaml_scalar
from core.dupes.model import DuplicateCluster, Occurrence
from core.models import FileKind
from core.patching import Proposal
from core.yamlnodes import (
    MappingNode,
    Node,
    ScalarNode,
    SequenceNode,
    compose_documents,
    items,
    last_line,
    to_python,
)

#: what `include` copies into the including project (and so what may clash with a local definition)
MERGED_BY_INCLUDE = ("services", "networks", "volumes", "configs", "secrets", "models")
#: keys of a resource entry that compose reads as a file-system path
_PATH_KEYS = frozenset({"file", "device"})
_SHARED_NAME = "compose.shared"
_LEADING_KEYS = frozenset({"version", "name"})


@dataclass(frozen=True, slots=True)
class _Entry:
    """One copied resource in one file: its name, the lines it spans (0-based, inclusive), its value."""

    name: str
    key: ScalarNode
    first: int
    last: int
    value: Any


@dataclass(frozen=True, slots=True)
class _FileCopies:
    """What one compose file holds of the cluster: the block's key and node, and the copied entries."""

    path: str
    block_key: ScalarNode
    block: MappingNode
    entries: tuple[_Entry, ...]


def _x_block_refusal(cluster: DuplicateCluster) -> NotProposable:
    label = cluster.occurrences[0].label
    return NotProposable(
        f"{label} is repeated in {', '.join(cluster.files)}. YAML anchors do not reach across files and "
        "`include:` does not carry `x-` blocks (only services, networks, volumes, configs and secrets are "
        "merged); keep the blocks in step by hand, or move the services that use them into one file.")


def _doc(index: InfraIndex, path: str) -> MappingNode:
    parsed = index.parsed[path]
    if len(parsed.docs) != 1 or not isinstance(parsed.docs[0], MappingNode):
        raise NotProposable(f"{path} is not a single compose document")
    return parsed.docs[0]


def _top(doc: MappingNode, name: str) -> tuple[ScalarNode, Node] | None:
    for key, node in doc.value:
        if isinstance(key, ScalarNode) and key.value == name:
            return key, node
    return None


def _block(doc: MappingNode, block: str, path: str) -> tuple[ScalarNode, MappingNode]:
    found = _top(doc, block)
    if found is None or not isinstance(found[1], MappingNode):
        raise NotProposable(f"{path} changed since the scan; rescan")
    key, node = found[0], found[1]
    if node.flow_style or (node.value and node.value[0][0].start_mark.line == key.start_mark.line):
        raise NotProposable(f"{path}: `{block}:` is written inline; write it as a block first")
    return key, node


def _entry(key: ScalarNode, node: Node) -> _Entry:
    return _Entry(str(key.value), key, key.start_mark.line, max(key.start_mark.line, last_line(node)),
                  to_python(node))


def _copies_of(cluster: DuplicateCluster, index: InfraIndex, block: str) -> list[_FileCopies]:
    """Each file's copied entries, found by label and checked against the scanned lines."""
    by_file: dict[str, list[Occurrence]] = {}
    for occ in cluster.occurrences:
        by_file.setdefault(occ.path, []).append(occ)
    copies = []
    for path, occs in by_file.items():
        block_key, node = _block(_doc(index, path), block, path)
        entries: list[_Entry] = []
        for occ in occs:
            if occ.container == "top":  # the whole block: every entry moves
                if block_key.start_mark.line + 1 != occ.start_line:
                    raise NotProposable(f"{path} changed since the scan; rescan")
                entries.extend(_entry(k, v) for k, v in node.value if isinstance(k, ScalarNode))
                continue
            name = occ.label.split(".", 1)[1]
            match = [(k, v) for k, v in node.value if isinstance(k, ScalarNode) and k.value == name
                     and k.start_mark.line + 1 == occ.start_line]
            if not match:
                raise NotProposable(f"{path} changed since the scan; rescan")
            entries.append(_entry(*match[0]))
        copies.append(_FileCopies(path, block_key, node, tuple(entries)))
    return copies


def _check_same(copies: list[_FileCopies], block: str) -> None:
    """Include shares a resource by its name: every file must hold the same names with the same values."""
    names = [sorted(e.name for e in c.entries) for c in copies]
    if any(n != names[0] for n in names):
        listed = "; ".join(f"{c.path}: {', '.join(n)}" for c, n in zip(copies, names, strict=True))
        raise NotProposable(f"the copies are named differently ({listed}); an included file shares a "
                            f"resource by its name, so give the {block} one name first")
    first = {e.name: e.value for e in copies[0].entries}
    for c in copies[1:]:
        for e in c.entries:
            if e.value != first[e.name]:
                raise NotProposable(f"`{block}: {e.name}:` in {c.path} is not written exactly as in "
                                    f"{copies[0].path} (a `name:` or a value's type differs); one shared "
                                    "definition cannot stand for both")


def _include_paths(doc: MappingNode, path: str) -> list[str] | None:
    """The repo paths a file includes by plain path (None when its `include:` has other forms)."""
    found = _top(doc, "include")
    if found is None:
        return []
    folder = posixpath.dirname(path)
    out = []
    for item in found[1].value if isinstance(found[1], SequenceNode) else [found[1]]:
        value = to_python(item)
        if isinstance(value, dict) and set(value) == {"path"}:
            value = value["path"]
        if not isinstance(value, str) or value.startswith("/") or "$" in value:
            return None
        out.append(posixpath.normpath(posixpath.join(folder, value)))
    return out


def _shared_location(copies: list[_FileCopies], index: InfraIndex) -> tuple[str, bool]:
    """A resources-only compose file every copy includes already (an included application is no place
    for them), else a new file in the copies' common folder."""
    included = [_include_paths(_doc(index, c.path), c.path) for c in copies]
    if all(paths for paths in included):
        paths = included[0] or []
        mine = {c.path for c in copies}
        for candidate in paths:
            parsed = index.parsed.get(candidate)
            if (candidate not in mine and all(candidate in (p or []) for p in included) and parsed is not None
                    and parsed.kind is FileKind.COMPOSE and parsed.problem is None and len(parsed.docs) == 1
                    and isinstance(parsed.docs[0], MappingNode) and _top(parsed.docs[0], "services") is None):
                return candidate, True
    folder = common_parent({posixpath.dirname(c.path) or "." for c in copies})
    base = "" if folder in ("", ".") else f"{folder}/"
    for n in range(1, 100):
        candidate = f"{base}{_SHARED_NAME}{'' if n == 1 else f'-{n}'}.yaml"
        if candidate not in index.files and not (index.root / candidate).exists():
            return candidate, False
    raise NotProposable(f"{base}{_SHARED_NAME}*.yaml are all taken; share the blocks by hand")


def _relative_paths(value: Any, key: str = "") -> list[str]:
    """Path values compose resolves against the declaring file's folder (`file:`, `device:`, `./x`)."""
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _relative_paths(v, str(k))]
    if isinstance(value, list):
        return [p for v in value for p in _relative_paths(v, key)]
    if isinstance(value, str) and ((key in _PATH_KEYS and not value.startswith(("/", "$", "~")))
                                   or value.startswith(("./", "../"))):
        return [value]
    return []


def _check_paths(copies: list[_FileCopies], shared: str, index: InfraIndex, block: str) -> None:
    shared_dir = posixpath.dirname(shared)
    for c in copies:
        if posixpath.dirname(c.path) == shared_dir:
            continue
        for e in c.entries:
            relative = _relative_paths(e.value)
            if relative:
                raise NotProposable(
                    f"`{block}: {e.name}:` holds the relative path {relative[0]}, which compose resolves "
                    f"against the declaring file's folder; in {shared} it would point elsewhere than from "
                    f"{c.path}. Make the path absolute, or share only between files in one folder")
            if "$" in repr(e.value) and (index.root / shared_dir / ".env").exists():
                raise NotProposable(
                    f"`{block}: {e.name}:` uses variables, and an included file is interpolated with the "
                    f".env of its own folder ({posixpath.join(shared_dir, '.env')}), not {c.path}'s")


def _moved_lines(lines: list[str], entry: _Entry, indent: str) -> list[str]:
    """An entry's lines re-indented to sit under a block key at `indent`."""
    column = entry.key.start_mark.column
    out = []
    for text in (line.rstrip("\r") for line in lines[entry.first : entry.last + 1]):
        cut = text[column:] if text[:column].strip() == "" else text.lstrip()
        out.append(indent + cut if text.strip() else "")
    return out


def _shared_text(copies: list[_FileCopies], index: InfraIndex, block: str, shared: str,
                 existing: bool) -> str:
    source = copies[0]
    lines = index.parsed[source.path].text.split("\n")
    if not existing:
        body = [line for e in source.entries for line in _moved_lines(lines, e, "  ")]
        users = ", ".join(c.path for c in copies)
        return (f"# Compose resources shared through `include:` by {users}.\n"
                "# Made by devops-tui from copy-pasted blocks; needs Docker Compose 2.20 or later.\n"
                f"{block}:\n" + "\n".join(body) + "\n")
    doc = _doc(index, shared)
    text = index.parsed[shared].text
    found = _top(doc, block)
    if found is None:
        body = [line for e in source.entries for line in _moved_lines(lines, e, "  ")]
        return text.rstrip("\n") + f"\n\n{block}:\n" + "\n".join(body) + "\n"
    node = _block(doc, block, shared)[1]
    taken = {str(k.value) for k, _ in items(node)} & {e.name for e in source.entries}
    if taken:
        raise NotProposable(f"{shared} already defines `{block}: {', '.join(sorted(taken))}:`; a name "
                            "defined twice conflicts, so merge them by hand")
    if not node.value:
        raise NotProposable(f"{shared}: `{block}:` is empty; give it an entry or remove it first")
    indent = " " * node.value[0][0].start_mark.column
    body = [line for e in source.entries for line in _moved_lines(lines, e, indent)]
    shared_lines = text.split("\n")
    at = last_line(node) + 1
    shared_lines[at:at] = body
    return "\n".join(shared_lines)


def _include_edit(doc: MappingNode, lines: list[str], rel: str) -> tuple[int, list[str]]:
    """Where to insert and what, to add `rel` to the file's `include:` (a new list at the top if none)."""
    found = _top(doc, "include")
    if found is None:
        keys = [k for k, _ in doc.value if isinstance(k, ScalarNode)]
        first = next((k for k in keys if k.value not in _LEADING_KEYS), None)
        at = first.start_mark.line if first is not None else last_line(doc) + 1
        above = at
        while above > 0 and lines[above - 1].lstrip().startswith("#"):
            above -= 1
        if above > 0 and not lines[above - 1].strip():  # comments over the key stay with it; a header stays
            at = above
        return at, ["include:", f"  - {yaml_scalar(rel)}", ""]
    node = found[1]
    if not isinstance(node, SequenceNode) or node.flow_style or not node.value:
        raise NotProposable("its `include:` is not a block list; write it as one (`- path` lines) first")
    dash = node.start_mark.column
    return last_line(node) + 1, [" " * dash + f"- {yaml_scalar(rel)}"]


def _relative(shared: str, path: str) -> str:
    """How `path` names the shared file in its `include:`: relative to its own folder."""
    return posixpath.relpath(shared, posixpath.dirname(path) or ".")


def _rewrite(copy: _FileCopies, index: InfraIndex, shared: str, existing: bool) -> str:
    """The file without its copies (or the emptied block) and with the shared file included."""
    lines = index.parsed[copy.path].text.split("\n")
    moved = {e.name for e in copy.entries}
    keeps = [k for k, _ in copy.block.value if isinstance(k, ScalarNode) and k.value not in moved]
    if keeps:
        spans = [(e.first, e.last) for e in copy.entries]
    else:
        spans = [(copy.block_key.start_mark.line, max(copy.block_key.start_mark.line, last_line(copy.block)))]
    edits: list[tuple[int, int, list[str]]] = [(a, b, []) for a, b in spans]
    if not existing:
        rel = _relative(shared, copy.path)
        try:
            at, insert = _include_edit(_doc(index, copy.path), lines, rel)
        except NotProposable as exc:
            raise NotProposable(f"{copy.path}: {exc}") from None
        edits.append((at, at - 1, insert))
    for start, end, insert in sorted(edits, key=lambda s: (s[0], s[1]), reverse=True):
        lines[start : end + 1] = insert
        blank_above = start == 0 or not lines[start - 1].strip()
        if not insert and start < len(lines) and not lines[start].strip() and blank_above:
            del lines[start]  # no double blank line where the copy was
    return "\n".join(lines)


def _resources(doc: Any) -> dict[str, dict[str, Any]]:
    if not isinstance(doc, dict):
        return {}
    return {k: dict(doc[k]) for k in MERGED_BY_INCLUDE if isinstance(doc.get(k), dict)}


def _resolved(doc: dict[str, Any], included: dict[str, dict[str, Any]], path: str) -> dict[str, Any]:
    """A file with its include resolved: the included resources merged into its own, clashes refused."""
    out = {k: v for k, v in doc.items() if k != "include"}
    for block, entries in included.items():
        mine = dict(out.get(block) or {})
        clash = sorted(set(mine) & set(entries))
        if clash:
            raise NotProposable(f"{path} would define `{block}: {clash[0]}:` both itself and through include")
        out[block] = {**mine, **entries}
    return out


def _parse(text: str, path: str) -> dict[str, Any]:
    docs, problem = compose_documents(text)
    if problem is not None or len(docs) != 1:
        why = problem.message if problem else "not one document"
        raise NotProposable(f"the rewritten {path} would not parse: {why}")
    value = to_python(docs[0])
    if not isinstance(value, dict):
        raise NotProposable(f"the rewritten {path} is not a mapping")
    return value


def _verify(copies: list[_FileCopies], index: InfraIndex, block: str, shared: str, existing: bool,
            shared_text: str, new_texts: dict[str, str]) -> None:
    shared_doc = _parse(shared_text, shared)
    new_shared = _resources(shared_doc)
    for e in copies[0].entries:
        if new_shared.get(block, {}).get(e.name) != e.value:
            raise NotProposable(f"the shared file {shared} does not define `{block}: {e.name}:` as "
                                "the copies do")
    old_shared = _resources(to_python(_doc(index, shared))) if existing else {}
    for c in copies:
        old = to_python(_doc(index, c.path))
        new = _parse(new_texts[c.path], c.path)
        want = list(old.get("include") or [])
        if not existing:
            want.append(_relative(shared, c.path))
        if list(new.get("include") or []) != want:
            raise NotProposable(f"the rewritten {c.path} does not include {shared} as expected")
        if _resolved(new, new_shared, c.path) != _resolved(old, old_shared, c.path):
            raise NotProposable(f"resolving the include in {c.path} does not give back the original file")


def compose_include(cluster: DuplicateCluster, index: InfraIndex) -> Proposal:
    """The checked include proposal for compose resources copied across files, or `NotProposable` why."""
    first = cluster.occurrences[0]
    if first.container == "top" and first.label.startswith("x-"):
        raise _x_block_refusal(cluster)
    if len(cluster.files) < 2:
        raise NotProposable("the copies share one file; a YAML anchor fits better than include")
    if not cluster.exact:
        what = ", ".join(dict.fromkeys(p.name for p in cluster.parameters)) or "their values"
        raise NotProposable(f"the copies differ in {what}; an included file defines each resource once, "
                            "so only identical copies can share it")
    block = first.label if first.container == "top" else first.container
    copies = _copies_of(cluster, index, block)
    _check_same(copies, block)
    shared, existing = _shared_location(copies, index)
    _check_paths(copies, shared, index, block)
    shared_text = _shared_text(copies, index, block, shared, existing)
    new_texts = {c.path: _rewrite(c, index, shared, existing) for c in copies}
    _verify(copies, index, block, shared, existing, shared_text, new_texts)
    names = ", ".join(e.name for e in copies[0].entries)
    what = f"`{block}:` {names}"
    how = f"adds them to {shared}, which each file includes already" if existing else \
        f"moves them into a new {shared} and adds it to each file's `include:` (a path relative to the file)"
    return dedup_proposal(
        index,
        title=f"Share {what} of {len(copies)} compose files through include of {shared}",
        rationale=(
            f"{what} {'is' if len(copies[0].entries) == 1 else 'are'} copied into "
            f"{', '.join(c.path for c in copies)} ({cluster.lines_each} lines each). "
            f"This {how} and deletes the copies: compose merges an included file's resources into the "
            "project, and a name defined both locally and in an included file is an error. `include:` needs "
            "Docker Compose 2.20 or later."
        ),
        created=None if existing else {shared: shared_text},
        modified={**new_texts, **({shared: shared_text} if existing else {})},
    )
