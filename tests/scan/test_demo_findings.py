"""The demo repository shows what the scanner does: findings in every kind of infrastructure file."""

from __future__ import annotations

from pathlib import Path

from core.demo import make_demo_repo
from core.discovery import build_index
from core.models import FileKind
from core.scan import scan_index


def test_demo_has_findings_of_every_infra_kind(tmp_path: Path) -> None:
    index = build_index(make_demo_repo(tmp_path / "demo"))
    findings = scan_index(index)
    kinds_with_findings = {f.kind for f in findings}
    infra_kinds = {f.kind for f in index.files.values() if f.kind.is_infra}
    assert infra_kinds == {k for k in FileKind if k.is_infra}
    assert infra_kinds <= kinds_with_findings, infra_kinds - kinds_with_findings
    assert not [f for f in findings if f.rule_id == "DT-X001"]  # no rule crashed on the demo
