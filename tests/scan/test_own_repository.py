"""devops-tui's own infrastructure (its Dockerfile, CI scripts) is clean under its own scanner."""

from __future__ import annotations

from pathlib import Path

from core.config import load_config
from core.discovery import build_index
from core.rulesel import scan_config
from core.scan import scan_index

ROOT = Path(__file__).resolve().parents[2]


def test_project_is_clean_under_its_own_scan() -> None:
    config = load_config(ROOT)
    index = build_index(ROOT, exclude=config.exclude)
    assert "Dockerfile" in index.files and "scripts/test.sh" in index.files
    findings = scan_index(index, scan_config(config))
    assert [(f.rule_id, f.path, f.line, f.message) for f in findings] == []
