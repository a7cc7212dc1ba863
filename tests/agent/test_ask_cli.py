"""`devops-tui ask` as a user runs it: a real subprocess, the real SDK, the fake server."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

from tests.agent.fake_api import FakeAnthropic, text, tool

EXEC_FORM = {"old_str": "CMD python app.py", "new_str": 'CMD ["python", "app.py"]'}
DOCKERFILE = "FROM python:3.12-slim\nCMD python app.py\n"


def ask(root: Path, *args: str, env_extra: dict[str, str] | None = None,
        cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANTHROPIC_")}
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-m", "tui.cli", "ask", *args, "--repo", str(root)],
                          capture_output=True, text=True, timeout=120, env=env, cwd=cwd or root)


def _edit_script(fake: FakeAnthropic, root: Path) -> None:
    digest = hashlib.sha256((root / "Dockerfile").read_bytes()).hexdigest()
    fake.script(
        tool("propose_edit", {"path": "Dockerfile", "file_hash": digest, "title": "Exec-form CMD",
                              "edits": [EXEC_FORM]}),
        text("I proposed an exec-form CMD."),
    )


def test_ask_streams_and_writes_a_patch_without_applying(make_repo, fake_api: FakeAnthropic, tmp_path):
    root = make_repo({"Dockerfile": DOCKERFILE})
    _edit_script(fake_api, root)
    patches = tmp_path / "patches"
    result = ask(root, "fix the CMD", "--patch-dir", str(patches), env_extra={
        "ANTHROPIC_API_KEY": "sk-ant-test", "ANTHROPIC_BASE_URL": fake_api.base_url})
    assert result.returncode == 0, result.stderr
    assert "I proposed an exec-form CMD." in result.stdout
    patch = (patches / "proposal-01.patch").read_text()
    assert '+CMD ["python", "app.py"]' in patch and "-CMD python app.py" in patch
    assert (root / "Dockerfile").read_text() == DOCKERFILE  # nothing applied
    told = fake_api.requests[1]["messages"][-1]["content"][0]["content"]
    assert "not applied" in told


def test_ask_apply_and_json(make_repo, fake_api: FakeAnthropic, tmp_path):
    root = make_repo({"Dockerfile": DOCKERFILE})
    _edit_script(fake_api, root)
    result = ask(root, "fix the CMD", "--apply", "--json", env_extra={
        "ANTHROPIC_API_KEY": "sk-ant-test", "ANTHROPIC_BASE_URL": fake_api.base_url}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    kinds = [e["event"] for e in events]
    assert "ProposalOffered" in kinds and kinds[-1] == "TurnFinished"
    assert 'CMD ["python", "app.py"]' in (root / "Dockerfile").read_text()
    undo = subprocess.run([sys.executable, "-m", "tui.cli", "undo", str(root)], capture_output=True,
                          text=True, timeout=60)
    assert undo.returncode == 0, undo.stderr
    assert (root / "Dockerfile").read_text() == DOCKERFILE


def test_ask_without_key_explains(make_repo):
    root = make_repo({"Dockerfile": DOCKERFILE})
    result = ask(root, "hi")
    assert result.returncode == 2
    assert "ANTHROPIC_API_KEY" in result.stderr


def test_ask_reports_api_failure(make_repo, fake_api: FakeAnthropic):
    from tests.agent.fake_api import Status

    fake_api.script(Status(401, "authentication_error", "bad key"))
    result = ask(make_repo({"Dockerfile": DOCKERFILE}), "hi", env_extra={
        "ANTHROPIC_API_KEY": "sk-ant-wrong", "ANTHROPIC_BASE_URL": fake_api.base_url})
    assert result.returncode == 1
    assert "rejected (401)" in result.stderr
