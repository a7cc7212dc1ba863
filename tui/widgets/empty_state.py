"""A centred explanation shown where content would be, saying what to do next."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static


class EmptyState(Static):
    """Markup text in a muted, centred block; update it with `show(title, body)`."""

    DEFAULT_CSS = """
    EmptyState {
        width: 1fr;
        height: 1fr;
        padding: 1 2;
        color: $text-muted;
        content-align: center middle;
    }
    """

    _plain = ""

    @property
    def text(self) -> str:
        """What is shown, as plain text."""
        return self._plain

    def show(self, title: str, body: str) -> None:
        """Display a bold title over a body (both markup)."""
        markup = f"[b $text]{title}[/]\n\n{body}"
        self._plain = Content.from_markup(markup).plain
        self.update(markup)
