"""A hit may carry its own severity: the engine uses it over the rule's default, and a configured
override still wins. The rule here is a real `Rule` object run by the real engine, not registered, so
the catalogue other tests see is untouched."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.models import FileKind, InfraFile, Position, Severity
from core.parsing import ParsedFile, parse_text
from core.rules.base import Hit, Rule, ScanContext
from core.scan import ScanConfig, scan_file

Seen = tuple[int, Severity]
TEXT = "FROM alpine:3.20\nRUN echo one\nRUN echo two\n"


def _two_hits(parsed: ParsedFile, ctx: ScanContext) -> Iterator[Hit]:
    yield Hit(Position(2), "weighty case", severity=Severity.HIGH)
    yield Hit(Position(3), "ordinary case")


RULE = Rule("DT-T900", "two weights", Severity.LOW, frozenset({FileKind.DOCKERFILE}), "test rule", _two_hits)


def _scan(config: ScanConfig) -> list[Seen]:
    file = InfraFile("Dockerfile", FileKind.DOCKERFILE, len(TEXT), hashlib.sha256(TEXT.encode()).hexdigest())
    findings = scan_file(parse_text(file, TEXT), ScanContext(Path(".")), [RULE], config)
    return [(f.position.line, f.severity) for f in findings]


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        (ScanConfig(), [(2, Severity.HIGH), (3, Severity.LOW)]),
        (ScanConfig(severity_overrides={"DT-T900": Severity.MEDIUM}),
         [(2, Severity.MEDIUM), (3, Severity.MEDIUM)]),
        # INFO is 0: an override to it must still win over the hit's own severity
        (ScanConfig(severity_overrides={"DT-T900": Severity.INFO}), [(2, Severity.INFO), (3, Severity.INFO)]),
        (ScanConfig(min_severity=Severity.HIGH), [(2, Severity.HIGH)]),
        (ScanConfig(severity_overrides={"DT-T900": Severity.INFO}, min_severity=Severity.LOW), []),
    ],
    ids=["hit-over-default", "override-wins", "info-override-wins", "threshold-per-hit", "override-below"],
)
def test_hit_severity_between_default_and_override(config: ScanConfig, expected: list[Seen]) -> None:
    assert _scan(config) == expected
