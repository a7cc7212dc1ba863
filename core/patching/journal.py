"""The undo journal: what each applied proposal changed, on disk, written before any file is touched.

Each entry is a folder holding `entry.json` and the old and new bytes of every file it changes. The
engine writes the entry (state `pending`) and fsyncs it before the first file write, and marks it
`complete` after the last, so a process killed mid-apply leaves an entry `undo` can finish from:
every file is then either still old (left alone) or already new (restored). Undo restores the exact
old bytes and mode, deletes files the proposal created (and folders it made), recreates deleted ones,
and refuses — with a diff — when a file changed after the apply. It never runs git.

Location: `<repo>/.git/devops-tui/journal/` when the repository has a `.git` folder (or a gitdir
file), else `$XDG_STATE_HOME/devops-tui/journal/<hash of the repo path>/`. One lock file serialises
appliers and undoers of the same repository across processes.
"""

from __future__ import annotations

import contextlib
import difflib
import fcntl
import hashlib
import json
import os
import secrets
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from core.patching.fsio import TEMP_SUFFIX, fsync_dir, make_parents, remove_empty_folders, remove_file
from core.patching.fsio import write_atomic as _write_atomic
from core.patching.gate import PathRefused, check_path
from core.patching.masking import mask_line
from core.patching.proposal import EditAction, sha256_bytes

MAX_ENTRIES = 200
LOCK_WAIT_SECONDS = 10.0


class EntryState(StrEnum):
    PENDING = "pending"  # written before the first file; still pending after a crash
    COMPLETE = "complete"
    UNDONE = "undone"


class JournalError(Exception):
    """The journal cannot be used (busy, unreadable); the message is for the user."""


class NothingToUndo(JournalError):
    """No applied change is left to undo."""


class UndoRefused(JournalError):
    """A file changed after the apply; `diffs` show how it differs from what devops-tui wrote."""

    def __init__(self, message: str, diffs: str) -> None:
        super().__init__(message)
        self.diffs = diffs


@dataclass(frozen=True, slots=True)
class JournalFile:
    """One file of an entry: its state before and after (None: absent) and its stored blobs."""

    path: str
    action: EditAction
    old_sha256: str | None
    old_mode: int | None
    new_sha256: str | None
    new_mode: int | None
    created_dirs: tuple[str, ...] = ()
    old_blob: tuple[int, int] | None = None  # (offset, size) in the entry's `blobs` file
    new_blob: tuple[int, int] | None = None


@dataclass(frozen=True, slots=True)
class JournalEntry:
    id: str
    created: float
    title: str
    producer: str
    state: EntryState
    files: tuple[JournalFile, ...]
    rule_ids: tuple[str, ...] = ()
    commit: str | None = None
    folder: Path = Path()

    def _blob(self, where: tuple[int, int] | None, sha: str | None) -> bytes | None:
        if where is None:
            return None
        with open(self.folder / "blobs", "rb") as handle:
            handle.seek(where[0])
            data = handle.read(where[1])
        if sha is not None and sha256_bytes(data) != sha:
            raise JournalError(f"journal entry {self.id} is damaged (a stored file does not match its hash)")
        return data

    def old_bytes(self, index: int) -> bytes | None:
        jf = self.files[index]
        return self._blob(jf.old_blob, jf.old_sha256)

    def new_bytes(self, index: int) -> bytes | None:
        jf = self.files[index]
        return self._blob(jf.new_blob, jf.new_sha256)


@dataclass(frozen=True, slots=True)
class UndoResult:
    entry: JournalEntry
    restored: tuple[str, ...]  # files put back (written, recreated or deleted)
    already: tuple[str, ...]  # files that were still in their old state (an interrupted apply)

    @property
    def summary(self) -> str:
        files = len(self.restored)
        return f"undid {self.entry.title!r}: restored {files} file{'s' if files != 1 else ''}"


def _state_home() -> Path:
    base = os.environ.get("XDG_STATE_HOME")
    return Path(base) if base else Path.home() / ".local" / "state"


