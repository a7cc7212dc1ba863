"""A headless command whose reader goes away (`devops-tui scan | head`) stops quietly with 141, the
status a shell gives a filter killed by SIGPIPE, instead of printing a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from core.demo import make_demo_repo


def test_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    root = make_demo_repo(tmp_path / "demo")
    for command in (["scan", str(root), "--format", "json"], ["dupes", str(root), "--format", "sarif"]):
        reader, writer = os.pipe()
        os.close(reader)  # nobody will read: the first write fails
        done = subprocess.run([sys.executable, "-m", "tui.cli", *command], stdout=writer,
                              stderr=subprocess.PIPE, text=True, timeout=120, cwd=Path(__file__).parents[1])
        os.close(writer)
        assert done.returncode == 141, done.stderr
        assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr
