"""Shared pieces of the chat-panel tests: the fake API (from tests/agent), a host app and waits."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.widgets import Input

from core.discovery import InfraIndex, build_index
from tests.agent.conftest import serve_fake_api
from tui.widgets.chat_panel import ChatPanel

__all__ = ["ChatHost", "ask", "serve_fake_api", "wait_for", "wait_idle"]


class ChatHost(App[None]):
    """Only the chat panel, full width, over an indexed repository (for snapshots)."""

    CSS = "ChatPanel { width: 100%; max-width: 100%; border-left: none; }"

    def __init__(self, root: Path) -> None:
        super().__init__()
        self.root = root
        self.index: InfraIndex = build_index(root)

    def compose(self) -> ComposeResult:
        yield ChatPanel(id="chat")

    def on_mount(self) -> None:
        self.query_one(ChatPanel).open_and_focus()


async def wait_for(pilot: Pilot[Any], condition: Callable[[], bool], timeout: float = 10.0,
                   what: str = "condition") -> None:
    """Pause until `condition()` holds; fail with `what` after `timeout` seconds."""
    waited = 0.0
    while not condition():
        if waited >= timeout:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await pilot.pause(0.05)
        waited += 0.05


async def ask(pilot: Pilot[Any], text: str) -> ChatPanel:
    """Type `text` into the open chat's input and send it."""
    panel = pilot.app.query_one(ChatPanel)
    chat_input = panel.query_one("#chat-input", Input)
    chat_input.focus()
    chat_input.value = text
    await pilot.press("enter")
    return panel


async def wait_idle(pilot: Pilot[Any], panel: ChatPanel, timeout: float = 10.0) -> None:
    """Wait until the agent turn has ended and the panel has drawn everything."""
    await wait_for(pilot, lambda: not panel.busy, timeout, "the agent turn to end")
    await pilot.pause()
