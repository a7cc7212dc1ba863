"""Reports: text, JSON and SARIF (validated against the official schema), baselines, config."""

from __future__ import annotations

import json

import jsonschema
import pytest

from core.baseline import BaselineError, new_findings, read_baseline, write_baseline
from core.config import ConfigError, load_config
from core.discovery import build_index
from core.reports.json_report import render_json
from core.reports.sarif import render_sarif
from core.reports.text import render_text, summary_line
from core.rules.base import registered_rules
from core.rulesel import UnknownRule, resolve_rule_ids, scan_config
from core.scan import fingerprint, scan_index, scan_text

BROKEN = {
    "docker-compose.yml": "services:\n  web:\n    image: [nginx\n",
    ".github/workflows/ci.yml": "on: push\njobs: {build: \n",
    "notes.txt": "nothing here\n",
}


def test_parse_errors_are_findings_with_line_and_column(make_repo):
    root = make_repo(BROKEN)
    findings = scan_index(build_index(root))
    parse = [f for f in findings if f.rule_id == "DT-P001"]
    assert {f.path for f in parse} == {"docker-compose.yml", ".github/workflows/ci.yml"}
    compose = next(f for f in parse if f.path == "docker-compose.yml")
    assert compose.position.line == 3 and compose.position.column >= 1
    assert compose.kind.value == "compose"


def test_sarif_validates_against_official_schema(make_repo, sarif_schema):
    root = make_repo(BROKEN)
    findings = scan_index(build_index(root))
    assert findings
    rules = registered_rules()
    log = json.loads(render_sarif(findings, rules))
    jsonschema.validate(log, sarif_schema)
    run = log["runs"][0]
    driver_rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert set(driver_rules) == set(rules)
    for descriptor in driver_rules.values():
        assert descriptor["shortDescription"]["text"]
        assert descriptor["fullDescription"]["text"]
        assert descriptor["help"]["text"]
        assert descriptor["defaultConfiguration"]["level"] in ("error", "warning", "note")
        assert float(descriptor["properties"]["security-severity"]) > 0
        assert isinstance(descriptor["properties"]["aliases"], list)
        assert descriptor["properties"]["tags"]
    for result in run["results"]:
        loc = result["locations"][0]["physicalLocation"]
        assert not loc["artifactLocation"]["uri"].startswith("/")
        assert loc["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
        region = loc["region"]
        assert region["startLine"] >= 1 and region["startColumn"] >= 1 and region["endLine"] >= 1
        assert len(result["partialFingerprints"]["primaryLocationLineHash"]) == 32
        assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == result["ruleId"]


def test_json_and_text_reports(make_repo):
    root = make_repo(BROKEN)
    findings = scan_index(build_index(root))
    data = json.loads(render_json(findings, registered_rules()))
    assert data["summary"]["total"] == len(findings) == len(data["findings"])
    assert data["rules"]["DT-P001"]["help"]
    first = data["findings"][0]
    assert {"rule", "severity", "path", "line", "column", "fingerprint", "message"} <= set(first)
    text = render_text(findings)
    assert "docker-compose.yml" in text and "DT-P001" in text
    assert text.strip().endswith(summary_line(findings))
    assert "\033[" not in text
    assert "\033[" in render_text(findings, colour=True)


def test_fingerprint_survives_unrelated_edit_above():
    before = "services:\n  web:\n    image: [nginx\n"
    after = "# a comment added above\n\n" + before
    fp1 = scan_text("docker-compose.yml", before)[0].fingerprint
    fp2 = scan_text("docker-compose.yml", after)[0].fingerprint
    assert scan_text("docker-compose.yml", after)[0].position.line == 5  # clamped to the last line
    assert fp1 == fp2
    assert fingerprint("A", "p", "x", 0) != fingerprint("A", "p", "x", 1)


def test_baseline_round_trip(make_repo, tmp_path):
    root = make_repo(BROKEN)
    findings = scan_index(build_index(root))
    path = tmp_path / "baseline.json"
    assert write_baseline(path, findings) == len({f.fingerprint for f in findings})
    known = read_baseline(path)
    assert new_findings(findings, known) == []
    assert "image" not in path.read_text()  # fingerprints only, no content
    (root / "Dockerfile.bad").write_text("RUN x <<EOF\n")
    later = scan_index(build_index(root))
    assert [f.path for f in new_findings(later, known)] == ["Dockerfile.bad"] * len(
        new_findings(later, known))
    bogus = tmp_path / "bogus.json"
    bogus.write_text("{}")
    with pytest.raises(BaselineError, match="not a devops-tui baseline"):
        read_baseline(bogus)
    with pytest.raises(BaselineError, match="no such baseline"):
        read_baseline(tmp_path / "missing.json")


def test_config_nearest_first_and_aliases(make_folder, tmp_path, monkeypatch):
    user = tmp_path / "xdg"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(user))
    (user / "devops-tui").mkdir(parents=True)
    (user / "devops-tui" / "config.toml").write_text('threshold = "low"\nfail-on = "critical"\n')
    root = make_folder({
        ".devops-tui.toml": 'fail-on = "medium"\ndisable = ["DT-P002"]\n',
        "pyproject.toml": '[tool.devops-tui]\nfail-on = "low"\nexclude = ["vendor/*"]\n',
    })
    config = load_config(root)
    assert config.fail_on == "medium"  # .devops-tui.toml is nearest
    assert config.exclude == ("vendor/*",)  # from pyproject
    assert config.threshold == "low"  # from the user's config
    assert len(config.sources) == 3
    settings = scan_config(config)
    assert "DT-P002" in settings.disabled and "DT-P001" not in settings.disabled


def test_config_errors_are_clear(make_folder):
    root = make_folder({".devops-tui.toml": "disable = 'DT-P001'\n"})
    with pytest.raises(ConfigError, match="disable must be a list"):
        load_config(root)
    (root / ".devops-tui.toml").write_text("threshold = 'severe'\n")
    with pytest.raises(ConfigError, match="unknown severity"):
        load_config(root)
    (root / ".devops-tui.toml").write_text("nonsense = [\n")
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_config(root)
    with pytest.raises(UnknownRule):
        resolve_rule_ids(["NOPE-1"])


def test_alias_resolution_finds_peer_ids():
    rules = registered_rules()
    with_alias = next((r for r in rules.values() if r.aliases), None)
    if with_alias is None:
        pytest.skip("no rule with aliases registered")
    alias = with_alias.aliases[0]
    assert with_alias.id in resolve_rule_ids([alias])
    assert with_alias.id in resolve_rule_ids([alias.split(":", 1)[1]])
    assert resolve_rule_ids([with_alias.id.lower()]) == {with_alias.id}


def test_excluded_paths_are_not_scanned(make_repo, tmp_path):
    root = make_repo({**BROKEN, ".devops-tui.toml": 'exclude = ["docker-compose.yml"]\n'})
    settings = scan_config(load_config(root))
    paths = {f.path for f in scan_index(build_index(root), settings)}
    assert "docker-compose.yml" not in paths and ".github/workflows/ci.yml" in paths


