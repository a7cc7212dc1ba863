"""The pieces of the chat log: the user's line, notices, tool-call lines and proposal cards.

Contract: each item renders values it is given and never talks to the agent. A `ProposalCard` owns the
future its agent turn awaits: "Review" opens the shared review screen (through `AgentReviewScreen`,
which remembers the accepted hunks), and the card resolves the future with a `ReviewOutcome` that
numbers hunks across the whole proposal ("applied hunk(s) 1, 3 of 3; hunk(s) 2 rejected"); "Reject"
resolves it with none applied. Closing the review without applying leaves the card open.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.await_complete import AwaitComplete
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Collapsible, Static

from core.agent.events import ReviewOutcome
from core.patching.apply import ApplyResult
from core.patching.diff import FileDiff, StaleFile, file_diff
from core.patching.gate import PathRefused
from core.patching.proposal import EditAction, Proposal
from tui.screens.review import ReviewScreen

#: A tool result longer than this is cut in the chat (the model saw it whole).
RESULT_PREVIEW_LINES = 40
RESULT_PREVIEW_CHARS = 4000
_ACTION_MARK = {EditAction.CREATE: "A", EditAction.MODIFY: "M", EditAction.DELETE: "D"}


def result_preview(result: str) -> str:
    """The start of a tool result, short enough to keep the chat light."""
    lines = result.splitlines()
    shown = "\n".join(lines[:RESULT_PREVIEW_LINES])[:RESULT_PREVIEW_CHARS]
    hidden = len(lines) - shown.count("\n") - 1
    return shown + (f"\n… {hidden} more line{'s' if hidden != 1 else ''}" if hidden > 0 else "")


def review_outcome(proposal: Proposal, diffs: list[FileDiff | None], accepted: dict[str, set[int]],
                   result: ApplyResult | None) -> ReviewOutcome:
    """Which hunks were applied, numbered 1..N across the proposal's files in review order."""
    applied: list[int] = []
    number = 0
    for edit, diff in zip(proposal.edits, diffs, strict=True):
        for hunk in diff.hunks if diff is not None else ():
            number += 1
            if result is not None and result.hunks_applied and hunk.index in accepted.get(edit.path, ()):
                applied.append(number)
    outcome = ReviewOutcome(applied, number)
    if result is not None and result.commit_sha:
        outcome.message = f"{outcome.describe()}; committed as {result.commit_sha[:10]}"
    return outcome


def hunk_count(root: Path, proposal: Proposal) -> int:
    """How many hunks the review would show (a file that cannot be diffed counts none)."""
    count = 0
    for edit in proposal.edits:
        try:
            count += len(file_diff(root, edit).hunks)
        except (PathRefused, StaleFile, OSError):
            continue
    return count


class AgentReviewScreen(ReviewScreen):
    """The shared review screen, remembering the accepted hunks when it closes (they leave the DOM)."""

    final_accepted: dict[str, set[int]]

    def dismiss(self, result: ApplyResult | None = None) -> AwaitComplete:
        self.final_accepted = self.accepted()
        return super().dismiss(result)


class UserLine(Static):
    """What the user asked."""

    DEFAULT_CSS = """
    UserLine { margin: 1 0 0 0; padding: 0 1; background: $boost; color: $text; text-style: bold; }
    """

    def __init__(self, text: str) -> None:
        super().__init__(f"› {text}", markup=False)


class NoticeLine(Static):
    """A one-off line: retrying, failed, cancelled, usage, hints. The class picks the colour."""

    DEFAULT_CSS = """
    NoticeLine { padding: 0 1; color: $text-muted; }
    NoticeLine.-warning { color: $text-warning; }
    NoticeLine.-error { color: $text-error; }
    NoticeLine.-hint { color: $text; border-left: thick $accent; margin: 1 0; }
    NoticeLine.-usage { color: $text-muted; text-style: italic; text-align: right; }
    """

    def __init__(self, text: str, kind: str = "") -> None:
        super().__init__(text, markup=False, classes=f"-{kind}" if kind else "")


