"""`devops-tui fix` as a user runs it: a real process on a real repository."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

FILES = {
    "Dockerfile": "# API image\nFROM python:3.12-slim\nRUN pip install flask==3.0.2\nUSER 10001\n"
                  "HEALTHCHECK NONE\nCMD flask run\n",
    "docker-compose.yml": "services:\n  db:\n    image: postgres:16.3\n    environment:\n"
                          "      POSTGRES_PASSWORD: Xk9vQ2mLp7Rw4tZa\n    cap_drop: [ALL]\n",
    ".github/workflows/ci.yml": "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n"
                                "      - uses: actions/checkout@v4\n",
}


def _run(root: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tui.cli", *args], cwd=root, capture_output=True, text=True,
                          timeout=120, env={**os.environ, **(env or {})})


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and ".git" not in p.relative_to(root).parts}


def test_diff_mode_prints_and_writes_nothing(make_repo: Callable[..., Path]) -> None:
    root = make_repo(FILES)
    before = _tree(root)
    result = _run(root, "fix", ".")
    assert result.returncode == 0, result.stderr
    assert "--- a/Dockerfile\n+++ b/Dockerfile\n" in result.stdout
    assert "+RUN pip install --no-cache-dir flask==3.0.2\n" in result.stdout
    assert '+CMD ["flask", "run"]\n' in result.stdout
    assert "--- /dev/null\n+++ b/.env.example\n" in result.stdout
    assert "Xk9vQ2mLp7Rw4tZa" not in result.stdout + result.stderr  # the secret is masked
    assert "DT-G004: pinning needs GITHUB_TOKEN and network access; not offered" in result.stderr
    assert _tree(root) == before


def test_apply_writes_and_undo_restores_the_bytes(make_repo: Callable[..., Path]) -> None:
    root = make_repo(FILES)
    before = _tree(root)
    result = _run(root, "fix", ".", "--rule", "DL3042", "--rule", "DT-D032", "--apply")
    assert result.returncode == 0, result.stderr
    assert "Fix 2 findings (DT-D026, DT-D032) in Dockerfile [safe]" in result.stdout
    lines = (root / "Dockerfile").read_text().splitlines()
    assert lines[2:] == ["RUN pip install --no-cache-dir flask==3.0.2", "USER 10001", "HEALTHCHECK NONE",
                         'CMD ["flask", "run"]']
    assert (root / "docker-compose.yml").read_bytes() == before["docker-compose.yml"]  # not selected
    rescan = _run(root, "scan", ".", "--format", "json", "--fail-on", "none")
    assert '"DT-D026"' not in rescan.stdout and '"DT-D032"' not in rescan.stdout
    undo = _run(root, "undo", ".")
    assert undo.returncode == 0, undo.stderr
    assert _tree(root) == before


def test_safe_only_apply_and_nothing_left(make_repo: Callable[..., Path]) -> None:
    root = make_repo(FILES)
    first = _run(root, "fix", "--safe-only", "--apply")
    assert first.returncode == 0, first.stderr
    assert "[safe]" in first.stdout
    assert not (root / ".env.example").exists()  # moving the secret needs review
    again = _run(root, "fix", "--safe-only", "--apply")
    assert again.returncode == 0 and "nothing to fix" in again.stderr


def test_a_file_path_limits_the_fixes(make_repo: Callable[..., Path]) -> None:
    root = make_repo(FILES)
    result = _run(root, "fix", "docker-compose.yml")
    assert result.returncode == 0, result.stderr
    assert "b/docker-compose.yml" in result.stdout and "b/Dockerfile" not in result.stdout


def test_usage_errors_exit_2(make_repo: Callable[..., Path]) -> None:
    root = make_repo(FILES)
    assert _run(root, "fix", "--rule", "NOPE-1").returncode == 2
    assert _run(root, "fix", "--commit").returncode == 2
    assert _run(root, "fix", "missing-folder").returncode == 2
    pinning = _run(root, "fix", "--rule", "zizmor:unpinned-uses")
    assert pinning.returncode == 0 and "pinning needs GITHUB_TOKEN" in pinning.stderr


def test_refused_apply_exits_1_and_says_why(make_repo: Callable[..., Path]) -> None:
    root = make_repo(FILES)
    crash = {"DEVOPS_TUI_TEST_CRASH_AFTER_FILES": "1"}
    crashed = _run(root, "fix", "--rule", "DT-C013", "--apply", env=crash)
    assert crashed.returncode != 0  # killed mid-way by the engine's fault injection
    refused = _run(root, "fix", "--rule", "DT-D026", "--apply")
    assert refused.returncode == 1
    assert "interrupted" in refused.stderr
