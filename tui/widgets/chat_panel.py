"""The agent chat panel: ask in plain words, watch the answer stream, review what the agent proposes.

Contract: `ChatPanel` lives in the main screen, hidden until `toggle()`/`open_and_focus()`. It reads the
app's `root` and `index` (and `findings`, `clusters`, `layer_report_text` when the app has them), creates one
`AgentSession` on the first question and runs each turn in an async worker (group "agent"), so the UI
never waits on the network. Esc cancels a turn in flight. Events arrive in one queue and are drawn in
order: text streams into a `Markdown` through `MarkdownStream`; tool calls become collapsed lines; a
proposal becomes a card whose decision is the tool result the model receives; after an apply the app
rescans and the turn goes on with the fresh index. Without an API key the panel says how to set one.
Conversations persist per repository (`ConversationStore`) and are shown again on first open;
`clear_conversation()` forgets them.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Input, Markdown, Static
from textual.widgets.markdown import MarkdownStream
from textual.worker import Worker, WorkerState

from core.agent.events import (
    AgentEvent,
    AgentFailed,
    Retrying,
    ReviewOutcome,
    TextDelta,
    ToolCallFinished,
    ToolCallStarted,
    TurnFinished,
    Usage,
)
from core.agent.settings import HOW_TO_SET_KEY, MissingApiKey, resolve_model
from core.agent.store import ConversationStore
from core.agent.tools import RepoTools
from core.config import load_config_or_default
from core.discovery import InfraIndex
from core.patching.proposal import Proposal
from tui.commands_palette import PaletteCommand, register_command
from tui.widgets.chat_items import NoticeLine, ProposalCard, ToolCallLine, UserLine

if TYPE_CHECKING:  # the SDK loads on the first question, not at start-up
    from core.agent.session import AgentSession

register_command(PaletteCommand("Toggle agent chat", "Show or hide the chat with the agent", "toggle_chat"))
register_command(PaletteCommand("Clear conversation", "Forget this repository's chat with the agent",
                                "clear_chat"))

#: How long a turn waits for the rescan after an apply before it goes on with the old index.
RESCAN_WAIT_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class HistoryItem:
    """One line of a stored conversation as the panel shows it."""

    kind: str  # user, assistant, tool
    text: str
    result: str | None = None
    is_error: bool = False


def _result_text(content: Any) -> str:
    if isinstance(content, list):
        return "\n".join(str(b.get("text", "")) for b in content if isinstance(b, dict))
    return str(content or "")


def history_items(messages: list[dict[str, Any]]) -> list[HistoryItem]:
    """The user's questions, the assistant's text and its tool calls (with results), in order."""
    items: list[HistoryItem] = []
    calls: dict[str, int] = {}
    for message in messages:
        speaker = "user" if message.get("role") == "user" else "assistant"
        content = message.get("content")
        blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
        for block in blocks if isinstance(blocks, list) else ():
            if not isinstance(block, dict):
                continue
            kind = block.get("type")
            if kind == "text" and str(block.get("text", "")).strip():
                items.append(HistoryItem(speaker, str(block["text"])))
            elif kind == "tool_use":
                args = block.get("input")
                calls[str(block.get("id"))] = len(items)
                items.append(HistoryItem("tool", RepoTools.summary(str(block.get("name", "")),
                                                                   args if isinstance(args, dict) else {})))
            elif kind == "tool_result" and str(block.get("tool_use_id")) in calls:
                at = calls[str(block.get("tool_use_id"))]
                items[at] = replace(items[at], result=_result_text(block.get("content")),
                                    is_error=bool(block.get("is_error")))
    return items


def usage_text(usage: Usage, cost: float) -> str:
    cached = usage.cache_read_input_tokens + usage.cache_creation_input_tokens
    extra = f" (+{cached:,} cached)" if cached else ""
    return f"{usage.input_tokens:,} in{extra} / {usage.output_tokens:,} out tokens · ~${cost:.4f}"


@dataclass(frozen=True, slots=True)
class _ReviewRequest:
    proposal: Proposal
    outcome: asyncio.Future[ReviewOutcome]


_QueueItem = AgentEvent | _ReviewRequest | None


class ChatPanel(Vertical):
    """The chat with the agent: log, state line and the question input."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel answer / leave chat"),
        Binding("ctrl+n", "clear", "New conversation"),
    ]
    SCOPED_CSS = False  # the narrow layout is chosen by a class on the screen, outside the panel
    DEFAULT_CSS = """
    ChatPanel {
        display: none; width: 42%; min-width: 44; max-width: 96; height: 1fr;
        border-left: vkey $panel-lighten-2; padding: 0;
    }
    ChatPanel.-open { display: block; }
    .-narrow ChatPanel {
        dock: bottom; width: 100%; max-width: 100%; height: 50%; border-left: none;
        border-top: hkey $panel-lighten-2;
    }
    ChatPanel #chat-header { height: 1; padding: 0 1; background: $panel; color: $text-muted; }
    ChatPanel #chat-log { height: 1fr; padding: 0 1 0 0; }
    ChatPanel #chat-log > Markdown { margin: 0; padding: 0 1; }
    ChatPanel #chat-log > .-discarded { opacity: 50%; }
    ChatPanel #chat-state { height: 1; padding: 0 1; color: $text-accent; display: none; }
    ChatPanel.-busy #chat-state { display: block; }
    ChatPanel #chat-input { margin: 0; }
    """

    is_open: reactive[bool] = reactive(False)
    """Whether the panel is shown; the first open draws the stored conversation."""
    busy: reactive[bool] = reactive(False)
    """A turn is running (Esc cancels it)."""

    def __init__(self, root: Path | None = None, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._root = root
        self._store: ConversationStore | None = None
        self._session: AgentSession | None = None
        self._worker: Worker[None] | None = None
        self._queue: asyncio.Queue[_QueueItem] | None = None
        self._stream: MarkdownStream | None = None
        self._turn: list[Widget] = []
        self._tool_lines: dict[str, ToolCallLine] = {}
        self._cards: list[ProposalCard] = []
        self._history_shown = False
        self._return_focus: Widget | None = None
        self._commit_after_apply = False
        self._key_hint_shown = False  # the how-to for the API key is on screen

    def compose(self) -> ComposeResult:
        yield Static("Agent", id="chat-header", markup=False)
        yield VerticalScroll(id="chat-log")
        yield Static("", id="chat-state", markup=False)
        yield Input(placeholder="Ask about this repository (enter sends)", id="chat-input")

    def on_mount(self) -> None:
        self.query_one("#chat-log", VerticalScroll).anchor()

    # Properties and public API -----------------------------------------------------------------

    @property
    def root(self) -> Path:
        return self._root or Path(getattr(self.app, "root", "."))

    @property
    def store(self) -> ConversationStore:
        if self._store is None:
            self._store = ConversationStore(self.root)
        return self._store

    @property
    def log_view(self) -> VerticalScroll:
        return self.query_one("#chat-log", VerticalScroll)

    @property
    def session(self) -> AgentSession | None:
        return self._session

    def toggle(self) -> None:
        """Show or hide the panel; showing it focuses the question input."""
        if self.is_open:
            self.is_open = False
        else:
            self.open_and_focus()

    def open_and_focus(self) -> None:
        focused = self.screen.focused
        if focused is not None and self not in focused.ancestors_with_self:
            self._return_focus = focused
        self.is_open = True
        self.query_one("#chat-input", Input).focus()

    def leave(self) -> None:
        """Give the focus back to where it was before the chat took it."""
        previous = self._return_focus
        if previous is not None and previous.is_attached and previous.display and previous.focusable:
            previous.focus()
        else:
            self.screen.set_focus(None)

    def ask(self, text: str) -> bool:
        """Send `text` as the next question; False (with a reason shown) when it cannot start."""
        if self.busy:
            self.notify("The agent is still answering; esc cancels it.", severity="warning")
            return False
        self.is_open = True
        session = self._ensure_session()
        if session is None:
            return False
        self._mount(UserLine(text))
        self._worker = self._run_turn(session, text)
        return True

    def clear_conversation(self) -> None:
        """Cancel a running answer and forget the stored conversation of this repository."""
        if self._worker is not None and self._worker.is_running:
            self._worker.cancel()
        if self._session is not None:
            self._session.clear()
        else:
            self.store.clear()
        self.log_view.remove_children()
        self._turn.clear()
        self._tool_lines.clear()
        self._mount(NoticeLine("Conversation cleared; the agent starts afresh.", "muted"))

    # Drawing -----------------------------------------------------------------------------------

    def watch_is_open(self, is_open: bool) -> None:
        self.set_class(is_open, "-open")
        if is_open and not self._history_shown:
            self._history_shown = True
            self._show_history()
        if not is_open and self.has_focus_within:
            self.leave()

    def watch_busy(self, busy: bool) -> None:
        self.set_class(busy, "-busy")
        self._state()

    def _state(self, text: str = "● answering… esc cancels") -> None:
        self.query_one("#chat-state", Static).update(text)

    def _mount(self, widget: Widget) -> Widget:
        self.log_view.mount(widget)
        return widget

    def _show_history(self) -> None:
        for item in history_items(self.store.load()):
            if item.kind == "user":
                self._mount(UserLine(item.text))
            elif item.kind == "assistant":
                self._mount(Markdown(item.text))
            else:
                self._mount(ToolCallLine(item.text, item.result or "", is_error=item.is_error))
        if not self._has_key():
            self._mount(NoticeLine(HOW_TO_SET_KEY, "hint"))
            self._key_hint_shown = True

    @staticmethod
    def _has_key() -> bool:
        """The same test `AgentSession` makes, so the hint shows before anyone asks."""
        return bool(os.environ.get("ANTHROPIC_API_KEY"))

    def _header(self) -> None:
        session = self._session
        if session is None:
            return
        text = f"Agent · {session.model}"
        if session.session_usage.input_tokens or session.session_usage.output_tokens:
            text += f" · session {usage_text(session.session_usage, session.session_cost)}"
        self.query_one("#chat-header", Static).update(text)

    # The session and its turns -----------------------------------------------------------------

    def _index(self) -> InfraIndex | None:
        index = getattr(self.app, "index", None)
        return index if isinstance(index, InfraIndex) else None

    def _app_list(self, *names: str) -> Callable[[], list[Any]]:
        """A getter for the app's current list under the first of `names` it has (else empty)."""
        def current() -> list[Any]:
            for name in names:
                value = getattr(self.app, name, None)
                if isinstance(value, (list, tuple)):
                    return list(value)
            return []
        return current

    def _layer_report(self) -> str | None:
        """The Layers screen's last report as text (`app.layer_report_text`), if one was loaded."""
        report = getattr(self.app, "layer_report_text", None)
        return report if isinstance(report, str) else None

    def _ensure_session(self) -> AgentSession | None:
        index = self._index()
        if index is None:
            self._mount(NoticeLine("The repository is still being read; ask again in a moment.", "warning"))
            return None
        if self._session is not None:
            self._session.tools.index = index
            return self._session
        config = load_config_or_default(self.root)[0]
        self._commit_after_apply = config.commit_after_apply
        tools = RepoTools(index, findings=self._app_list("findings"),
                          duplicates=self._app_list("clusters", "duplicates", "duplicate_clusters"),
                          layer_report=self._layer_report, reviewer=self._review)
        try:
            from core.agent.session import AgentSession

            self._session = AgentSession(tools, model=resolve_model(config.model), store=self.store)
        except MissingApiKey as exc:
            if self._key_hint_shown:  # the how-to is on screen already: say it briefly
                self._mount(NoticeLine("Not sent: ANTHROPIC_API_KEY is not set (see above). Your question "
                                       "stays in the box.", "warning"))
            else:
                self._mount(NoticeLine(str(exc), "hint"))
                self._key_hint_shown = True
            return None
        self._header()
        return self._session

    @work(exclusive=True, group="agent", exit_on_error=False)
    async def _run_turn(self, session: AgentSession, text: str) -> None:
        """Run `session.ask` beside a loop that draws its events in order."""
        self.busy = True
        self._turn = []
        queue: asyncio.Queue[_QueueItem] = asyncio.Queue()
        self._queue = queue
        task = asyncio.create_task(session.ask(text, queue.put_nowait))
        task.add_done_callback(lambda _: queue.put_nowait(None))
        try:
            while (item := await queue.get()) is not None:
                await self._draw(item)
            await task
        except asyncio.CancelledError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await self._end_text()
            self._discard_turn("Cancelled; nothing from this answer was kept.", "warning")
            raise
        finally:
            await self._end_text()
            self._queue = None
            self.busy = False

    async def _review(self, proposal: Proposal) -> ReviewOutcome:
        """The agent's reviewer: show a card, wait for the user's decision, rescan after an apply."""
        queue = self._queue
        if queue is None:
            return ReviewOutcome(message="not reviewed: the chat was closed")
        outcome: asyncio.Future[ReviewOutcome] = asyncio.get_running_loop().create_future()
        queue.put_nowait(_ReviewRequest(proposal, outcome))
        result = await outcome
        if result.applied_hunks:
            await self._rescan()
        return result

    async def _rescan(self) -> None:
        """Ask the app to rescan and wait for it, so the agent's next read sees the applied change."""
        rescan = getattr(self.app, "action_rescan", None)
        if rescan is None:
            return
        before = self._index()
        rescan()
        discovering = [w for w in self.app.workers if w.group == "discover" and not w.is_finished]
        with contextlib.suppress(Exception):
            await asyncio.wait_for(asyncio.gather(*(w.wait() for w in discovering)), RESCAN_WAIT_SECONDS)
        for _ in range(100):  # the app stores the new index when it handles the worker's state change
            if self._index() is not before:
                break
            await asyncio.sleep(0.02)
        index = self._index()
        if index is not None and self._session is not None:
            self._session.tools.index = index

    async def _end_text(self) -> None:
        if self._stream is not None:
            stream, self._stream = self._stream, None
            await stream.stop()

    async def _draw(self, item: AgentEvent | _ReviewRequest) -> None:
        if isinstance(item, TextDelta):
            if self._stream is None:
                answer = Markdown()
                self._turn.append(answer)
                await self.log_view.mount(answer)
                self._stream = Markdown.get_stream(answer)
            await self._stream.write(item.text)
            return
        await self._end_text()
        if isinstance(item, ToolCallStarted):
            line = ToolCallLine(item.summary)
            self._tool_lines[item.call_id] = line
            self._turn.append(line)
            await self.log_view.mount(line)
        elif isinstance(item, ToolCallFinished):
            if item.call_id in self._tool_lines:
                self._tool_lines.pop(item.call_id).finish(item.result, item.is_error)
        elif isinstance(item, _ReviewRequest):
            card = ProposalCard(self.root, item.proposal, item.outcome, commit=self._commit_after_apply)
            self._cards.append(card)
            self._turn.append(card)
            await self.log_view.mount(card)
            card.focus_review()
            self._state("● waiting for your review of the proposal · esc cancels")
        elif isinstance(item, Retrying):
            text = f"{item.reason}; retrying in {item.delay:.1f}s (attempt {item.attempt + 1})"
            self._turn.append(self._mount(NoticeLine(text, "warning")))
        elif isinstance(item, AgentFailed):
            if item.kind == "tool-rounds":
                self._mount(NoticeLine(item.message, "warning"))
            else:
                self._discard_turn(item.message, "error")
        elif isinstance(item, TurnFinished):
            rounds = f" · {item.rounds} tool round{'s' if item.rounds != 1 else ''}" if item.rounds else ""
            self._mount(NoticeLine(usage_text(item.usage, item.cost_usd) + rounds, "usage"))
            self._header()

    def _discard_turn(self, message: str, kind: str) -> None:
        """Grey out what this turn drew (the session dropped it) and say why."""
        for widget in self._turn:
            widget.add_class("-discarded")
        for card in self._cards:
            card.expire("not applied: the answer that proposed this did not finish")
        self._cards.clear()
        self._mount(NoticeLine(message, kind))

    # Events and actions ------------------------------------------------------------------------

    @on(Input.Submitted, "#chat-input")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        if text and self.ask(text):
            event.input.clear()

    @on(ProposalCard.Decided)
    def _decided(self, event: ProposalCard.Decided) -> None:
        event.stop()
        if event.card in self._cards:
            self._cards.remove(event.card)
        self._state()
        self.query_one("#chat-input", Input).focus()

    @on(Worker.StateChanged)
    def _turn_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "agent" or event.state is not WorkerState.ERROR:
            return
        error = event.worker.error
        self._discard_turn(f"The agent stopped unexpectedly: {type(error).__name__}: {error}", "error")

    def action_cancel(self) -> None:
        """Cancel the answer in flight (the conversation stays as it was before); else leave the chat."""
        if self._worker is not None and self._worker.is_running:
            self._worker.cancel()
        else:
            self.leave()

    def action_clear(self) -> None:
        self.clear_conversation()

