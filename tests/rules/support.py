"""Position helpers the rule tests share: where a token is in a test's text, and where a finding points."""

from __future__ import annotations

import textwrap

from core.models import Finding

Span = tuple[int, int, int | None, int | None]


def at(text: str, token: str, nth: int = 1) -> tuple[int, int, int]:
    """(line, column, end column) of the nth occurrence of `token` in the dedented text."""
    body = textwrap.dedent(text)
    index = -1
    for _ in range(nth):
        index = body.index(token, index + 1)
    line = body.count("\n", 0, index) + 1
    column = index - (body.rfind("\n", 0, index) + 1) + 1
    return line, column, column + len(token)


def where(finding: Finding) -> tuple[int, int, int | None]:
    """(line, column, end column) a finding points at, to compare with `at`."""
    return finding.position.line, finding.position.column, finding.position.end_column


def spans(findings: list[Finding]) -> list[Span]:
    return [(f.line, f.position.column, f.position.end_line, f.position.end_column) for f in findings]


def sliced(text: str, findings: list[Finding]) -> list[str]:
    """The exact source text each single-line finding points at."""
    lines = text.splitlines()
    return [lines[f.line - 1][f.position.column - 1:(f.position.end_column or 0) - 1] for f in findings]
