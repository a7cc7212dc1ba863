"""CI mode: `.dive-ci` parsing and the real `devops-tui layers` command's exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.layers.ci import CiConfigError, CiRules, load_ci_rules
from tests.layers.archives import E, docker_archive, file, layer_tar

BASE = layer_tar([E("bin", "d"), file("bin/sh", 9000, 0o755)])
WASTEFUL = layer_tar([file("junk", 1000), file("id_rsa", 10)])
CLEANUP = layer_tar([E(".wh.junk")])


def test_dive_keys_both_styles_and_disabled_values() -> None:
    camel = load_ci_rules("rules:\n  lowestEfficiency: 0.95\n  highestWastedBytes: 20MB\n"
                          "  highestUserWastedPercent: disabled\n")
    assert camel == CiRules(lowest_efficiency=0.95, highest_wasted_bytes=20_000_000,
                            highest_user_wasted_percent=None)
    snake = load_ci_rules("rules:\n  lowest_efficiency: off\n  highest_wasted_bytes: 1.5MiB\n"
                          "  max_layers: 12\n  forbid_visible: ['/root/.ssh/*', '*.pem']\n"
                          "  max_layer_wasted_bytes: 2kb\n")
    assert snake.lowest_efficiency is None and snake.highest_wasted_bytes == int(1.5 * 2**20)
    assert snake.highest_user_wasted_percent == 0.1  # dive's default stays
    assert (snake.max_layers, snake.forbid_visible, snake.max_layer_wasted_bytes) == (
        12, ("/root/.ssh/*", "*.pem"), 2000)
    assert load_ci_rules("lowestEfficiency: false\n").lowest_efficiency is None
    assert load_ci_rules("") == CiRules()


@pytest.mark.parametrize("text, words", [
    ("rules:\n  lowestEficiency: 0.9\n", "unknown rule"),
    ("rules:\n  lowestEfficiency: 1.5\n", "outside 0..1"),
    ("rules:\n  highestWastedBytes: lots\n", "as a size"),
    ("rules: [1, 2]\n", "must be a mapping"),
    ("rules:\n  lowestEfficiency: [\n", "not valid YAML"),
])
def test_bad_ci_config_is_explained(text: str, words: str) -> None:
    with pytest.raises(CiConfigError, match=words):
        load_ci_rules(text)


def _run(args: list[str], cwd: Path, ci_env: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    if ci_env is not None:
        env["CI"] = ci_env
    return subprocess.run([sys.executable, "-m", "tui.cli", "layers", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    return docker_archive(tmp_path / "img.tar", [BASE, WASTEFUL, CLEANUP],
                          ["/bin/sh -c #(nop) ADD file:a in /", "/bin/sh -c make", "/bin/sh -c rm /junk"])


def test_exit_codes(archive: Path, tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    strict = tmp_path / "strict.yml"
    strict.write_text("rules:\n  highestWastedBytes: 999\n")
    loose = tmp_path / "loose.yml"
    loose.write_text("rules:\n  highestWastedBytes: 1000\n  lowest_efficiency: 0.5\n"
                     "  highestUserWastedPercent: off\n")
    failed = _run([str(archive), "--ci", "--ci-config", str(strict)], cwd=root)
    assert failed.returncode == 1, failed.stderr
    assert "FAIL  highestWastedBytes" in failed.stdout and "Result: FAIL" in failed.stdout
    passed = _run([str(archive), "--ci-config", str(loose)], ci_env="true", cwd=root)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "Result: PASS" in passed.stdout
    no_ci = _run([str(archive), "--ci-config", str(strict)], cwd=root)
    assert no_ci.returncode == 0 and "CI rules" not in no_ci.stdout
    bad_config = tmp_path / "bad.yml"
    bad_config.write_text("rules:\n  nope: 1\n")
    errored = _run([str(archive), "--ci", "--ci-config", str(bad_config)], cwd=root)
    assert errored.returncode == 2 and "unknown rule 'nope'" in errored.stderr
    truncated = tmp_path / "cut.tar"
    truncated.write_bytes(archive.read_bytes()[:6000])
    cut = _run([str(truncated), "--ci"], cwd=root)
    assert cut.returncode == 2 and "truncated" in cut.stderr and "Result" not in cut.stdout


def test_dive_metrics_and_forbidden_paths_gate(archive: Path, tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    rules = tmp_path / ".dive-ci"
    rules.write_text("rules:\n  forbidVisible: ['/id_*']\n  lowestEfficiency: disabled\n"
                     "  highestUserWastedPercent: disabled\n")
    result = _run([str(archive), "--ci", "--ci-config", str(rules), "--json", "--metrics", "dive"], root)
    assert result.returncode == 1
    data = json.loads(result.stdout)
    assert data["wasted_bytes"] == 1000 and data["dive"]["wasted_bytes"] == 1000
    assert data["ci"]["results"][-1]["message"] == "forbidden paths are visible: /id_rsa"
    assert any(h["rule"] == "secret-file" for h in data["hints"])


def test_text_report_and_missing_engine(archive: Path, tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["DOCKER_HOST"] = f"unix://{tmp_path}/no-engine.sock"
    text = subprocess.run([sys.executable, "-m", "tui.cli", "layers", str(archive)], cwd=root, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert text.returncode == 0, text.stderr
    assert "Efficiency 90.01%" in text.stdout and "/junk  deleted" in text.stdout
    image = subprocess.run([sys.executable, "-m", "tui.cli", "layers", "some/image:1"], cwd=root, env=env,
                           capture_output=True, text=True, timeout=120, check=False)
    assert image.returncode == 2
    assert "cannot reach the Docker engine" in image.stderr and "docker save" in image.stderr
    assert "Traceback" not in image.stderr
