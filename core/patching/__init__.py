"""The patch engine: the only code that writes repository files.

Producers build a `Proposal` (see `textedit` for helpers), the UI shows `file_diffs`, and
`apply_proposal` writes the accepted hunks atomically with an undo journal (`undo_last`).
"""

from core.patching.apply import ApplyRefused, ApplyResult, Problem, apply_proposal, check_proposal
from core.patching.diff import FileDiff, Hunk, StaleFile, file_diffs, unified_text
from core.patching.gate import PathRefused, check_path
from core.patching.journal import (
    JournalEntry,
    JournalError,
    NothingToUndo,
    UndoRefused,
    UndoResult,
    list_entries,
    undo_last,
)
from core.patching.proposal import EditAction, FileEdit, Producer, Proposal, Safety, sha256_bytes
from core.patching.textedit import make_create, make_delete, make_modify

__all__ = [
    "ApplyRefused",
    "ApplyResult",
    "EditAction",
    "FileDiff",
    "FileEdit",
    "Hunk",
    "JournalEntry",
    "JournalError",
    "NothingToUndo",
    "PathRefused",
    "Problem",
    "Producer",
    "Proposal",
    "Safety",
    "StaleFile",
    "UndoRefused",
    "UndoResult",
    "apply_proposal",
    "check_path",
    "check_proposal",
    "file_diffs",
    "list_entries",
    "make_create",
    "make_delete",
    "make_modify",
    "sha256_bytes",
    "undo_last",
    "unified_text",
]