def journal_dir(root: Path) -> Path:
    """Where `root`'s journal lives (not created)."""
    real = root.resolve()
    dot_git = real / ".git"
    if dot_git.is_dir():
        return dot_git / "devops-tui" / "journal"
    if dot_git.is_file():  # a worktree or submodule: `.git` names the real git folder
        with contextlib.suppress(OSError, UnicodeDecodeError):
            line = dot_git.read_text("utf-8").strip()
            if line.startswith("gitdir:"):
                git_dir = (real / line.removeprefix("gitdir:").strip()).resolve()
                if git_dir.is_dir():
                    return git_dir / "devops-tui" / "journal"
    digest = hashlib.sha256(str(real).encode("utf-8", "surrogateescape")).hexdigest()[:16]
    return _state_home() / "devops-tui" / "journal" / digest


@contextlib.contextmanager
def journal_lock(root: Path) -> Iterator[Path]:
    """Hold the repository's journal lock; yields the journal folder."""
    folder = journal_dir(root)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(folder / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise JournalError(f"cannot open the undo journal at {folder}: {exc.strerror}") from None
    try:
        deadline = time.monotonic() + LOCK_WAIT_SECONDS
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise JournalError("another devops-tui is changing this repository; try again") from None
                time.sleep(0.05)
        yield folder
    finally:
        os.close(fd)  # closing releases the lock


def _entry_to_json(entry: JournalEntry) -> dict[str, object]:
    return {
        "version": 1,
        "id": entry.id,
        "created": entry.created,
        "title": entry.title,
        "producer": entry.producer,
        "state": str(entry.state),
        "rule_ids": list(entry.rule_ids),
        "commit": entry.commit,
        "files": [
            {
                "path": f.path, "action": str(f.action), "old_sha256": f.old_sha256, "old_mode": f.old_mode,
                "new_sha256": f.new_sha256, "new_mode": f.new_mode, "created_dirs": list(f.created_dirs),
                "old_blob": f.old_blob, "new_blob": f.new_blob,
            }
            for f in entry.files
        ],
    }


def _entry_from_json(folder: Path, data: dict[str, Any]) -> JournalEntry:
    files = tuple(
        JournalFile(
            path=str(f["path"]), action=EditAction(f["action"]), old_sha256=f["old_sha256"],
            old_mode=f["old_mode"], new_sha256=f["new_sha256"], new_mode=f["new_mode"],
            created_dirs=tuple(f.get("created_dirs", ())),
            old_blob=tuple(f["old_blob"]) if f.get("old_blob") else None,
            new_blob=tuple(f["new_blob"]) if f.get("new_blob") else None,
        )
        for f in data["files"]
    )
    return JournalEntry(
        id=str(data["id"]), created=float(data["created"]),
        title=str(data["title"]), producer=str(data["producer"]), state=EntryState(data["state"]),
        files=files, rule_ids=tuple(data.get("rule_ids") or ()),
        commit=data.get("commit"), folder=folder,
    )


def save_entry(entry: JournalEntry) -> JournalEntry:
    """Write `entry.json` atomically (the entry's state is whatever this file says)."""
    payload = json.dumps(_entry_to_json(entry), indent=1).encode()
    _write_atomic(entry.folder / "entry.json", payload, 0o600)
    return entry


def begin_entry(
    folder: Path,
    title: str,
    producer: str,
    rule_ids: tuple[str, ...],
    changes: list[tuple[JournalFile, bytes | None, bytes | None]],
) -> JournalEntry:
    """Durably record a pending entry (old and new bytes of every file) before anything is written.

    All bytes go into one `blobs` file so the entry costs a few fsyncs, not two per file.
    """
    entry_id = f"{time.time_ns():020d}-{secrets.token_hex(3)}"
    entry_dir = folder / entry_id
    entry_dir.mkdir(parents=True)
    files: list[JournalFile] = []
    offset = 0
    fd = os.open(entry_dir / "blobs", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        for jf, old, new in changes:
            where: list[tuple[int, int] | None] = []
            for blob in (old, new):
                if blob is None:
                    where.append(None)
                    continue
                handle.write(blob)
                where.append((offset, len(blob)))
                offset += len(blob)
            files.append(replace(jf, old_blob=where[0], new_blob=where[1]))
        handle.flush()
        os.fsync(handle.fileno())
    entry = JournalEntry(entry_id, time.time(), title, producer, EntryState.PENDING,
                         tuple(files), rule_ids, None, entry_dir)
    save_entry(entry)
    fsync_dir(folder)
    return entry


def list_entries(root: Path) -> list[JournalEntry]:
    """Every readable journal entry of `root`, newest first."""
    folder = journal_dir(root)
    if not folder.is_dir():
        return []
    entries = []
    for child in sorted(folder.iterdir(), reverse=True):
        if not child.is_dir():
            continue
        try:
            entries.append(_entry_from_json(child, json.loads((child / "entry.json").read_bytes())))
        except (OSError, ValueError, KeyError, TypeError):
            continue  # a half-written entry folder from a crash before entry.json: nothing was touched
    return entries


def interrupted_entries(root: Path) -> list[JournalEntry]:
    """Entries left pending by a process that died mid-apply (call while holding the lock)."""
    return [e for e in list_entries(root) if e.state is EntryState.PENDING]


def prune(folder: Path, keep: int = MAX_ENTRIES) -> None:
    """Drop the oldest finished entries beyond `keep`."""
    children = sorted((c for c in folder.iterdir() if c.is_dir()), reverse=True)
    for child in children[keep:]:
        try:
            state = json.loads((child / "entry.json").read_bytes()).get("state")
        except (OSError, ValueError):
            state = None
        if state != EntryState.PENDING:
            shutil.rmtree(child, ignore_errors=True)


def _read_current(target: Path) -> bytes | None:
    try:
        return target.read_bytes()
    except FileNotFoundError:
        return None


def _conflict_diff(path: str, expected: bytes | None, current: bytes | None) -> str:
    def lines(data: bytes | None) -> list[str]:
        return (data or b"").decode("utf-8", "replace").splitlines(keepends=True)

    diff = difflib.unified_diff(lines(expected), lines(current), f"{path} (as devops-tui left it)",
                                f"{path} (now)")
    text = "".join(_masked(line) for line in diff)
    return text or f"{path}: mode or existence changed\n"


def _masked(line: str) -> str:
    body = line.rstrip("\r\n")
    if line[:1] in " +-" and not line.startswith(("---", "+++")):
        body = line[0] + mask_line(body[1:])
    return body + "\n"


def _clean_temp_files(target: Path) -> None:
    """Remove temp files a killed writer may have left beside `target`."""
    with contextlib.suppress(OSError):
        for stray in target.parent.glob(f".{target.name}.*{TEMP_SUFFIX}"):
            stray.unlink()


def undo_entry(root: Path, entry: JournalEntry) -> UndoResult:
    """Restore the state before `entry` (complete or interrupted); caller holds the lock."""
    real_root = root.resolve()
    plan: list[tuple[int, JournalFile, Path]] = []
    already: list[str] = []
    conflicts: list[str] = []
    diffs: list[str] = []
    for index, jf in enumerate(entry.files):
        try:
            target = check_path(real_root, jf.path)
        except PathRefused as exc:
            raise JournalError(f"journal entry {entry.id} names a refused path: {exc}") from None
        current = _read_current(target)
        current_hash = sha256_bytes(current) if current is not None else None
        if current_hash == jf.new_sha256 and jf.new_sha256 != jf.old_sha256:
            plan.append((index, jf, target))
        elif current_hash == jf.old_sha256:
            already.append(jf.path)
        else:
            conflicts.append(jf.path)
            diffs.append(_conflict_diff(jf.path, entry.new_bytes(index), current))
    if conflicts:
        raise UndoRefused(
            f"cannot undo {entry.title!r}: {', '.join(conflicts)} changed after devops-tui applied it; "
            "nothing was restored", "".join(diffs))
    restored: list[str] = []
    for index, jf, target in plan:
        old = entry.old_bytes(index)
        if old is None:
            remove_file(target, sync_dir=False)
            remove_empty_folders([real_root / d for d in jf.created_dirs])
        else:
            make_parents(target)
            _write_atomic(target, old, jf.old_mode, sync_dir=False)
        restored.append(jf.path)
    for folder in {target.parent for _, _, target in plan if target.parent.exists()}:
        fsync_dir(folder)
    for jf in entry.files:
        _clean_temp_files(real_root / jf.path)
        if jf.old_sha256 is None:  # folders made for a create whose write never happened
            remove_empty_folders([real_root / d for d in jf.created_dirs])
    done = save_entry(replace(entry, state=EntryState.UNDONE))
    return UndoResult(done, tuple(restored), tuple(already))


def undo_last(root: Path) -> UndoResult:
    """Undo the newest change not yet undone (an interrupted apply first of all)."""
    with journal_lock(root):
        for entry in list_entries(root):
            if entry.state is not EntryState.UNDONE:
                return undo_entry(root, entry)
    raise NothingToUndo(f"nothing to undo in {root}")
