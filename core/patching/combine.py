"""Combine proposals made against the same files into one, for `fix --apply` and bulk quick fixes.

Two quick fixes on one Dockerfile are each made against the same bytes; applied one after the other,
the second would be refused as stale. `combine_proposals` merges their edits file by file: each edit's
changes (difflib opcodes against the shared base) are laid side by side, and any two that overlap or
insert at the same place with different text raise `EditConflict`. Different bases also conflict.
"""

from __future__ import annotations

from collections.abc import Sequence

from core.patching.diff import opcodes, split_lines
from core.patching.proposal import EditAction, FileEdit, Producer, Proposal, Safety


class EditConflict(ValueError):
    """Two proposals change the same lines (or different versions) of a file."""


def _merge(path: str, base: bytes, afters: list[bytes]) -> bytes:
    old = split_lines(base)
    changes: list[tuple[int, int, list[bytes]]] = []
    for after in afters:
        new = split_lines(after)
        changes.extend((i1, i2, new[j1:j2]) for tag, i1, i2, j1, j2 in opcodes(old, new) if tag != "equal")
    changes.sort(key=lambda c: (c[0], c[1]))
    merged: list[tuple[int, int, list[bytes]]] = []
    for change in changes:
        if merged:
            last = merged[-1]
            if change == last:
                continue  # both proposals make the very same change
            same_insert_point = change[0] == last[0] and (change[0] == change[1] or last[0] == last[1])
            if change[0] < last[1] or same_insert_point:
                end = max(last[1], change[1])
                raise EditConflict(f"{path}: two proposals change lines {last[0] + 1}-{end}")
        merged.append(change)
    out: list[bytes] = []
    cursor = 0
    for i1, i2, lines in merged:
        out.extend(old[cursor:i1])
        out.extend(lines)
        cursor = i2
    out.extend(old[cursor:])
    return b"".join(out)


def combine_proposals(proposals: Sequence[Proposal], title: str, rationale: str = "",
                      producer: Producer = Producer.QUICK_FIX) -> Proposal:
    """One proposal holding every edit; edits of one file are merged or raise EditConflict."""
    by_path: dict[str, list[FileEdit]] = {}
    for proposal in proposals:
        for edit in proposal.edits:
            by_path.setdefault(edit.path, []).append(edit)
    edits: list[FileEdit] = []
    for path, group in by_path.items():
        first = group[0]
        if len(group) == 1:
            edits.append(first)
            continue
        if any(e.action is not EditAction.MODIFY for e in group):
            raise EditConflict(f"{path}: only modifications of one file can be combined")
        if len({e.base_sha256 for e in group}) != 1 or first.before is None:
            raise EditConflict(f"{path}: the proposals were made against different versions (or lack them)")
        after = _merge(path, first.before, [e.after or b"" for e in group])
        edits.append(FileEdit(path, EditAction.MODIFY, after, first.base_sha256, first.before))
    safety = Safety.SAFE if all(p.safety is Safety.SAFE for p in proposals) else Safety.REVIEW
    fingerprints = tuple(dict.fromkeys(f for p in proposals for f in p.finding_fingerprints))
    rules = tuple(dict.fromkeys(r for p in proposals for r in p.rule_ids))
    why = rationale or "\n\n".join(f"{p.title}: {p.rationale}" for p in proposals)
    return Proposal(title, why, producer, tuple(edits), fingerprints, rules, safety)
