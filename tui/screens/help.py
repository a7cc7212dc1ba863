"""The help screen: what devops-tui does, the files it recognises, and every key of the screen below.

Contract: built from the bindings active where `?` was pressed (so it never goes stale when a
feature adds a binding); closes on escape, q or ?.
"""

from __future__ import annotations

from rich.markup import escape
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.screens.main import RECOGNISED_FILES

ABOUT = (
    "[b]devops-tui[/] shows the infrastructure files of a repository (Dockerfiles, Compose, GitHub Actions, "
    "GitLab CI, Kubernetes, env files and shell scripts) grouped by kind and marked with their git status. "
    "Every change the app proposes goes through one review before it touches a file."
)


class HelpScreen(ModalScreen[None]):
    """A modal listing keys and what the app does."""

    BINDINGS = [
        Binding("escape", "dismiss", "Close"),
        Binding("q", "dismiss", "Close", show=False),
        Binding("question_mark", "dismiss", "Close", show=False),
    ]
    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;
        & > VerticalScroll {
            width: 90%;
            max-width: 100;
            height: 90%;
            max-height: 40;
            border: round $primary;
            border-title-align: center;
            background: $surface;
            padding: 0 1;
        }
        & Static { margin-bottom: 1; }
    }
    """

    def __init__(self, keys: list[tuple[str, str]]) -> None:
        super().__init__()
        self._keys = keys

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body") as body:
            body.border_title = "Help"
            body.border_subtitle = "escape closes"
            yield Static(ABOUT, id="help-about")
            yield Static("[b $accent]Keys[/]\n" + self._keys_table(), id="help-keys")
            yield Static("[b $accent]Recognised files[/]\n" + RECOGNISED_FILES, id="help-files")

    def _keys_table(self) -> str:
        width = max((len(key) for key, _ in self._keys), default=4) + 2
        return "\n".join(f"[b]{escape(key):<{width}}[/]{escape(text)}" for key, text in self._keys)

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
