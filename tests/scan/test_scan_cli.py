"""`devops-tui scan` as CI runs it: a real subprocess, real repositories, documented exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BROKEN_COMPOSE = {"docker-compose.yml": "services:\n  web:\n    image: [nginx\n"}


def scan(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui.cli", "scan", *map(str, args)],
        capture_output=True, text=True, cwd=cwd, timeout=120,
    )


def test_exit_codes_follow_fail_on(make_repo):
    root = make_repo(BROKEN_COMPOSE)
    assert scan(root, "--fail-on", "medium").returncode == 1
    assert scan(root, "--fail-on", "critical").returncode == 0
    assert scan(root, "--fail-on", "none").returncode == 0


def test_clean_repo_exits_zero(make_repo):
    result = scan(make_repo({"README.md": "hello\n"}))
    assert result.returncode == 0, result.stderr
    assert "no findings" in result.stdout


def test_errors_exit_two_with_a_message(tmp_path):
    result = scan(tmp_path / "nope")
    assert result.returncode == 2
    assert "no such file or directory" in result.stderr
    result = scan(tmp_path, "--rule", "NOT-A-RULE")
    assert result.returncode == 2 and "unknown rule" in result.stderr
    (tmp_path / ".devops-tui.toml").write_text("fail-on = 3\n")
    result = scan(tmp_path)
    assert result.returncode == 2 and "fail-on must be a str" in result.stderr


@pytest.mark.parametrize("fmt", ["json", "sarif"])
def test_machine_formats_to_file(make_repo, tmp_path, fmt):
    root = make_repo(BROKEN_COMPOSE)
    out = tmp_path / f"report.{fmt}"
    result = scan(root, "--format", fmt, "--output", out, "--fail-on", "none")
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    data = json.loads(out.read_text())
    if fmt == "json":
        assert data["findings"][0]["rule"] == "DT-P001"
    else:
        assert data["runs"][0]["results"][0]["ruleId"] == "DT-P001"


def test_baseline_hides_known_findings(make_repo, tmp_path):
    root = make_repo(BROKEN_COMPOSE)
    baseline = tmp_path / "baseline.json"
    assert scan(root, "--write-baseline", baseline).returncode == 0
    result = scan(root, "--baseline", baseline, "--fail-on", "low")
    assert result.returncode == 0 and "no findings" in result.stdout
    (root / "compose.yaml").write_text("services: [\n")
    result = scan(root, "--baseline", baseline, "--fail-on", "low")
    assert result.returncode == 1 and "compose.yaml" in result.stdout
    assert "docker-compose.yml" not in result.stdout


def test_list_rules_names_every_rule():
    result = subprocess.run([sys.executable, "-m", "tui.cli", "scan", "--list-rules"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    assert "DT-P001" in result.stdout


def test_scan_does_not_import_textual(make_repo):
    root = make_repo(BROKEN_COMPOSE)
    code = (
        f"import sys; from tui.cli import main; rc = main(['scan', {str(root)!r}, '--fail-on', 'none']); "
        "assert 'textual' not in sys.modules, 'textual imported'; sys.exit(rc)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_forked_scan_matches_serial_scan(make_repo):
    """The CLI scans on every core (forked workers); the findings must equal a one-process scan."""
    from core.discovery import build_index
    from core.scan import scan_index

    files = {}
    for i in range(220):
        files[f"svc{i}/Dockerfile"] = f"FROM alpine:latest\nADD app{i}.tar /app\nRUN apt-get install curl\n"
        files[f"svc{i}/docker-compose.yml"] = (
            f"services:\n  db{i}:\n    image: postgres\n    privileged: true\n    ports: ['5432:5432']\n")
    root = make_repo(files)
    serial = scan_index(build_index(root), workers=1)
    result = scan(root, "--format", "json", "--fail-on", "none")
    assert result.returncode == 0, result.stderr
    forked = json.loads(result.stdout)["findings"]
    assert len(forked) == len(serial) > 440
    assert [(f["rule"], f["path"], f["line"], f["fingerprint"]) for f in forked] == [
        (f.rule_id, f.path, f.position.line, f.fingerprint) for f in serial]
