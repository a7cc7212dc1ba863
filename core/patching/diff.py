"""Diffs of a proposal, split into hunks, and the rebuild of a file from any subset of them.

Lines are split on `\\n` only and keep their endings, so `\\r\\n` files and a missing final newline
survive byte for byte. A hunk is a run of changes closer than two context windows (as in a unified
diff). `rebuild(before, after, hunks, accepted)` walks difflib's opcodes over the original lines and
takes the new lines only for opcodes of accepted hunks; accepting all gives `after`, none gives
`before`. Hunk indexes are stable for a given proposal, so the UI and the engine agree on them.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from core.patching.gate import check_path
from core.patching.masking import mask_line
from core.patching.proposal import EditAction, FileEdit, Proposal, sha256_bytes

CONTEXT = 3
Opcode = tuple[str, int, int, int, int]


class StaleFile(Exception):
    """The file on disk is no longer the one the edit was made against."""

    def __init__(self, path: str, detail: str = "") -> None:
        message = f"{path} changed since the proposal was made; regenerate it"
        super().__init__(message + (f" ({detail})" if detail else ""))
        self.path = path


def split_lines(data: bytes) -> list[bytes]:
    """Lines of `data`, each keeping its `\\n` (and `\\r` before it); no empty tail."""
    if not data:
        return []
    lines = data.split(b"\n")
    out = [line + b"\n" for line in lines[:-1]]
    if lines[-1]:
        out.append(lines[-1])
    return out


@dataclass(frozen=True, slots=True)
class DiffLine:
    """One displayed line: `tag` is ' ', '-' or '+'; `text` has no line ending."""

    tag: str
    text: str
    no_newline: bool = False  # the line had no final newline


@dataclass(frozen=True, slots=True)
class Hunk:
    """A group of nearby changes: the opcodes it owns and its lines for display."""

    index: int
    old_start: int
    old_count: int
    new_start: int
    new_count: int
    opcodes: tuple[Opcode, ...]
    lines: tuple[DiffLine, ...]

    @property
    def header(self) -> str:
        return f"@@ -{_range(self.old_start, self.old_count)} +{_range(self.new_start, self.new_count)} @@"

    @property
    def added(self) -> int:
        return sum(1 for line in self.lines if line.tag == "+")

    @property
    def removed(self) -> int:
        return sum(1 for line in self.lines if line.tag == "-")


@dataclass(frozen=True, slots=True)
class FileDiff:
    """The diff of one edit against the bytes it was made against."""

    path: str
    action: EditAction
    before: bytes | None
    after: bytes | None
    hunks: tuple[Hunk, ...]

    def unified(self, mask: bool = True) -> str:
        """The diff as unified-diff text; `mask=False` (for `git apply`) keeps secret values."""
        old_name = "/dev/null" if self.action is EditAction.CREATE else f"a/{self.path}"
        new_name = "/dev/null" if self.action is EditAction.DELETE else f"b/{self.path}"
        out = [f"--- {old_name}\n", f"+++ {new_name}\n"]
        for hunk in self.hunks:
            out.append(hunk.header + "\n")
            for line in hunk.lines:
                out.append(f"{line.tag}{mask_line(line.text) if mask else line.text}\n")
                if line.no_newline:
                    out.append("\\ No newline at end of file\n")
        return "".join(out)


def _range(start: int, count: int) -> str:
    return str(start) if count == 1 else f"{start},{count}"


def _display(line: bytes) -> tuple[str, bool]:
    text = line.decode("utf-8", errors="replace")
    if text.endswith("\n"):
        return text[:-1].removesuffix("\r"), False
    return text, True


def opcodes(old: list[bytes], new: list[bytes]) -> list[Opcode]:
    # autojunk would treat frequent lines (blank, `---`) as noise and give odd diffs on long files.
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    return [(tag, i1, i2, j1, j2) for tag, i1, i2, j1, j2 in matcher.get_opcodes()]


def make_hunks(old: list[bytes], new: list[bytes], context: int = CONTEXT,
               ops: list[Opcode] | None = None) -> tuple[Hunk, ...]:
    """Group the changes between two line lists (or their precomputed opcodes) into hunks."""
    changes = [op for op in (ops if ops is not None else opcodes(old, new)) if op[0] != "equal"]
    groups: list[list[Opcode]] = []
    for op in changes:
        if groups and op[1] - groups[-1][-1][2] <= 2 * context:
            groups[-1].append(op)
        else:
            groups.append([op])
    hunks = []
    for index, group in enumerate(groups):
        first, last = group[0], group[-1]
        old_lo, old_hi = max(0, first[1] - context), min(len(old), last[2] + context)
        new_lo = first[3] - (first[1] - old_lo)
        new_hi = last[4] + (old_hi - last[2])
        lines: list[DiffLine] = []
        cursor = old_lo
        for _tag, i1, i2, j1, j2 in group:
            lines.extend(DiffLine(" ", *_display(old[k])) for k in range(cursor, i1))
            lines.extend(DiffLine("-", *_display(old[k])) for k in range(i1, i2))
            lines.extend(DiffLine("+", *_display(new[k])) for k in range(j1, j2))
            cursor = i2
        lines.extend(DiffLine(" ", *_display(old[k])) for k in range(cursor, old_hi))
        old_count, new_count = old_hi - old_lo, new_hi - new_lo
        hunks.append(
            Hunk(index, old_lo + 1 if old_count else old_lo, old_count,
                 new_lo + 1 if new_count else new_lo, new_count, tuple(group), tuple(lines))
        )
    return tuple(hunks)


def rebuild(before: bytes, after: bytes, accepted: Iterable[int], context: int = CONTEXT) -> bytes:
    """`before` with only the accepted hunks of the diff to `after` applied."""
    old, new = split_lines(before), split_lines(after)
    ops = opcodes(old, new)
    return rebuild_lines(old, new, ops, make_hunks(old, new, context, ops), accepted)


def rebuild_lines(old: list[bytes], new: list[bytes], ops: list[Opcode], hunks: tuple[Hunk, ...],
                  accepted: Iterable[int]) -> bytes:
    """`rebuild` on already split lines, opcodes and hunks (so the engine diffs each file once)."""
    keep = set(accepted)
    chosen = {op for hunk in hunks if hunk.index in keep for op in hunk.opcodes}
    out: list[bytes] = []
    for op in ops:
        tag, i1, i2, j1, j2 = op
        out.extend(new[j1:j2] if tag != "equal" and op in chosen else old[i1:i2])
    return b"".join(out)


def current_base(root: Path, edit: FileEdit) -> bytes | None:
    """The bytes an edit was made against: carried, or read from disk and hash-checked."""
    target = check_path(root, edit.path)
    if edit.action is EditAction.CREATE:
        return None
    if edit.before is not None:
        return edit.before
    try:
        data = target.read_bytes()
    except FileNotFoundError:
        raise StaleFile(edit.path, "it no longer exists") from None
    if sha256_bytes(data) != edit.base_sha256:
        raise StaleFile(edit.path)
    return data


def file_diff(root: Path, edit: FileEdit) -> FileDiff:
    """The hunks of one edit; a create or delete is a single whole-file hunk."""
    before = current_base(root, edit)
    old = split_lines(before or b"")
    new = split_lines(edit.after or b"")
    hunks = make_hunks(old, new)
    if not hunks and edit.action is not EditAction.MODIFY:
        hunks = (Hunk(0, 0, 0, 0, 0, (), ()),)  # creating or deleting an empty file is still a change
    return FileDiff(edit.path, edit.action, before, edit.after, hunks)


def file_diffs(proposal: Proposal, root: Path) -> list[FileDiff]:
    """Every edit's diff, in proposal order; paths are gated, stale bases raise StaleFile."""
    return [file_diff(root, edit) for edit in proposal.edits]


def unified_text(proposal: Proposal, root: Path, mask: bool = True) -> str:
    """The whole proposal as one unified diff, for `fix` without `--apply` and for patch files."""
    return "".join(d.unified(mask) for d in file_diffs(proposal, root))