class ToolCallLine(Collapsible):
    """A tool call as one line (the summary); expanding it shows what the model was told."""

    DEFAULT_CSS = """
    ToolCallLine { border: none; padding: 0; margin: 0; background: transparent; }
    ToolCallLine > Contents { padding: 0 0 0 3; height: auto; }
    ToolCallLine CollapsibleTitle { color: $text-muted; padding: 0 1; }
    ToolCallLine.-error CollapsibleTitle { color: $text-error; }
    ToolCallLine .tool-result { color: $text-muted; text-wrap: nowrap; text-overflow: ellipsis; }
    """

    def __init__(self, summary: str, result: str | None = None, *, is_error: bool = False) -> None:
        self.summary = summary
        body = Static(result_preview(result) if result is not None else "running…", markup=False,
                      classes="tool-result")
        super().__init__(body, title=self._heading(result is not None, is_error), collapsed=True)
        self.set_class(is_error, "-error")

    def _heading(self, finished: bool, is_error: bool) -> str:
        mark = "✗" if is_error else ("✓" if finished else "⚙")
        return f"{mark} {self.summary}"

    def finish(self, result: str, is_error: bool) -> None:
        """Show the result the model received."""
        self.title = self._heading(True, is_error)
        self.set_class(is_error, "-error")
        self.query_one(".tool-result", Static).update(result_preview(result))


class ProposalCard(Vertical):
    """A proposal in the chat: title, files, "Review" and "Reject"; then what the user decided."""

    DEFAULT_CSS = """
    ProposalCard {
        height: auto; margin: 1 0; padding: 0 1; border: round $accent; border-title-color: $accent;
    }
    ProposalCard .card-rationale { color: $text-muted; }
    ProposalCard .card-buttons { height: auto; margin-top: 1; }
    ProposalCard .card-buttons Button { margin-right: 1; min-width: 10; }
    ProposalCard .card-outcome { text-style: bold; }
    ProposalCard.-decided { border: round $panel-lighten-2; }
    ProposalCard.-decided .card-buttons { display: none; }
    ProposalCard.-applied .card-outcome { color: $text-success; }
    """

    class Decided(Message):
        """The user applied some (or none) of the proposal; the agent is told `outcome`."""

        def __init__(self, card: ProposalCard, outcome: ReviewOutcome) -> None:
            super().__init__()
            self.card = card
            self.outcome = outcome

    def __init__(self, root: Path, proposal: Proposal, outcome: asyncio.Future[ReviewOutcome], *,
                 commit: bool = False) -> None:
        super().__init__()
        self.root = root
        self.commit = commit
        self.proposal = proposal
        self.outcome = outcome

    def compose(self) -> ComposeResult:
        self.border_title = "✎ Proposal"
        files = "\n".join(f"{_ACTION_MARK[e.action]} {e.path}" for e in self.proposal.edits)
        yield Static(self.proposal.title, markup=False, classes="card-title")
        if self.proposal.rationale:
            yield Static(self.proposal.rationale, markup=False, classes="card-rationale")
        yield Static(files, markup=False, classes="card-files")
        with Horizontal(classes="card-buttons"):
            yield Button("Review", variant="primary", classes="card-review")
            yield Button("Reject", classes="card-reject")
        yield Static("the agent waits for your review", markup=False, classes="card-outcome")

    def focus_review(self) -> None:
        self.query_one(".card-review", Button).focus()

    def expire(self, reason: str) -> None:
        """The turn that asked is gone (cancelled, failed): nothing can be applied from here."""
        if not self.has_class("-decided"):
            self._show(reason, applied=False)

    def _show(self, text: str, *, applied: bool) -> None:
        self.add_class("-decided")
        self.set_class(applied, "-applied")
        self.query_one(".card-outcome", Static).update(text)

    def _still_awaited(self) -> bool:
        if self.outcome.done():
            self.expire("this answer is over; nothing can be applied from it")
            return False
        return True

    @on(Button.Pressed, ".card-review")
    def _review(self, event: Button.Pressed) -> None:
        event.stop()
        if self._still_awaited():
            screen = AgentReviewScreen(self.root, self.proposal, commit=self.commit)
            self.app.push_screen(screen, lambda result: self._reviewed(screen, result))

    @on(Button.Pressed, ".card-reject")
    def _reject(self, event: Button.Pressed) -> None:
        event.stop()
        if self._still_awaited():
            count = hunk_count(self.root, self.proposal)
            self._decide(ReviewOutcome([], count, f"rejected: the user declined all {count} hunk(s) "
                                                  "without opening the review"))

    def _reviewed(self, screen: AgentReviewScreen, result: ApplyResult | None) -> None:
        if result is None:
            self.query_one(".card-outcome", Static).update("review closed without applying; "
                                                           "review again or reject")
            return
        if self._still_awaited():
            self._decide(review_outcome(self.proposal, screen.diffs, screen.final_accepted, result))

    def _decide(self, outcome: ReviewOutcome) -> None:
        self.outcome.set_result(outcome)
        self._show(outcome.describe(), applied=bool(outcome.applied_hunks))
        self.post_message(self.Decided(self, outcome))
