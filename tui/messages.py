"""The app's own messages: past-tense events that screens and later panels react to.

Contract: each message is a small dataclass carrying values, never widgets. Discovery messages are
posted to the main screen and bubble up to the app, so a scanner can start from the app's
`on_index_built` handler and a panel can react from the screen.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from core.discovery import InfraIndex
from core.dupes.model import DuplicateCluster
from core.models import Finding
from core.progress import Progress


@dataclass
class DiscoveryStarted(Message):
    """Discovery began on `root` (a rescan posts it again)."""

    root: str


@dataclass
class DiscoveryProgressed(Message):
    """Discovery reached `progress`; a newer one replaces an undelivered older one."""

    progress: Progress

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, DiscoveryProgressed)


@dataclass
class IndexBuilt(Message):
    """Discovery finished: `index` is the repository's parsed files; scanners may start now."""

    index: InfraIndex
    seconds: float


@dataclass
class FilesListed(Message):
    """The file list and kinds are known (nothing parsed yet): the tree can be painted; IndexBuilt follows."""

    index: InfraIndex


@dataclass
class DiscoveryFailed(Message):
    """Discovery stopped with an error the user should read."""

    error: str


@dataclass
class FileOpened(Message):
    """The file view now shows `path`, optionally marking `line`."""

    path: str
    line: int | None


@dataclass
class FindingsScanned(Message):
    """Scan `generation` has scanned `done` of `total` files; `findings` holds every finding so far.

    The list is cumulative, so an undelivered partial message can be replaced by a newer one without
    losing anything: a fast scanner never floods the UI. `finished` marks the last message of a scan.
    """

    generation: int
    findings: tuple[Finding, ...]
    done: int
    total: int
    finished: bool = False
    seconds: float = 0.0

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, FindingsScanned) and not message.finished


@dataclass
class DuplicatesFound(Message):
    """The duplication scan of `generation` finished: `clusters` ranked best first."""

    generation: int
    clusters: tuple[DuplicateCluster, ...]
    seconds: float = 0.0


@dataclass
class ScanFailed(Message):
    """A background scan (`group`: "scan" or "dupes") stopped with an error the user should read."""

    group: str
    error: str


@dataclass
class FixRequested(Message):
    """The user asked for a quick fix: one `finding`, or every finding of its rule in `scope`.

    `scope` is "finding", "file" (its rule in its file) or "repo" (its rule everywhere).
    """

    finding: Finding
    scope: str = "finding"


@dataclass
class AbstractionRequested(Message):
    """The user asked for the abstraction that would replace the copies of `cluster`."""

    cluster: DuplicateCluster
