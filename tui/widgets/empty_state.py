"""A centred explanation shown where content would be, saying what to do next."""

from __future__ import annotations

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

    def show(self, title: str, body: str) -> None:
        """Display a bold title over a body (both markup)."""
        self.update(f"[b $text]{title}[/]\n\n{body}")
