"""A one-line status bar: what the app is doing now, with a progress bar while work runs.

Contract: `busy(text, done, total)` shows the bar (indeterminate when total is 0); `idle(text)` hides
it. The text is markup, kept short so it fits 80 columns.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.widgets import Label, ProgressBar


class StatusLine(Horizontal):
    """Status text plus a progress bar shown only while busy."""

    DEFAULT_CSS = """
    StatusLine {
        height: 1;
        background: $panel;
        padding: 0 1;
        & > Label { width: 1fr; height: 1; color: $text-muted; }
        & > ProgressBar { display: none; width: auto; height: 1; }
        &.-busy > ProgressBar { display: block; }
    }
    """

    _plain = ""

    def compose(self) -> ComposeResult:
        yield Label("", id="status-text")
        yield ProgressBar(total=None, show_eta=False, id="status-progress")

    @property
    def text(self) -> str:
        """The status as plain text (markup removed)."""
        return self._plain

    def _set_text(self, text: str) -> None:
        self._plain = Content.from_markup(text).plain
        self.query_one("#status-text", Label).update(text)

    def busy(self, text: str, done: int = 0, total: int = 0) -> None:
        """Show `text` and progress (`done` of `total`; 0 total means unknown)."""
        self._set_text(text)
        self.query_one(ProgressBar).update(total=total or None, progress=done)
        self.add_class("-busy")

    def idle(self, text: str) -> None:
        """Show `text` with no progress bar."""
        self._set_text(text)
        self.remove_class("-busy")
