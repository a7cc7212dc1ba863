"""SARIF 2.1.0 as GitHub code scanning reads it.

Every rule carries id, short and full description, help (text and markdown), default level,
`properties.tags`, `properties.security-severity` and `properties.aliases`; every result carries a
region with start/end line *and* column, a repo-relative URI with `%SRCROOT%` as base, and
`partialFingerprints.primaryLocationLineHash` (our content-based fingerprint, stable across edits).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from urllib.parse import quote

from core import __version__
from core.models import Finding, Severity
from core.rules.base import Rule

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
#: GitHub maps security-severity > 9 critical, > 7 high, > 4 medium, else low.
_SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "1.0",
}


def _rule_descriptor(rule: Rule) -> dict[str, object]:
    aliases = list(rule.aliases)
    also = f"\n\nEquivalent rules: {', '.join(aliases)}." if aliases else ""
    return {
        "id": rule.id,
        "name": "".join(w.capitalize() for w in rule.title.replace("/", " ").split()[:8]),
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.help.split("\n\n")[0].replace("\n", " ")},
        "help": {"text": rule.help + also, "markdown": f"**{rule.title}**\n\n{rule.help}{also}"},
        "defaultConfiguration": {"level": _LEVEL[rule.severity]},
        "properties": {
            "tags": sorted({*rule.tags, "security"} if "security" in rule.tags else set(rule.tags)),
            "security-severity": _SECURITY_SEVERITY[rule.severity],
            "precision": "high",
            "aliases": aliases,
        },
    }


def _result(finding: Finding, rule_index: dict[str, int]) -> dict[str, object]:
    pos = finding.position
    region: dict[str, int] = {"startLine": pos.line, "startColumn": max(1, pos.column)}
    region["endLine"] = max(pos.last_line, pos.line)
    if pos.end_column is not None and pos.end_column < 10_000:
        region["endColumn"] = max(pos.end_column, 1 if region["endLine"] > pos.line else pos.column + 1)
    result: dict[str, object] = {
        "ruleId": finding.rule_id,
        "level": _LEVEL[finding.severity],
        "message": {"text": finding.message},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": quote(finding.path), "uriBaseId": "%SRCROOT%"},
                    "region": region,
                }
            }
        ],
        "partialFingerprints": {"primaryLocationLineHash": finding.fingerprint},
        "properties": {"severity": finding.severity.label},
    }
    if finding.rule_id in rule_index:
        result["ruleIndex"] = rule_index[finding.rule_id]
    return result


def render_sarif(findings: Sequence[Finding], rules: dict[str, Rule]) -> str:
    """A SARIF log with one run; the driver lists every rule that ran (GitHub likes the full set)."""
    ordered = sorted(rules.values(), key=lambda r: r.id)
    rule_index = {rule.id: i for i, rule in enumerate(ordered)}
    log = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "devops-tui",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "rules": [_rule_descriptor(r) for r in ordered],
                    }
                },
                "originalUriBaseIds": {"%SRCROOT%": {"description": {"text": "The repository root."}}},
                "results": [_result(f, rule_index) for f in findings],
                "columnKind": "unicodeCodePoints",
            }
        ],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"
