"""The findings panel: a table of the security scan's findings with filters, over the rule panel.

Contract: `show_findings(findings, complete=)` fills the table (appending when the new list extends
the shown one, as a streaming scan's does; otherwise rebuilding and keeping the cursor on the same
finding). Filters: minimum severity (`m` cycles), file kind (`k` cycles) and a text filter on rule ID,
rule title, peer IDs, path and message (`/` focuses it, escape clears all). Enter (or a click on the
highlighted row) opens the file at the finding's line, marked; `x`/`X`/`A` post `FixRequested` for
the finding, its rule in its file, or its rule in the repository. Messages are already redacted.
The table shows the first `MAX_ROWS` matches, so a monorepo's 20,000 findings never stall the UI.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.widgets import DataTable, Input, Label, Select

from core.models import FileKind, Finding, Severity
from core.rules.base import registered_rules
from tui.messages import FixRequested
from tui.widgets.empty_state import EmptyState
from tui.widgets.rule_panel import SEVERITY_MARKUP, RulePanel

KIND_CHOICES: tuple[FileKind, ...] = tuple(FileKind)
#: The table holds at most this many rows (a DataTable row costs ~0.5 ms to add); filters narrow the rest.
MAX_ROWS = 1000
SEVERITIES: tuple[Severity, ...] = tuple(Severity)


def search_text(finding: Finding) -> str:
    """What the text filter matches against, lower-cased."""
    rule = registered_rules().get(finding.rule_id)
    extra = f" {rule.title} {' '.join(rule.aliases)}" if rule is not None else ""
    return f"{finding.rule_id} {finding.path} {finding.message}{extra}".lower()


class FindingsPanel(Vertical):
    """Filter bar, findings table and the selected finding's rule."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("x", "fix('finding')", "Fix"),
        Binding("X", "fix('file')", "Fix rule in file"),
        Binding("A", "fix('repo')", "Fix rule in repo"),
        Binding("m", "cycle_severity", "Min severity"),
        Binding("k", "cycle_kind", "Kind"),
        Binding("slash", "focus_filter", "Filter"),
        Binding("escape", "clear_filters", "Clear filters", show=False),
    ]
    DEFAULT_CSS = """
    FindingsPanel {
        height: 1fr;
        & > #findings-filters { height: 1; background: $panel; padding: 0 1; }
        & #findings-filters > Label { width: auto; padding: 0 1 0 0; color: $text-muted; }
        & #findings-filters > Select { width: 16; margin-right: 1; }
        & #findings-filters > #findings-text { width: 1fr; min-width: 8; max-width: 40; margin-right: 1; }
        & #findings-filters > #findings-count { width: auto; min-width: 12; }
        & > #findings-table { height: 1fr; }
        & > #findings-empty { display: none; height: 1fr; }
        &.-empty > #findings-table { display: none; }
        &.-empty > #findings-empty { display: block; }
    }
    """

    min_severity: reactive[Severity] = reactive(Severity.INFO, init=False)
    """Findings below this severity are hidden."""
    kind: reactive[FileKind | None] = reactive(None, init=False)
    """Only findings in files of this kind (None: all kinds)."""
    text_filter: reactive[str] = reactive("", init=False)
    """Case-insensitive text every shown finding contains (rule, title, peer ID, path or message)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._all: tuple[Finding, ...] = ()
        self._shown: list[int] = []
        self._matching = 0
        self._search: dict[int, str] = {}
        self._complete = False
        self._ready = False

    def compose(self) -> ComposeResult:
        with Horizontal(id="findings-filters"):
            yield Label("min")
            yield Select([(s.label, s) for s in SEVERITIES], value=Severity.INFO, allow_blank=False,
                         compact=True, id="findings-severity")
            yield Select([(k.value, k) for k in KIND_CHOICES], prompt="all kinds", compact=True,
                         id="findings-kind")
            yield Input(placeholder="/ filter rule, path, text", compact=True, id="findings-text")
            yield Label("", id="findings-count")
        table: DataTable[str | Text] = DataTable(id="findings-table", cursor_type="row")
        table.add_column("Sev", key="sev", width=8)
        table.add_column("Rule", key="rule", width=8)
        table.add_column("Location", key="where")
        table.add_column("Message", key="message")
        yield table
        yield EmptyState(id="findings-empty")
        yield RulePanel(id="rule-panel")

    def on_mount(self) -> None:
        self._ready = True
        self._rebuild()

    @property
    def table(self) -> DataTable[str | Text]:
        return self.query_one("#findings-table", DataTable)

    @property
    def rule_panel(self) -> RulePanel:
        return self.query_one(RulePanel)

    @property
    def shown(self) -> list[Finding]:
        """The findings in the table, in table order."""
        return [self._all[i] for i in self._shown]

    @property
    def selected(self) -> Finding | None:
        """The finding under the cursor."""
        row = self.table.cursor_row
        return self._all[self._shown[row]] if 0 <= row < len(self._shown) else None

    # Filling --------------------------------------------------------------------------------------

    def show_findings(self, findings: Sequence[Finding], *, complete: bool = True) -> None:
        """Show `findings` (all of them; filters are applied here)."""
        findings = tuple(findings)
        old = self._all
        self._complete = complete
        extends = bool(old) and len(findings) >= len(old) and findings[len(old) - 1] is old[-1]
        self._all = findings
        if not self._ready:
            return  # on_mount shows them
        if extends:
            self._add_rows(range(len(old), len(findings)))
        else:
            self._search.clear()
            self._rebuild(keep=self.selected if old else None)
        self._refresh_empty()

    def _matches(self, number: int) -> bool:
        finding = self._all[number]
        if finding.severity < self.min_severity:
            return False
        if self.kind is not None and finding.kind is not self.kind:
            return False
        if self.text_filter:
            text = self._search.get(number)
            if text is None:
                text = self._search[number] = search_text(finding)
            return self.text_filter in text
        return True

    def _add_rows(self, numbers: range) -> None:
        table = self.table
        rows: list[tuple[Text | str, ...]] = []
        keys: list[str] = []
        for number in numbers:
            if not self._matches(number):
                continue
            self._matching += 1
            if len(self._shown) >= MAX_ROWS:
                continue
            finding = self._all[number]
            rows.append((Text(finding.severity.label, style=SEVERITY_MARKUP[finding.severity]),
                         finding.rule_id, f"{finding.path}:{finding.line}", finding.message))
            keys.append(str(number))
            self._shown.append(number)
        for row, key in zip(rows, keys, strict=True):
            table.add_row(*row, key=key)
        if rows and len(self._shown) == len(rows):
            self._show_rule()

    def _rebuild(self, keep: Finding | None = None) -> None:
        table = self.table
        table.clear()
        self._shown = []
        self._matching = 0
        self._add_rows(range(len(self._all)))
        if keep is not None:
            for row, number in enumerate(self._shown):
                if self._all[number].fingerprint == keep.fingerprint:
                    table.move_cursor(row=row, animate=False)
                    break
        self._show_rule()
        self._refresh_empty()

    def _refresh_empty(self) -> None:
        total, shown, matching = len(self._all), len(self._shown), self._matching
        if shown < matching:
            count = f"first {shown:,} of {matching:,}"
        else:
            count = f"{shown:,} of {total:,}" if shown != total else f"{total:,}"
        self.query_one("#findings-count", Label).update(count + ("" if self._complete else " …"))
        self.set_class(shown == 0, "-empty")
        if shown:
            return
        empty = self.query_one("#findings-empty", EmptyState)
        if total:
            empty.show("No finding matches the filters", "Press [b]escape[/] to clear them.")
        elif self._complete:
            empty.show("No findings", "The security scan found nothing to report.")
        else:
            empty.show("Scanning…", "Findings appear here as files are scanned.")

    def _show_rule(self) -> None:
        self.rule_panel.show_finding(self.selected)

    # Filters --------------------------------------------------------------------------------------

    def watch_min_severity(self, severity: Severity) -> None:
        self.query_one("#findings-severity", Select).value = severity
        self._rebuild(self.selected)

    def watch_kind(self, kind: FileKind | None) -> None:
        select = self.query_one("#findings-kind", Select)
        if kind is None:
            select.clear()
        else:
            select.value = kind
        self._rebuild(self.selected)

    def watch_text_filter(self) -> None:
        self._rebuild(self.selected)

    @on(Select.Changed, "#findings-severity")
    def _severity_chosen(self, event: Select.Changed) -> None:
        if isinstance(event.value, Severity):
            self.min_severity = event.value

    @on(Select.Changed, "#findings-kind")
    def _kind_chosen(self, event: Select.Changed) -> None:
        self.kind = event.value if isinstance(event.value, FileKind) else None

    @on(Input.Changed, "#findings-text")
    def _text_changed(self, event: Input.Changed) -> None:
        self.text_filter = event.value.strip().lower()

    @on(Input.Submitted, "#findings-text")
    def _text_submitted(self) -> None:
        self.table.focus()

    def action_cycle_severity(self) -> None:
        """Raise the minimum severity by one step, wrapping from critical back to info."""
        self.min_severity = SEVERITIES[(SEVERITIES.index(self.min_severity) + 1) % len(SEVERITIES)]

    def action_cycle_kind(self) -> None:
        """Show the next file kind that has findings (then all kinds again)."""
        present = [k for k in KIND_CHOICES if any(f.kind is k for f in self._all)]
        choices: list[FileKind | None] = [None, *present]
        current = choices.index(self.kind) if self.kind in choices else 0
        self.kind = choices[(current + 1) % len(choices)]

    def action_focus_filter(self) -> None:
        self.query_one("#findings-text", Input).focus()

    def action_clear_filters(self) -> None:
        """Show every finding again."""
        self.query_one("#findings-text", Input).value = ""
        self.text_filter = ""
        self.kind = None
        self.min_severity = Severity.INFO
        self.table.focus()

    # Selection and actions ----------------------------------------------------------------------

    @on(DataTable.RowHighlighted, "#findings-table")
    def _highlighted(self) -> None:
        self._show_rule()

    @on(DataTable.RowSelected, "#findings-table")
    def _selected(self) -> None:
        self.action_jump()

    def action_jump(self) -> None:
        """Open the selected finding's file at its line, marked."""
        finding = self.selected
        open_file = getattr(self.screen, "open_file", None)
        if finding is not None and open_file is not None and open_file(finding.path, finding.line):
            view = getattr(self.screen, "file_view", None)
            if view is not None:
                view.focus()

    def action_fix(self, scope: str) -> None:
        """Ask for a quick fix of the selected finding (scope: finding, file or repo)."""
        finding = self.selected
        if finding is None:
            self.notify("Select a finding first.", severity="warning")
            return
        self.post_message(FixRequested(finding, scope))
