"""The app's own messages: past-tense events that screens and later panels react to.

Contract: each message is a small dataclass carrying values, never widgets. Discovery messages are
posted to the main screen and bubble up to the app, so a scanner can start from the app's
`on_index_built` handler and a panel can react from the screen.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from core.discovery import InfraIndex
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
class DiscoveryFailed(Message):
    """Discovery stopped with an error the user should read."""

    error: str


@dataclass
class FileOpened(Message):
    """The file view now shows `path`, optionally marking `line`."""

    path: str
    line: int | None
