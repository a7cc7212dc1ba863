"""Crash-safe file operations: atomic replace with fsync, mode kept, folders made and tidied.

`write_atomic` writes a temp file in the target's own folder (same file system), fsyncs it, gives it
the wanted mode, `os.replace`s it over the target and fsyncs the folder: a reader, or a crash, sees
either the old bytes or the new ones, never a mix.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path

TEMP_SUFFIX = ".devops-tui.tmp"


def fsync_dir(folder: Path) -> None:
    """Make a rename or unlink in `folder` durable (best effort where folders cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def file_mode(path: Path) -> int | None:
    """Permission bits of an existing file, or None."""
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return None


def make_parents(path: Path) -> list[Path]:
    """Create the missing folders above `path`; returns them, outermost first."""
    missing: list[Path] = []
    parent = path.parent
    while not parent.exists():
        missing.append(parent)
        parent = parent.parent
    for folder in reversed(missing):
        folder.mkdir()
        fsync_dir(folder.parent)
    return list(reversed(missing))


def write_atomic(path: Path, data: bytes, mode: int | None = None, *, sync_dir: bool = True) -> None:
    """Replace `path` with `data`; `mode` None keeps the current mode, or the umask default when new.

    `sync_dir=False` leaves the folder fsync to the caller, who may batch it across many files.
    """
    if mode is None:
        mode = file_mode(path)
    temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}{TEMP_SUFFIX}")
    # 0o666 lets the umask decide a new file's mode, exactly as an editor creating it would.
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            if mode is not None:
                os.fchmod(handle.fileno(), mode)
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise
    if sync_dir:
        fsync_dir(path.parent)


def remove_file(path: Path, *, sync_dir: bool = True) -> None:
    """Delete `path` durably; a file already gone is fine."""
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    if sync_dir:
        fsync_dir(path.parent)


def remove_empty_folders(folders: list[Path]) -> None:
    """Remove folders this engine created, innermost first, if they are empty again."""
    for folder in sorted(folders, key=lambda p: len(p.parts), reverse=True):
        with contextlib.suppress(OSError):
            folder.rmdir()
