"""The DT-S rules through the real scan engine: positions, messages, severities, suppressions."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from core.discovery import build_index
from core.models import FileKind, Severity
from core.redact import redact
from core.rules.base import registered_rules
from core.scan import scan_index, scan_text
from core.secrets import DETECTORS
from tests.secrets.planted import PLANTED, planted_files

PLANTED_BY_ID = {d: v for d, v, _ in PLANTED}
GHP = PLANTED_BY_ID["github-pat"]
AKIA = PLANTED_BY_ID["aws-access-token"]
STRIPE_TEST = PLANTED_BY_ID["stripe-test-key"]

DOCKERFILE = f"""\
FROM node:20-alpine AS build
WORKDIR /app
COPY package*.json ./
ENV NPM_CONFIG_LOGLEVEL=warn \\
    GH_PACKAGES_TOKEN={GHP}
RUN npm ci
"""


def test_registry_metadata_for_every_secret_rule() -> None:
    rules = {rid: r for rid, r in registered_rules().items() if rid.startswith("DT-S")}
    assert set(rules) == {d.rule_id for d in DETECTORS}
    for rule in rules.values():
        assert rule.help.count(".") >= 2 and len(rule.help) > 120, rule.id
        assert rule.aliases or rule.id in ("DT-S012", "DT-S021", "DT-S025"), rule.id
        assert "secrets" in rule.tags
    assert rules["DT-S001"].severity is Severity.CRITICAL and rules["DT-S008"].severity is Severity.LOW
    assert rules["DT-S019"].severity is Severity.MEDIUM
    assert "gitleaks:aws-access-token" in rules["DT-S001"].aliases
    assert "detect-secrets:AWSKeyDetector" in rules["DT-S001"].aliases
    assert rules["DT-S019"].kinds == frozenset(
        {
            FileKind.ENV,
            FileKind.SHELL,
            FileKind.YAML,
            FileKind.OTHER,
            FileKind.GHA_WORKFLOW,
            FileKind.GHA_ACTION,
        }
    )
    assert rules["DT-S003"].kinds == frozenset(FileKind)


def test_token_in_a_dockerfile_env_points_at_the_value() -> None:
    (finding,) = [f for f in scan_text("Dockerfile", DOCKERFILE) if f.rule_id.startswith("DT-S")]
    assert finding.rule_id == "DT-S003" and finding.severity is Severity.CRITICAL
    pos = finding.position
    assert (pos.line, pos.column, pos.end_line, pos.end_column) == (5, 23, 5, 63)
    assert finding.message == f"GitHub personal access token {redact(GHP)}"
    assert finding.message.startswith("GitHub personal access token ghp_…[sha256:")
    assert GHP not in finding.message and finding.snippet == ""
    assert dict(finding.extra) == {"detector": "github-pat", "value_start": "5:23", "value_end": "5:63"}


def test_keyword_finding_names_the_variable_and_gives_fix_data() -> None:
    (finding,) = scan_text(".env", "APP=api\nDB_PASSWORD=Xq7-Lm2-Vz9\n")
    assert finding.rule_id == "DT-S019" and finding.severity is Severity.MEDIUM
    assert finding.message == f"Plaintext secret in DB_PASSWORD: {redact('Xq7-Lm2-Vz9')}"
    assert dict(finding.extra)["key"] == "DB_PASSWORD"
    assert (finding.position.line, finding.position.column) == (2, 13)


def test_stripe_test_key_is_low_and_live_key_critical() -> None:
    live = PLANTED_BY_ID["stripe-access-token"]
    findings = scan_text(".env", f"STRIPE_KEY={live}\nSTRIPE_TEST_KEY={STRIPE_TEST}\n")
    assert [(f.rule_id, f.severity, f.line) for f in findings] == [
        ("DT-S007", Severity.CRITICAL, 1),
        ("DT-S008", Severity.LOW, 2),
    ]


def test_private_key_finding_spans_the_whole_block() -> None:
    value = PLANTED_BY_ID["private-key"]
    text = "-----BEGIN OPENSSH PRIVATE KEY-----\n" + value + "\n-----END OPENSSH PRIVATE KEY-----\n"
    (finding,) = scan_text("deploy/id_ed25519", text)
    pos = finding.position
    n = len(value.splitlines())
    assert (finding.rule_id, pos.line, pos.column, pos.end_line, pos.end_column) == (
        "DT-S017",
        1,
        1,
        n + 2,
        len("-----END OPENSSH PRIVATE KEY-----") + 1,
    )


@pytest.mark.parametrize(
    "pragma,where",
    [
        ("# devops-tui: ignore[DT-S001]", "same"),
        ("# devops-tui: ignore[DT-S001]", "above"),
        ("# gitleaks:allow", "same"),
        ("# pragma: allowlist secret", "same"),
        ("# devops-tui: ignore[aws-access-token]", "above"),
    ],
)
def test_suppressions(pragma: str, where: str) -> None:
    line = f"AWS_ACCESS_KEY_ID={AKIA}"
    body = f"{line}  {pragma}\n" if where == "same" else f"{pragma}\n{line}\n"
    text = "#!/bin/sh\n" + body + f"export GITHUB_TOKEN={GHP}\n"
    rules = [f.rule_id for f in scan_text("ci/env.sh", text)]
    assert rules == ["DT-S003"]


def test_allowlist_comment_above_does_not_hide_a_secret() -> None:
    text = f"# gitleaks:allow\nAWS_ACCESS_KEY_ID={AKIA}\n"
    assert [f.rule_id for f in scan_text(".env", text)] == ["DT-S001"]


def test_fingerprint_survives_edits_elsewhere_and_moves() -> None:
    base = f"A=1\nGITHUB_TOKEN={GHP}\n"
    moved = f"# new header\nA=2\nB=3\n  GITHUB_TOKEN={GHP}   # used by release\n"
    (before,) = scan_text(".env", base)
    (after,) = scan_text(".env", moved)
    assert before.fingerprint == after.fingerprint and before.line != after.line
    other = scan_text(".env", "GITHUB_TOKEN=" + GHP[:-1] + "Q\n")
    assert other[0].fingerprint != before.fingerprint


def test_scan_of_a_real_repository_reports_every_planted_secret(make_repo: Callable[..., Path]) -> None:
    root = make_repo(planted_files())
    index = build_index(root)
    findings = [f for f in scan_index(index) if f.rule_id.startswith("DT-S")]
    by_path: dict[str, set[str]] = {}
    for finding in findings:
        by_path.setdefault(finding.path, set()).add(finding.rule_id)
    expected_all = {d.rule_id for d in DETECTORS}
    assert by_path[".env"] == expected_all
    assert by_path["deploy/deploy.sh"] == expected_all
    assert by_path["docs/runbook.md"] == expected_all
    # compose: the named-value rule belongs to the compose rules, every token rule still fires here
    assert by_path["docker-compose.yml"] == expected_all - {"DT-S019"}
    for finding in findings:
        for _, value, _ in PLANTED:
            assert value not in finding.message


def test_demo_repository_secrets(tmp_path: Path) -> None:
    from core.demo import make_demo_repo

    root = make_demo_repo(tmp_path / "demo")
    found = {
        (f.path, f.rule_id, f.line) for f in scan_index(build_index(root)) if f.rule_id.startswith("DT-S")
    }
    assert {
        (".env", "DT-S001", 2),
        (".env", "DT-S002", 3),
        (".env", "DT-S003", 4),
        (".env", "DT-S006", 5),
        (".env", "DT-S019", 6),
        ("services/web/Dockerfile", "DT-S003", 11),
        ("docker-compose.yml", "DT-S018", 9),
    } <= found
    assert not any(path == ".env.example" for path, _, _ in found)
