"""Fault test: an apply SIGKILLed between files leaves whole files only, and `devops-tui undo` recovers.

The kill comes from the documented fault-injection point in `core.patching.apply`
(DEVOPS_TUI_TEST_CRASH_AFTER_FILES), in a real subprocess; undo runs as the real CLI.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from core.patching import ApplyRefused, Producer, Proposal, apply_proposal, make_modify
from core.patching.journal import EntryState, list_entries

FILES = {f"svc{i}/Dockerfile": f"FROM alpine:latest\nRUN echo {i}\n" for i in range(4)}

APPLY_SCRIPT = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from core.patching import Producer, Proposal, apply_proposal, make_modify

    root = Path(sys.argv[1])
    edits = tuple(
        make_modify(root, f"svc{i}/Dockerfile", f"FROM alpine:3.19\\nRUN echo {i}\\n") for i in range(4)
    )
    apply_proposal(root, Proposal("pin bases", "r", Producer.QUICK_FIX, edits))
    print("finished")
    """
)


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tui.cli", *args], capture_output=True, text=True,
                          env=env, timeout=60, check=False)


@pytest.mark.parametrize("crash_after", [1, 3])
def test_killed_apply_is_whole_files_and_undo_restores(make_repo: Callable[..., Path],
                                                       crash_after: int) -> None:
    root = make_repo(FILES)
    env = dict(os.environ, DEVOPS_TUI_TEST_CRASH_AFTER_FILES=str(crash_after))
    proc = subprocess.run([sys.executable, "-c", APPLY_SCRIPT, str(root)], env=env, capture_output=True,
                          text=True, timeout=60, check=False)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert "finished" not in proc.stdout
    states = []
    for rel, old in FILES.items():
        data = (root / rel).read_text()
        assert data in (old, old.replace("latest", "3.19")), f"{rel} is torn: {data!r}"
        states.append(data != old)
    assert states == [i < crash_after for i in range(4)]
    assert [e.state for e in list_entries(root)] == [EntryState.PENDING]

    # A new apply is refused until the interrupted one is resolved.
    with pytest.raises(ApplyRefused, match="interrupted"):
        apply_proposal(root, Proposal("x", "r", Producer.AGENT,
                                      (make_modify(root, "svc3/Dockerfile", "FROM busybox\n"),)))

    clean_env = {k: v for k, v in os.environ.items() if k != "DEVOPS_TUI_TEST_CRASH_AFTER_FILES"}
    undo = _cli("undo", str(root), env=clean_env)
    assert undo.returncode == 0, undo.stderr
    assert f"restored {crash_after} file" in undo.stdout
    for rel, old in FILES.items():
        assert (root / rel).read_text() == old
    leftovers = [p for p in root.rglob("*.devops-tui.tmp")]
    assert leftovers == []
    again = _cli("undo", str(root), env=clean_env)
    assert again.returncode == 1 and "nothing to undo" in again.stderr


def test_undo_cli_lists_and_reports_bad_input(make_folder: Callable[..., Path]) -> None:
    root = make_folder({"a.txt": "a\n"})
    apply_proposal(root, Proposal("change a", "r", Producer.AGENT, (make_modify(root, "a.txt", "b\n"),)))
    listed = _cli("undo", "--list", str(root))
    assert listed.returncode == 0 and "complete" in listed.stdout and "change a" in listed.stdout
    missing = _cli("undo", str(root / "nope"))
    assert missing.returncode == 2 and "not a folder" in missing.stderr
    (root / "a.txt").write_text("edited by hand\n")
    refused = _cli("undo", str(root))
    assert refused.returncode == 2
    assert "a.txt changed after devops-tui applied it" in refused.stderr
    assert "+edited by hand" in refused.stderr
    assert (root / "a.txt").read_text() == "edited by hand\n"
