"""Apply a proposal, or any subset of its hunks, all or nothing, with an undo journal.

`apply_proposal` first checks everything — the path gate, freshness (the file's hash still equals the
one the edit was made against; a create needs the file absent), and validation of each rebuilt file —
and refuses with every problem at once (`ApplyRefused`) before touching anything. Validation problems
alone can be overridden with `allow_invalid=True`; gate and freshness problems never. It then writes the
journal entry, re-checks, writes each file atomically, and marks the entry complete. An I/O error
mid-way rolls back the files already written. `check_proposal` is the same checks as a dry run.

Fault injection (tests only): with DEVOPS_TUI_TEST_CRASH_AFTER_FILES=N in the environment, the write
loop SIGKILLs its own process after N files, to prove an interrupted apply can be undone.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Mapping, Set
from dataclasses import dataclass, replace
from pathlib import Path

from core.patching.diff import make_hunks, opcodes, rebuild_lines, split_lines
from core.patching.fsio import file_mode, fsync_dir, make_parents, remove_file, write_atomic
from core.patching.gate import PathRefused, check_path
from core.patching.gitcommit import CommitFailed, commit_message, commit_paths
from core.patching.journal import (
    EntryState,
    JournalEntry,
    JournalError,
    JournalFile,
    begin_entry,
    interrupted_entries,
    journal_lock,
    prune,
    save_entry,
    undo_entry,
)
from core.patching.proposal import EditAction, FileEdit, Proposal, sha256_bytes
from core.patching.validate import validate_edit

CRASH_ENV = "DEVOPS_TUI_TEST_CRASH_AFTER_FILES"
Accepted = Mapping[str, Set[int]]


@dataclass(frozen=True, slots=True)
class Problem:
    """Why (part of) a proposal cannot be applied; `overridable` for validation failures only."""

    path: str
    message: str
    overridable: bool = False


class ApplyRefused(Exception):
    """Nothing was written; `problems` says why, per file."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = tuple(problems)

    @property
    def overridable(self) -> bool:
        return bool(self.problems) and all(p.overridable for p in self.problems)


@dataclass(frozen=True, slots=True)
class PlannedFile:
    edit: FileEdit
    target: Path
    rel: str  # the resolved repo-relative path actually written
    before: bytes | None
    after: bytes | None
    hunks_applied: int
    created_dirs: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ApplyResult:
    """What an apply did; `summary` is the line shown to the user."""

    title: str
    files: tuple[str, ...]
    hunks_applied: int
    hunks_total: int
    entry_id: str | None = None
    commit_sha: str | None = None
    commit_error: str | None = None

    @property
    def summary(self) -> str:
        files = len(self.files)
        plural = "s" if files != 1 else ""
        text = f"applied {self.hunks_applied} of {self.hunks_total} hunks in {files} file{plural}"
        if self.commit_sha:
            text += f"; committed {self.commit_sha[:10]}"
        elif self.commit_error:
            text += f"; not committed: {self.commit_error}"
        return text


def _read(target: Path) -> bytes | None:
    try:
        return target.read_bytes()
    except FileNotFoundError:
        return None


def _freshness(edit: FileEdit, current: bytes | None, exists: bool) -> str | None:
    if edit.action is EditAction.CREATE:
        return f"{edit.path} already exists; regenerate the proposal" if exists else None
    if current is None:
        return f"{edit.path} no longer exists; regenerate the proposal"
    if sha256_bytes(current) != edit.base_sha256:
        return f"{edit.path} changed since the proposal was made; regenerate it"
    return None


def _missing_dirs(root: Path, target: Path) -> tuple[str, ...]:
    missing = []
    parent = target.parent
    while not parent.exists():
        missing.append(parent.relative_to(root).as_posix())
        parent = parent.parent
    return tuple(missing)


def plan_proposal(root: Path, proposal: Proposal, accepted: Accepted | None = None
                  ) -> tuple[list[PlannedFile], list[Problem], int]:
    """The files to write (accepted hunks rebuilt), every problem found, and the total hunk count."""
    real_root = root.resolve()
    planned: list[PlannedFile] = []
    problems: list[Problem] = []
    total = 0
    for edit in proposal.edits:
        try:
            target = check_path(real_root, edit.path)
        except PathRefused as exc:
            problems.append(Problem(edit.path, f"refused path {exc}"))
            continue
        current = _read(target)
        stale = _freshness(edit, current, current is not None or target.is_symlink())
        before = edit.before if edit.before is not None else current
        old = split_lines(before or b"")
        new = split_lines(edit.after or b"")
        ops = opcodes(old, new)
        hunks = make_hunks(old, new, ops=ops)
        count = len(hunks) if edit.action is EditAction.MODIFY else 1
        total += count
        every = set(range(count))
        chosen = every if accepted is None else set(accepted.get(edit.path, ())) & every
        if stale:
            problems.append(Problem(edit.path, stale))
            continue
        if not chosen:
            continue
        after = edit.after
        if edit.action is EditAction.MODIFY:
            after = rebuild_lines(old, new, ops, hunks, chosen)
        if after == before:
            continue
        if after is not None:
            problems.extend(Problem(edit.path, m, True) for m in validate_edit(edit.path, before, after))
        rel = target.relative_to(real_root).as_posix()
        created = _missing_dirs(real_root, target)
        planned.append(PlannedFile(edit, target, rel, before, after, len(chosen), created))
    return planned, problems, total


