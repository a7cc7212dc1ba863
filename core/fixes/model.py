"""What a fixer computes: the new text of the finding's file, the lines it may touch, and side files.

A fixer works on text, not on the disk, so the engine can chain several fixes on one file (each made
against the text the previous one produced) and only then build one `Proposal`. Side files
(`.gitignore`, `.env.example`, `.dockerignore`) are declared as lines that must be present, so fixes
of many findings that need the same side file merge instead of conflicting.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.patching.proposal import Safety


@dataclass(frozen=True, slots=True)
class SideFile:
    """Lines that must be present in another file; the file is created (with `header`) when absent.

    `match` decides when a line counts as present: "line" (same stripped text), "key" (same text up to
    the first `=`, for env files) or "ignored" (a .gitignore pattern: present when git would already
    ignore that path).
    """

    path: str
    lines: tuple[str, ...]
    header: str = ""
    match: str = "line"


@dataclass(frozen=True, slots=True)
class TextFix:
    """One fix of one finding: `text` replaces the file's text; `spans` (1-based inclusive lines of the
    old text) are where it may differ — checked with `assert_only_span_changed`."""

    text: str
    spans: tuple[tuple[int, int], ...]
    title: str
    rationale: str
    side_files: tuple[SideFile, ...] = ()
    safety: Safety | None = None  # a fixer may downgrade this instance to REVIEW


class CannotFix(Exception):
    """This instance of the finding cannot be fixed mechanically; the message says why."""
