"""The duplicates panel: copy-paste groups ranked by lines saved, each group's copies stacked.

Contract: `show_clusters(clusters, index)` lists the duplication scan's groups, best first (lines
saved); the highlighted group's copies are shown one under another with their line numbers, the
values that differ between copies highlighted, and every secret redacted (the file view's display
form). `p` posts `AbstractionRequested` for the group; enter or a click on a copy opens it in the file
view at its first line. A group shows at most `MAX_COPIES_SHOWN` copies.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import ClassVar

from rich.markup import escape
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.events import Click
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from core.discovery import InfraIndex
from core.dupes.model import DuplicateCluster, Gap, Occurrence
from core.dupes.report import gap_text
from core.secrets.scanner import redact_line
from tui.messages import AbstractionRequested
from tui.widgets.empty_state import EmptyState
from tui.widgets.file_view import masked_text

#: A copy longer than this is cut in the panel (the file view shows all of it).
MAX_LINES_SHOWN = 40
#: A group with more copies shows this many (a generated monorepo has groups of 1,000 copies).
MAX_COPIES_SHOWN = 12
VARYING_STYLE = "bold black on yellow"
#: near-miss groups: the gutter of a unit only some copies have, and the note where a unit is missing
GAP_STYLE = "bold magenta"


def group_label(cluster: DuplicateCluster) -> Text:
    """One line per group: lines saved, copies, what it is and what would replace it."""
    files = cluster.files
    where = files[0] + (f" +{len(files) - 1}" if len(files) > 1 else "")
    near = ("≈ ", "yellow") if cluster.gaps else ""  # a near miss: the copies differ by a step or two
    return Text.assemble((f"{cluster.lines_saved:>4} ", "bold green"), (f"{cluster.copies}× ", "bold"), near,
                         f"{cluster.category} → {cluster.abstraction}  ", (where, "dim"),
                         no_wrap=True, overflow="ellipsis")


def copy_text(occurrence: Occurrence, lines: Sequence[str], varying: Sequence[str],
              gaps: Sequence[Gap] = ()) -> Text:
    """A copy's lines (already masked) with numbers, its varying values highlighted, and for a near-miss
    group its gaps: lines only some copies have marked `+`, a unit it lacks noted where it would be."""
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(f"{occurrence.path}:{occurrence.start_line}-{occurrence.end_line}", style="bold")
    if occurrence.label:
        text.append(f"  {occurrence.label}", style="dim")
    last = min(occurrence.end_line, occurrence.start_line + MAX_LINES_SHOWN - 1, len(lines))
    width = len(str(last))
    needles = sorted((v for v in set(varying) if v.strip() and "\n" not in v), key=len, reverse=True)
    pattern = re.compile("|".join(re.escape(v) for v in needles)) if needles else None
    extra = {n for g in gaps if g.kind != "missing" for n in range(g.line, g.end_line + 1)}
    missing = {g.line: g.label for g in gaps if g.kind == "missing"}
    for number in range(occurrence.start_line, last + 1):
        line = Text(lines[number - 1].expandtabs(4))
        if pattern is not None:
            line.highlight_regex(pattern, VARYING_STYLE)
        if number in extra:
            text.append(f"\n{number:>{width}} + ", style=GAP_STYLE)
        else:
            text.append(f"\n{number:>{width}} │ ", style="dim")
        text.append_text(line)
        if number in missing:
            text.append(f"\n{'':>{width}} − missing here: {missing[number]}", style=f"{GAP_STYLE} italic")
    if last < occurrence.end_line:
        text.append(f"\n… {occurrence.end_line - last} more lines (enter opens the file)", style="dim italic")
    return text


class CopyView(Static, can_focus=True):
    """One copy of a group; enter or a click opens it in the file view."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter", "open", "Open copy", show=False)]
    DEFAULT_CSS = """
    CopyView { padding: 0 1; margin-bottom: 1; background: $boost; width: 1fr; }
    CopyView:focus { background: $primary 20%; }
    """

    def __init__(self, occurrence: Occurrence, text: Text) -> None:
        super().__init__(text)
        self.occurrence = occurrence
        self.body = text

    def action_open(self) -> None:
        """Show this copy in the file view, its first line marked."""
        open_file = getattr(self.screen, "open_file", None)
        if open_file is not None and open_file(self.occurrence.path, self.occurrence.start_line):
            view = getattr(self.screen, "file_view", None)
            if view is not None:
                view.focus()

    def on_click(self, event: Click) -> None:
        event.stop()
        self.action_open()


