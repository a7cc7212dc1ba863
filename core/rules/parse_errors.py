"""DT-P001: a file that fails to parse is a finding, never a silent skip (zizmor skips such files)."""

from __future__ import annotations

from collections.abc import Iterator

from core.models import FileKind, Position, Severity
from core.parsing import ParsedFile
from core.rules.base import Hit, ScanContext, rule


@rule(
    "DT-P001",
    "File does not parse",
    Severity.MEDIUM,
    [k for k in FileKind if k is not FileKind.OTHER],
    help="""
The file could not be parsed, so no other rule could check it and the tool that consumes it (Docker,
Compose, GitHub Actions, GitLab, kubectl) will reject it or, worse, read it differently than you think.
Fix the syntax error at the reported line.
""",
    aliases=("kics:Invalid YAML",),
    tags=("correctness",),
)
def parse_error(parsed: ParsedFile, ctx: ScanContext) -> Iterator[Hit]:
    problem = parsed.problem
    if problem is not None:
        yield Hit(Position(problem.line, problem.column), problem.message, anchor=problem.message)


@rule(
    "DT-P002",
    "File is not valid UTF-8",
    Severity.LOW,
    list(FileKind),
    help="""
The file contains bytes that are not UTF-8. They were read with replacement characters, so rules may
have missed something on those lines, and most tools reading this file expect UTF-8. Re-encode it.
""",
    tags=("correctness",),
)
def not_utf8(parsed: ParsedFile, ctx: ScanContext) -> Iterator[Hit]:
    note = parsed.file.decode_note
    if note:
        line = next((n for n, text in enumerate(parsed.lines, 1) if "\ufffd" in text), 1)
        yield Hit(Position(line), note, anchor="utf8")
