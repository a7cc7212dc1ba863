"""Helpers for patch-engine tests: a byte-exact snapshot of a folder tree."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

Snapshot = dict[str, tuple[str, bytes | str, int]]


def tree_snapshot(root: Path) -> Snapshot:
    """Every entry under `root` except .git/: kind, bytes (or link target) and mode."""
    snap: Snapshot = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d != ".git"]
        for name in dirs + files:
            path = Path(folder) / name
            rel = path.relative_to(root).as_posix()
            info = path.lstat()
            if stat.S_ISLNK(info.st_mode):
                snap[rel] = ("link", os.readlink(path), 0)
            elif stat.S_ISDIR(info.st_mode):
                snap[rel] = ("dir", b"", stat.S_IMODE(info.st_mode))
            else:
                snap[rel] = ("file", path.read_bytes(), stat.S_IMODE(info.st_mode))
    return snap


@pytest.fixture
def snapshot_tree() -> type[object]:
    """Expose `tree_snapshot` to tests without importing across test packages."""
    return tree_snapshot  # type: ignore[return-value]
