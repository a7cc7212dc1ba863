"""The review screen every producer goes through: per-file, per-hunk accept, then one apply.

Contract: `ReviewScreen(root, proposal)` is a modal that shows each file's coloured diff split into
hunks (all accepted at first); space or a click toggles the focused hunk, `a`/`n` accept all/none,
ctrl+s (or the Apply button) applies the accepted hunks through `core.patching.apply_proposal` in a
thread worker. Problems (stale files, refused paths, validation) are shown under their file; when
only validation failed, `o` applies anyway. The "commit after apply" checkbox asks for one git commit.
After an apply the result line is shown and the screen dismisses with the `ApplyResult` on the next
escape or enter; cancel dismisses with None. It never writes a file itself. Secret values in diff
lines are masked on screen.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.events import Click
from textual.message import Message
from textual.reactive import reactive
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, OptionList, Static
from textual.widgets.option_list import Option

from core.config import load_config_or_default
from core.patching.apply import ApplyRefused, ApplyResult, Problem, apply_proposal, check_proposal
from core.patching.diff import FileDiff, Hunk, StaleFile, file_diff
from core.patching.gate import PathRefused
from core.patching.masking import mask_line
from core.patching.proposal import EditAction, Proposal

_ACTION_MARK = {EditAction.CREATE: "A", EditAction.MODIFY: "M", EditAction.DELETE: "D"}
_LINE_STYLE = {"+": "green", "-": "red", " ": "dim"}


class HunkView(Static, can_focus=True):
    """One hunk with its accept mark; space or a click toggles it."""

    DEFAULT_CSS = """
    HunkView { padding: 0 1; margin-bottom: 1; background: $boost; text-wrap: nowrap; text-overflow: fold; }
    HunkView:focus { background: $primary 20%; }
    HunkView.-rejected { opacity: 55%; }
    """

    accepted: reactive[bool] = reactive(True)

    class Toggled(Message):
        """A hunk was accepted or rejected by the user."""

        def __init__(self, view: HunkView) -> None:
            super().__init__()
            self.view = view

    def __init__(self, path: str, hunk: Hunk, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.path = path
        self.hunk = hunk

    def on_mount(self) -> None:
        self.update(self._text())

    def _text(self) -> Text:
        text = Text()
        mark = "[x]" if self.accepted else "[ ]"
        text.append(f"{mark} {self.hunk.header}", style="bold cyan" if self.accepted else "cyan")
        text.append(f"  +{self.hunk.added} -{self.hunk.removed}", style="dim")
        for line in self.hunk.lines:
            text.append("\n")
            text.append(f"{line.tag}{mask_line(line.text)}", style=_LINE_STYLE[line.tag])
            if line.no_newline:
                text.append("\n\\ No newline at end of file", style="dim italic")
        return text

    def watch_accepted(self, accepted: bool) -> None:
        self.set_class(not accepted, "-rejected")
        if self.is_mounted:
            self.update(self._text())

    def toggle(self) -> None:
        self.accepted = not self.accepted
        self.post_message(self.Toggled(self))

    def on_click(self, event: Click) -> None:
        event.stop()
        self.focus()
        self.toggle()


class ReviewScreen(ModalScreen[ApplyResult | None]):
    """Review a proposal hunk by hunk and apply what was accepted."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Cancel"),
        Binding("space", "toggle_hunk", "Toggle hunk"),
        Binding("a", "accept_all", "Accept all"),
        Binding("n", "accept_none", "Accept none"),
        Binding("j,down", "next_hunk", "Next hunk", show=False),
        Binding("k,up", "previous_hunk", "Previous hunk", show=False),
        Binding("c", "toggle_commit", "Commit after apply"),
        Binding("ctrl+s", "apply", "Apply"),
        Binding("o", "override", "Apply anyway", show=False),
    ]
    DEFAULT_CSS = """
    ReviewScreen { align: center middle; }
    ReviewScreen #review-dialog {
        width: 95%; height: 95%; border: round $primary; background: $surface; padding: 0 1;
        border-title-align: left; border-subtitle-align: right;
    }
    ReviewScreen #review-rationale { color: $text-muted; margin-bottom: 1; max-height: 4; }
    ReviewScreen #review-body { height: 1fr; }
    ReviewScreen #review-files { width: 30%; max-width: 40; height: 1fr; margin-right: 1; }
    ReviewScreen #review-diff { width: 1fr; height: 1fr; }
    ReviewScreen .file-header { text-style: bold; background: $panel; padding: 0 1; }
    ReviewScreen .problems { color: $error; padding: 0 1; margin-bottom: 1; }
    ReviewScreen .problems.-empty { display: none; }
    ReviewScreen #review-general.-empty { display: none; }
    ReviewScreen #review-actions { height: auto; margin-top: 1; }
    ReviewScreen #review-actions Button { margin-left: 1; }
    ReviewScreen #review-result { height: auto; color: $success; text-style: bold; }
    ReviewScreen #review-result.-error { color: $error; }
    """

    def __init__(self, root: Path, proposal: Proposal, *, commit: bool | None = None) -> None:
        """`commit` ticks "commit after apply"; by default the project's `commit-after-apply` setting."""
        super().__init__()
        self.root = Path(root)
        self.proposal = proposal
        if commit is None:
            commit = load_config_or_default(self.root)[0].commit_after_apply
        self._commit_default = commit
        self.diffs: list[FileDiff | None] = []
        self._load_problems: dict[int, str] = {}
        for index, edit in enumerate(proposal.edits):
            try:
                self.diffs.append(file_diff(self.root, edit))
            except (PathRefused, StaleFile, OSError) as exc:
                self.diffs.append(None)
                self._load_problems[index] = str(exc)
        self.result: ApplyResult | None = None
        self._overridable = False
        self._busy = False

    def compose(self) -> ComposeResult:
        with Vertical(id="review-dialog") as dialog:
            dialog.border_title = f"Review: {self.proposal.title}"
            dialog.border_subtitle = f"{self.proposal.producer} · {self.proposal.safety}"
            yield Static(self.proposal.rationale, id="review-rationale", markup=False)
            with Horizontal(id="review-body"):
                yield OptionList(*self._file_options(), id="review-files")
                with VerticalScroll(id="review-diff"):
                    for index, edit in enumerate(self.proposal.edits):
                        header = f"{_ACTION_MARK[edit.action]} {edit.path}"
                        yield Static(header, classes="file-header", id=f"file-{index}", markup=False)
                        problem = self._load_problems.get(index, "")
                        yield Static(problem, classes="problems" + ("" if problem else " -empty"),
                                     id=f"problems-{index}", markup=False)
                        diff = self.diffs[index]
                        for hunk in diff.hunks if diff else ():
                            yield HunkView(edit.path, hunk, id=f"hunk-{index}-{hunk.index}")
            yield Static("", id="review-general", classes="problems -empty", markup=False)
            with Horizontal(id="review-actions"):
                yield Checkbox("Commit after apply", self._commit_default, id="review-commit")
                yield Button("Apply", variant="primary", id="review-apply")
                yield Button("Cancel", id="review-cancel")
            yield Static("", id="review-result", markup=False)

    def on_mount(self) -> None:
        hunks = list(self.query(HunkView))
        if hunks:
            hunks[0].focus()
        self._show_problems(check_proposal(self.root, self.proposal, self.accepted()))

    def _file_options(self) -> list[Option]:
        options = []
        for index, edit in enumerate(self.proposal.edits):
            diff = self.diffs[index]
            total = len(diff.hunks) if diff else 0
            chosen = sum(1 for v in self._views(index) if v.accepted) if self.is_mounted else total
            label = f"{_ACTION_MARK[edit.action]} {edit.path}  {chosen}/{total}"
            options.append(Option(label, id=f"opt-{index}"))
        return options

    def _views(self, index: int) -> list[HunkView]:
        path = self.proposal.edits[index].path
        return [v for v in self.query(HunkView) if v.path == path]

    def accepted(self) -> dict[str, set[int]]:
        """The accepted hunk indexes per path, as `apply_proposal` takes them."""
        chosen: dict[str, set[int]] = {edit.path: set() for edit in self.proposal.edits}
        for view in self.query(HunkView):
            if view.accepted:
                chosen[view.path].add(view.hunk.index)
        return chosen

    def _refresh_files(self) -> None:
        files = self.query_one("#review-files", OptionList)
        highlighted = files.highlighted
        files.clear_options()
        files.add_options(self._file_options())
        files.highlighted = highlighted

    def _show_problems(self, problems: list[Problem] | tuple[Problem, ...]) -> None:
        by_index: dict[int, list[str]] = {}
        general: list[str] = []
        paths = {edit.path: i for i, edit in enumerate(self.proposal.edits)}
        for problem in problems:
            if problem.path in paths:
                by_index.setdefault(paths[problem.path], []).append(problem.message)
            else:
                general.append(problem.message)
        for index in range(len(self.proposal.edits)):
            loaded = [self._load_problems[index]] if index in self._load_problems else []
            lines = by_index.get(index) or loaded
            widget = self.query_one(f"#problems-{index}", Static)
            widget.update("\n".join(f"✗ {line}" for line in lines))
            widget.set_class(not lines, "-empty")
        general_widget = self.query_one("#review-general", Static)
        self._overridable = bool(problems) and all(p.overridable for p in problems)
        if self._overridable:
            general.append("validation failed: press o to apply anyway")
        general_widget.update("\n".join(general))
        general_widget.set_class(not general, "-empty")

    @on(HunkView.Toggled)
    def _hunk_toggled(self) -> None:
        self._refresh_files()

    @on(OptionList.OptionSelected, "#review-files")
    @on(OptionList.OptionHighlighted, "#review-files")
    def _jump_to_file(self, event: OptionList.OptionSelected | OptionList.OptionHighlighted) -> None:
        self.query_one(f"#file-{event.option_index}").scroll_visible(top=True, animate=False)

    def _focused_hunk(self) -> HunkView | None:
        return self.focused if isinstance(self.focused, HunkView) else None

    def action_toggle_hunk(self) -> None:
        view = self._focused_hunk()
        if view is not None and self.result is None:
            view.toggle()

    def _set_all(self, accepted: bool) -> None:
        if self.result is not None:
            return
        for view in self.query(HunkView):
            view.accepted = accepted
        self._refresh_files()

    def action_accept_all(self) -> None:
        self._set_all(True)

    def action_accept_none(self) -> None:
        self._set_all(False)

    def _move(self, step: int) -> None:
        views = list(self.query(HunkView))
        if not views:
            return
        current = self._focused_hunk()
        index = views.index(current) + step if current in views else 0
        views[max(0, min(index, len(views) - 1))].focus()

    def action_next_hunk(self) -> None:
        self._move(1)

    def action_previous_hunk(self) -> None:
        self._move(-1)

    def action_toggle_commit(self) -> None:
        self.query_one("#review-commit", Checkbox).toggle()

    def action_apply(self) -> None:
        if self.result is not None:
            self.dismiss(self.result)
        elif not self._busy:
            self._start_apply(allow_invalid=False)

    def action_override(self) -> None:
        if self._overridable and not self._busy and self.result is None:
            self._start_apply(allow_invalid=True)

    def action_close(self) -> None:
        if not self._busy:
            self.dismiss(self.result)

    @on(Button.Pressed, "#review-apply")
    def _apply_pressed(self) -> None:
        self.action_apply()

    @on(Button.Pressed, "#review-cancel")
    def _cancel_pressed(self) -> None:
        self.action_close()

    def _start_apply(self, *, allow_invalid: bool) -> None:
        self._busy = True
        self.query_one("#review-result", Static).update("applying…")
        commit = self.query_one("#review-commit", Checkbox).value
        self._apply(self.accepted(), allow_invalid, commit)

    @work(thread=True, exclusive=True, group="apply", exit_on_error=False)
    def _apply(self, accepted: dict[str, set[int]], allow_invalid: bool, commit: bool) -> None:
        try:
            result = apply_proposal(self.root, self.proposal, accepted, allow_invalid=allow_invalid,
                                    commit=commit)
        except ApplyRefused as exc:
            self.app.call_from_thread(self._refused, exc)
        except Exception as exc:  # an unexpected failure must reach the user, not kill the app
            self.app.call_from_thread(self._refused, ApplyRefused([Problem("", f"apply failed: {exc}")]))
        else:
            self.app.call_from_thread(self._applied, result)

    def _refused(self, exc: ApplyRefused) -> None:
        self._busy = False
        self._show_problems(exc.problems)
        result = self.query_one("#review-result", Static)
        result.update("nothing was written")
        result.add_class("-error")

    def _applied(self, result: ApplyResult) -> None:
        self._busy = False
        self.result = result
        self._show_problems([])
        widget = self.query_one("#review-result", Static)
        widget.update(result.summary + " — enter or escape closes")
        widget.set_class(result.commit_error is not None, "-error")
        button = self.query_one("#review-apply", Button)
        button.label = "Close"
        button.focus()
        self.query_one("#review-cancel", Button).disabled = True