def check_proposal(root: Path, proposal: Proposal, accepted: Accepted | None = None) -> list[Problem]:
    """Every problem `apply_proposal` would refuse for, without writing anything."""
    return plan_proposal(root, proposal, accepted)[1]


def _crash_point(written: int) -> None:
    limit = os.environ.get(CRASH_ENV)
    if limit and limit.isdigit() and written >= int(limit):
        os.kill(os.getpid(), signal.SIGKILL)


def _recheck(root: Path, planned: list[PlannedFile]) -> list[Problem]:
    problems = []
    for pf in planned:
        try:
            target = check_path(root, pf.edit.path)
        except PathRefused as exc:
            problems.append(Problem(pf.edit.path, f"refused path {exc}"))
            continue
        current = _read(target)
        stale = _freshness(pf.edit, current, current is not None or target.is_symlink())
        if stale or target != pf.target:
            problems.append(Problem(pf.edit.path, stale or f"{pf.edit.path} moved; regenerate the proposal"))
    return problems


def _write_all(root: Path, entry: JournalEntry, planned: list[PlannedFile]) -> None:
    problems = _recheck(root, planned)
    if problems:
        save_entry(replace(entry, state=EntryState.UNDONE))
        raise ApplyRefused(problems)
    written = 0
    try:
        for pf in planned:
            if pf.after is None:
                remove_file(pf.target, sync_dir=False)
            else:
                make_parents(pf.target)
                write_atomic(pf.target, pf.after, pf.edit.mode if pf.before is None else None, sync_dir=False)
            written += 1
            _crash_point(written)
        # Renames become durable here, before the entry says complete; a file whose rename a crash
        # lost is simply still old, which undo handles.
        for folder in {pf.target.parent for pf in planned}:
            fsync_dir(folder)
    except OSError as exc:
        try:
            undo_entry(root, entry)
            rolled = "the files already written were restored"
        except JournalError as undo_exc:
            rolled = f"restoring failed too ({undo_exc}); run `devops-tui undo`"
        raise ApplyRefused([Problem(str(exc.filename or ""), f"writing failed: {exc.strerror}; {rolled}")]) \
            from None


def apply_proposal(
    root: Path,
    proposal: Proposal,
    accepted: Accepted | None = None,
    *,
    allow_invalid: bool = False,
    commit: bool = False,
) -> ApplyResult:
    """Apply `proposal` (only `accepted` hunks per path, all when None) or raise ApplyRefused."""
    root = Path(root)
    if not root.is_dir():
        raise ApplyRefused([Problem("", f"{root} is not a folder")])
    real_root = root.resolve()
    try:
        with journal_lock(real_root) as folder:
            pending = interrupted_entries(real_root)
            if pending:
                raise ApplyRefused([Problem("", f"an earlier apply ({pending[0].title!r}) was interrupted; "
                                                "run `devops-tui undo` to restore the files first")])
            planned, problems, total = plan_proposal(real_root, proposal, accepted)
            if [p for p in problems if not (p.overridable and allow_invalid)]:
                raise ApplyRefused(problems)
            if not planned:
                return ApplyResult(proposal.title, (), 0, total)
            changes = [
                (JournalFile(pf.rel, pf.edit.action,
                             sha256_bytes(pf.before) if pf.before is not None else None,
                             file_mode(pf.target) if pf.before is not None else None,
                             sha256_bytes(pf.after) if pf.after is not None else None,
                             pf.edit.mode, pf.created_dirs),
                 pf.before, pf.after)
                for pf in planned
            ]
            entry = begin_entry(folder, proposal.title, str(proposal.producer), proposal.rule_ids, changes)
            _write_all(real_root, entry, planned)
            entry = save_entry(replace(entry, state=EntryState.COMPLETE))
            prune(folder)
    except JournalError as exc:
        raise ApplyRefused([Problem("", str(exc))]) from None
    files = tuple(pf.rel for pf in planned)
    result = ApplyResult(proposal.title, files, sum(pf.hunks_applied for pf in planned), total, entry.id)
    if not commit:
        return result
    try:
        sha = commit_paths(real_root, [pf.rel for pf in planned if pf.after is not None],
                           [pf.rel for pf in planned if pf.after is None], commit_message(proposal))
    except CommitFailed as exc:
        return replace(result, commit_error=str(exc))
    save_entry(replace(entry, commit=sha))
    return replace(result, commit_sha=sha)
