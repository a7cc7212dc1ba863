"""Baselines: remember today's findings by fingerprint, report only new ones tomorrow."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from core.models import Finding

FORMAT = "devops-tui-baseline/1"


class BaselineError(Exception):
    """The baseline file is missing or not one of ours."""


def write_baseline(path: Path, findings: Iterable[Finding]) -> int:
    """Record fingerprints (never messages or snippets: a baseline is often committed)."""
    entries = sorted({(f.fingerprint, f.rule_id, f.path) for f in findings})
    data = {
        "format": FORMAT,
        "findings": [{"fingerprint": fp, "rule": rule, "path": p} for fp, rule, p in entries],
    }
    path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    return len(entries)


def read_baseline(path: Path) -> frozenset[str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BaselineError(f"{path}: no such baseline file") from None
    except (OSError, ValueError) as exc:
        raise BaselineError(f"{path}: not a readable baseline ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise BaselineError(f"{path}: not a devops-tui baseline (expected format {FORMAT})")
    return frozenset(e["fingerprint"] for e in data.get("findings", []) if "fingerprint" in e)


def new_findings(findings: Iterable[Finding], known: frozenset[str]) -> list[Finding]:
    return [f for f in findings if f.fingerprint not in known]