class DupesPanel(Vertical):
    """Ranked groups on top, the highlighted group's copies below."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("p", "propose", "Propose abstraction")]
    DEFAULT_CSS = """
    DupesPanel {
        height: 1fr;
        & > #dupes-list { height: auto; max-height: 35%; border: none; }
        & > #dupes-summary { height: auto; padding: 0 1; background: $panel; }
        & > #dupes-copies { height: 1fr; padding: 1 0 0 0; }
        & > #dupes-empty { display: none; height: 1fr; }
        &.-empty > #dupes-list, &.-empty > #dupes-summary, &.-empty > #dupes-copies { display: none; }
        &.-empty > #dupes-empty { display: block; }
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.clusters: tuple[DuplicateCluster, ...] = ()
        self._index: InfraIndex | None = None
        self._showing: str | None = None
        self._ready = False
        self._pending: tuple[Sequence[DuplicateCluster], InfraIndex | None] | None = None

    def compose(self) -> ComposeResult:
        yield OptionList(id="dupes-list")
        yield Static("", id="dupes-summary")
        yield VerticalScroll(id="dupes-copies", can_focus=False)
        yield EmptyState(id="dupes-empty")

    def on_mount(self) -> None:
        self._ready = True
        if self._pending is not None:
            self.show_clusters(*self._pending)
        else:
            self.set_class(True, "-empty")
            self.query_one("#dupes-empty", EmptyState).show("Looking for copies…", "")

    @property
    def selected(self) -> DuplicateCluster | None:
        """The highlighted group."""
        highlighted = self.query_one("#dupes-list", OptionList).highlighted
        if highlighted is None or highlighted >= len(self.clusters):
            return None
        return self.clusters[highlighted]

    def show_clusters(self, clusters: Sequence[DuplicateCluster], index: InfraIndex | None) -> None:
        """List `clusters` (best first), keeping the highlighted group when it still exists."""
        if not self._ready:
            self._pending = (clusters, index)
            return
        keep = self.selected.id if self.selected is not None else None
        self.clusters = tuple(sorted(clusters, key=lambda c: -c.lines_saved))
        self._index = index
        self._showing = None
        options = self.query_one("#dupes-list", OptionList)
        options.clear_options()
        options.add_options([Option(group_label(c), id=c.id) for c in self.clusters])
        self.set_class(not self.clusters, "-empty")
        if not self.clusters:
            self.query_one("#dupes-empty", EmptyState).show(
                "No duplicated blocks", "No copy-pasted steps, jobs, services or scripts worth sharing.")
            return
        ids = [c.id for c in self.clusters]
        options.highlighted = ids.index(keep) if keep in ids else 0
        self._show_selected()

    @on(OptionList.OptionHighlighted, "#dupes-list")
    def _highlighted(self) -> None:
        self._show_selected()

    @on(OptionList.OptionSelected, "#dupes-list")
    def _chosen(self) -> None:
        copies = self.query(CopyView)
        if copies:
            copies.first().focus()

    def _show_selected(self) -> None:
        cluster = self.selected
        if cluster is None or cluster.id == self._showing:
            return
        self._showing = cluster.id
        self.query_one("#dupes-summary", Static).update(self._summary(cluster))
        copies = self.query_one("#dupes-copies", VerticalScroll)
        copies.remove_children()
        views: list[Static] = [CopyView(occurrence, self._copy_text(cluster, number))
                               for number, occurrence in enumerate(cluster.occurrences[:MAX_COPIES_SHOWN])]
        hidden = cluster.occurrences[MAX_COPIES_SHOWN:]
        if hidden:
            files = len({o.path for o in hidden})
            views.append(Static(f"[dim]… and {len(hidden):,} more copies in {files:,} file"
                                f"{'s' if files != 1 else ''}[/]", classes="more-copies"))
        copies.mount_all(views)
        copies.scroll_home(animate=False)

    @staticmethod
    def _summary(cluster: DuplicateCluster) -> str:
        lines = [f"[b]{cluster.copies} copies[/] of {cluster.lines_each} lines · {escape(cluster.category)}"
                 f" → [b]{escape(cluster.abstraction)}[/] saves [b $success]{cluster.lines_saved}[/] lines"
                 " · [b]p[/] proposes it"]
        for parameter in cluster.parameters:
            values = " | ".join(escape(redact_line(v)) for v in parameter.values)
            lines.append(f"[dim]varies[/] [b]{escape(parameter.name)}[/]: {values}")
        lines.extend(f"[dim]gap[/] {escape(gap_text(cluster, gap))}" for gap in cluster.gaps)
        if cluster.exact:
            lines.append("[dim]every copy is identical[/]")
        if cluster.note:
            lines.append(f"[dim]{escape(cluster.note)}[/]")
        return "\n".join(lines)

    def _copy_text(self, cluster: DuplicateCluster, number: int) -> Text:
        occurrence = cluster.occurrences[number]
        parsed = self._index.parsed.get(occurrence.path) if self._index is not None else None
        lines = masked_text(parsed).split("\n") if parsed is not None else []
        varying = [p.values[number] for p in cluster.parameters if number < len(p.values)]
        return copy_text(occurrence, lines, varying, [g for g in cluster.gaps if g.occurrence == number])

    def action_propose(self) -> None:
        """Ask for the abstraction replacing the highlighted group's copies."""
        cluster = self.selected
        if cluster is None:
            self.notify("No duplicate group selected.", severity="warning")
            return
        self.post_message(AbstractionRequested(cluster))
