"""Small text-edit helpers for producers, and the builders of `FileEdit`s from the file on disk.

A fix is a minimal text edit placed by parse positions (1-based lines and columns, end column
exclusive, as `core.models.Position`), then checked with `assert_only_span_changed`: the result must
still parse and every line outside the edited span must be byte-identical. Text is decoded with
`surrogateescape` so undecodable bytes round-trip; lines split on `\\n` only, so `\\r` stays with its line.
`make_modify` reads the current bytes, records their hash and keeps the file's line endings, final
newline and byte-order mark even when the producer's text forgot them.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from pathlib import Path

from core.patching.gate import PathRefused, check_path
from core.patching.proposal import EditAction, FileEdit, sha256_bytes
from core.yamlnodes import compose_documents

BOM = "\ufeff"


class EditCheckFailed(ValueError):
    """A producer's edit touched more than it meant to, or broke the file; a bug in the producer."""


def decode(data: bytes) -> str:
    return data.decode("utf-8", errors="surrogateescape")


def encode(text: str) -> bytes:
    return text.encode("utf-8", errors="surrogateescape")


def _lines(text: str) -> list[str]:
    """Lines keeping their endings; split on `\\n` only."""
    parts = text.split("\n")
    out = [p + "\n" for p in parts[:-1]]
    if parts[-1]:
        out.append(parts[-1])
    return out


def newline_of(text: str) -> str:
    """The file's line ending: CRLF when most lines end so, else LF."""
    crlf = text.count("\r\n")
    return "\r\n" if crlf and crlf >= text.count("\n") - crlf else "\n"


def _offset(lines: list[str], line: int, column: int, what: str) -> int:
    if not 1 <= line <= len(lines) + 1:
        raise ValueError(f"{what} line {line} is outside the text (1..{len(lines)})")
    start = sum(len(t) for t in lines[: line - 1])
    body = lines[line - 1].rstrip("\r\n") if line <= len(lines) else ""
    if not 1 <= column <= len(body) + 1:
        raise ValueError(f"{what} column {column} is outside line {line} (1..{len(body) + 1})")
    return start + column - 1


def replace_span(text: str, line: int, col: int, end_line: int, end_col: int, new: str) -> str:
    """Replace the text from (line, col) up to, not including, (end_line, end_col)."""
    lines = _lines(text)
    start = _offset(lines, line, col, "start")
    end = _offset(lines, end_line, end_col, "end")
    if end < start:
        raise ValueError(f"span ends ({end_line}:{end_col}) before it starts ({line}:{col})")
    return text[:start] + new + text[end:]


def insert_after_line(text: str, line: int, new: str) -> str:
    """Insert `new` (one or more lines) after line `line`; 0 inserts at the top.

    The inserted lines take the file's line ending; a last line without a newline gets one first.
    """
    lines = _lines(text)
    if not 0 <= line <= len(lines):
        raise ValueError(f"line {line} is outside the text (0..{len(lines)})")
    eol = newline_of(text)
    block = new.replace("\r\n", "\n").replace("\n", eol)
    if not block.endswith(eol):
        block += eol
    if line and not lines[line - 1].endswith("\n"):
        lines[line - 1] += eol
        block = block[: -len(eol)]  # keep the file's "no final newline" at the end
    lines.insert(line, block)
    return "".join(lines)


def assert_only_span_changed(
    old: str, new: str, spans: Iterable[tuple[int, int]], *, yaml: bool = False
) -> None:
    """Raise EditCheckFailed unless every change lies within `spans` (1-based inclusive old lines).

    An insertion is allowed right before, inside or right after a span. With `yaml=True` the new text
    must also compose as YAML (when the old one did).
    """
    allowed = [(a, b) for a, b in spans]
    old_lines, new_lines = _lines(old), _lines(new)
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    for tag, i1, i2, _j1, _j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        if i1 == i2:  # pure insertion between old lines i1 and i1 + 1
            ok = any(a - 1 <= i1 <= b for a, b in allowed)
        else:
            ok = any(a <= i1 + 1 and i2 <= b for a, b in allowed)
        if not ok:
            where = f"after line {i1}" if i1 == i2 else f"lines {i1 + 1}-{i2}"
            raise EditCheckFailed(f"the edit changed {where}, outside the intended span(s) {allowed}")
    if yaml:
        _, problem = compose_documents(new)
        if problem is not None and compose_documents(old)[1] is None:
            raise EditCheckFailed(f"the edit breaks the YAML: line {problem.line}: {problem.message}")


def _fit_to(before: str, new_text: str) -> str:
    """`new_text` with `before`'s CRLF endings, final-newline presence and BOM."""
    if before.startswith(BOM) and not new_text.startswith(BOM):
        new_text = BOM + new_text
    if not new_text.strip(BOM) or not before.strip(BOM):
        return new_text
    eol = newline_of(before)
    all_crlf = "\r\n" in before and before.count("\r\n") == before.count("\n")
    if all_crlf and new_text.count("\r\n") != new_text.count("\n"):
        new_text = new_text.replace("\r\n", "\n").replace("\n", "\r\n")
    if before.endswith("\n") and not new_text.endswith("\n"):
        new_text += eol
    elif not before.endswith("\n") and new_text.endswith("\n"):
        new_text = new_text.removesuffix("\n").removesuffix("\r")
    return new_text


def make_modify(root: Path, path: str, new_text: str) -> FileEdit:
    """A modify edit of `path` to `new_text`, recorded against the bytes on disk now."""
    target = check_path(root, path)
    try:
        before = target.read_bytes()
    except FileNotFoundError:
        raise PathRefused(path, "does not exist") from None
    after = encode(_fit_to(decode(before), new_text))
    return FileEdit(path, EditAction.MODIFY, after, sha256_bytes(before), before)


def make_create(root: Path, path: str, text: str | bytes, mode: int | None = None) -> FileEdit:
    """A create edit for a file that does not exist yet."""
    target = check_path(root, path)
    if target.exists() or target.is_symlink():
        raise PathRefused(path, "already exists")
    return FileEdit(path, EditAction.CREATE, encode(text) if isinstance(text, str) else text, mode=mode)


def make_delete(root: Path, path: str) -> FileEdit:
    """A delete edit, recorded against the bytes on disk now."""
    target = check_path(root, path)
    try:
        before = target.read_bytes()
    except FileNotFoundError:
        raise PathRefused(path, "does not exist") from None
    return FileEdit(path, EditAction.DELETE, None, sha256_bytes(before), before)
