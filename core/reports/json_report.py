"""Machine-readable findings: one JSON document with the findings, the rules they cite and a summary."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence

from core import __version__
from core.models import Finding, SkippedFile
from core.rules.base import Rule


def finding_dict(finding: Finding) -> dict[str, object]:
    pos = finding.position
    return {
        "rule": finding.rule_id,
        "severity": finding.severity.label,
        "path": finding.path,
        "kind": finding.kind.value,
        "line": pos.line,
        "column": pos.column,
        "end_line": pos.last_line,
        "end_column": pos.end_column,
        "message": finding.message,
        "fingerprint": finding.fingerprint,
        "snippet": finding.snippet,
    }


def render_json(findings: Sequence[Finding], rules: dict[str, Rule], *,
                skipped: Sequence[SkippedFile] = ()) -> str:
    cited = sorted({f.rule_id for f in findings})
    counts = Counter(f.severity.label for f in findings)
    data = {
        "tool": {"name": "devops-tui", "version": __version__},
        "summary": {"total": len(findings), "by_severity": dict(sorted(counts.items()))},
        "findings": [finding_dict(f) for f in findings],
        "rules": {
            rid: {
                "title": rules[rid].title,
                "severity": rules[rid].severity.label,
                "help": rules[rid].help,
                "aliases": list(rules[rid].aliases),
            }
            for rid in cited
            if rid in rules
        },
        "skipped": [{"path": s.path, "reason": s.reason} for s in skipped],
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
