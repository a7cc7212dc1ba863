"""Proposals: the single currency of change, as frozen data.

A `Proposal` is a titled set of `FileEdit`s (create, modify, delete) from one producer. Each edit that
touches an existing file records the sha256 of the bytes it was made against, so the patch engine can
refuse to apply it once the file has moved on. Contents are bytes, never re-encoded text, so line
endings, a missing final newline and odd encodings survive exactly.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import StrEnum


def sha256_bytes(data: bytes) -> str:
    """The hex sha256 of `data`: the freshness key of every edit."""
    return hashlib.sha256(data).hexdigest()


class EditAction(StrEnum):
    CREATE = "create"
    MODIFY = "modify"
    DELETE = "delete"


class Producer(StrEnum):
    """Who made a proposal; shown in the review screen and in commit messages."""

    QUICK_FIX = "quick-fix"
    DEDUP = "dedup"
    LAYERS = "layers"
    AGENT = "agent"


class Safety(StrEnum):
    """`safe` edits may be applied in bulk (`fix --apply`); `review` ones need a person to look."""

    SAFE = "safe"
    REVIEW = "review"


@dataclass(frozen=True, slots=True)
class FileEdit:
    """One file's change.

    `path` is repo-relative with forward slashes. `base_sha256` is the hash of the file when the edit
    was made (None for a create). `before` optionally carries those very bytes, so the diff can be shown
    even after the file changed; when absent the engine reads the file and checks the hash. `after` is
    None for a delete. `mode` is the permission bits a created file gets (None: the umask default).
    """

    path: str
    action: EditAction
    after: bytes | None
    base_sha256: str | None = None
    before: bytes | None = None
    mode: int | None = None

    def __post_init__(self) -> None:
        if self.action is EditAction.CREATE:
            if self.base_sha256 is not None or self.before is not None:
                raise ValueError(f"{self.path}: a create has no base content")
            if self.after is None:
                raise ValueError(f"{self.path}: a create needs content")
        else:
            if self.base_sha256 is None:
                raise ValueError(f"{self.path}: a {self.action} must record the hash it was made against")
            if self.before is not None and sha256_bytes(self.before) != self.base_sha256:
                raise ValueError(f"{self.path}: `before` does not match `base_sha256`")
        if self.action is EditAction.MODIFY and self.after is None:
            raise ValueError(f"{self.path}: a modify needs new content")
        if self.action is EditAction.DELETE and self.after is not None:
            raise ValueError(f"{self.path}: a delete has no new content")


@dataclass(frozen=True, slots=True)
class Proposal:
    """A reviewable change: what, why, who, and the findings it fixes (for commit messages)."""

    title: str
    rationale: str
    producer: Producer
    edits: tuple[FileEdit, ...]
    finding_fingerprints: tuple[str, ...] = ()
    rule_ids: tuple[str, ...] = ()
    safety: Safety = Safety.REVIEW

    def __post_init__(self) -> None:
        paths = [e.path for e in self.edits]
        if len(set(paths)) != len(paths):
            raise ValueError(f"proposal {self.title!r} edits the same file twice")

    @property
    def paths(self) -> tuple[str, ...]:
        return tuple(e.path for e in self.edits)
