"""The main screen: the infrastructure tree beside a tabbed workspace whose first tab is the file view.

Contract: the screen shows whatever the app's discovery reports (`DiscoveryStarted`,
`DiscoveryProgressed`, `IndexBuilt`, `DiscoveryFailed` are posted to it and then bubble to the app);
`open_file(path, line)` is the one way to show a file, from the tree, the palette or a later findings
panel; `add_tab(title, widget, id)` is how a later feature (findings, duplicates) joins the workspace.
"""

from __future__ import annotations

from rich.markup import escape
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Header, Static, TabbedContent, TabPane, Tree

from core.discovery import InfraIndex
from core.models import GitStatus
from tui.messages import (
    DiscoveryFailed,
    DiscoveryProgressed,
    DiscoveryStarted,
    FileOpened,
    FilesListed,
    IndexBuilt,
)
from tui.widgets.chat_panel import ChatPanel
from tui.widgets.empty_state import EmptyState
from tui.widgets.file_view import FileView
from tui.widgets.infra_tree import SKIPPED_GROUP, FileEntry, InfraTree, SkippedEntry, TreeEntry
from tui.widgets.status_line import StatusLine

RECOGNISED_FILES = """\
[b]Docker[/]          Dockerfile, Containerfile, Dockerfile.*, *.dockerfile
[b]Compose[/]         docker-compose*.yml, compose*.yml, YAML with top-level services:
[b]GitHub Actions[/]  .github/workflows/*.yml, action.yml
[b]GitLab CI[/]       .gitlab-ci.yml and the files it includes
[b]Kubernetes[/]      YAML documents with apiVersion: and kind:
[b]Env[/]             .env, .env.*, *.env
[b]Scripts[/]         *.sh, *.bash, *.zsh, files with a shell #! line"""

FILE_TAB = "tab-file"


def _human_size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KiB"
    return f"{size / 1024 / 1024:.1f} MiB"


class MainScreen(Screen[None]):
    """Tree on the left, workspace tabs on the right, status line and key bar at the bottom."""

    BINDINGS = [
        Binding("t", "toggle_tree", "Tree"),
        Binding("f", "focus_file", "File view", show=False),
        Binding("s", "show_skipped", "Skipped files", show=False),
        Binding("c", "toggle_chat", "Chat"),
        Binding("i,ctrl+l", "focus_chat", "Ask the agent", show=False),
    ]

    show_tree: reactive[bool] = reactive(True)
    """Whether the tree is visible; `t` toggles it to give the workspace the full width."""
    discovery_summary = ""
    """The status line's account of the last discovery (scans append theirs to it)."""

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="body"):
            with Vertical(id="sidebar"):
                yield InfraTree(id="tree")
            with TabbedContent(id="workspace", initial=FILE_TAB), TabPane("File", id=FILE_TAB):
                yield Static("", id="file-info")
                yield EmptyState(id="file-empty")
                yield FileView(id="file-view")
            yield ChatPanel(id="chat")
        yield StatusLine(id="status")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#file-empty", EmptyState).show("Reading the repository…", "")
        self.set_class(True, "-no-file")
        self.query_one(InfraTree).focus()
        self.watch(self.file_view, "revealed", self._refresh_info, init=False)

    def _refresh_info(self) -> None:
        """Re-describe the open file (its masked/revealed note changes)."""
        index, path = self.app_index, self.file_view.path
        if index is not None and path is not None and path in index.parsed:
            self.query_one("#file-info", Static).update(self._file_info(index, path))

    @property
    def infra_tree(self) -> InfraTree:
        return self.query_one(InfraTree)

    @property
    def file_view(self) -> FileView:
        return self.query_one(FileView)

    @property
    def status(self) -> StatusLine:
        return self.query_one(StatusLine)

    def add_tab(self, title: str, widget: Widget, *, id: str, activate: bool = False) -> TabPane:
        """Add a workspace tab (findings, duplicates…) holding `widget`; returns the new pane."""
        tabs = self.query_one(TabbedContent)
        pane = TabPane(title, widget, id=id)
        tabs.add_pane(pane)
        if activate:
            tabs.active = id
        return pane

    def show_tab(self, id: str) -> None:
        self.query_one(TabbedContent).active = id

    # Discovery ----------------------------------------------------------------------------------

    def on_discovery_started(self, event: DiscoveryStarted) -> None:
        self.status.busy("Discovering files…")

    def on_discovery_progressed(self, event: DiscoveryProgressed) -> None:
        done, total = event.progress.done, event.progress.total
        self.status.busy(f"Discovering… {done:,} of {total:,} files", done, total)

    def on_discovery_failed(self, event: DiscoveryFailed) -> None:
        self.status.idle(f"[$text-error]Discovery failed:[/] {escape(event.error)}")
        if self.file_view.path is None:
            body = escape(event.error) + "\n\nPress [b]r[/] to retry."
            self._show_empty("Could not read the repository", body)

    def on_files_listed(self, event: FilesListed) -> None:
        """Paint the tree from the quick listing while the files are parsed."""
        if self.infra_tree.file_count == 0:
            self.infra_tree.show_index(event.index)

    def on_index_built(self, event: IndexBuilt) -> None:
        self.show_index(event.index, event.seconds)

    def show_index(self, index: InfraIndex, seconds: float = 0.0) -> None:
        """Fill the tree from `index`, refresh an open file, and say what was found."""
        tree = self.infra_tree
        tree.show_index(index)
        count = tree.file_count
        parts = [f"{count:,} infrastructure file{'s' if count != 1 else ''}"]
        if index.skipped:
            parts.append(f"{len(index.skipped):,} skipped ([b]s[/] to list)")
        if not index.repo.is_git:
            parts.append("not a git repository" + (f" ({index.repo.problem})" if index.repo.problem else ""))
        self.log.info(f"discovery: {len(index.files)} files in {seconds:.3f}s")
        self.discovery_summary = " · ".join(parts)
        self.status.idle(self.discovery_summary)
        self.set_class(count == 0 and not index.skipped, "-no-infra")
        opened = self.file_view.path
        if opened is not None and opened in index.parsed:
            self.open_file(opened, self.file_view.marked_line, move_tree=False)
        elif count == 0:
            self._show_empty(
                "No infrastructure files found",
                "devops-tui looks for these files (files ignored by git are left out):\n\n"
                + RECOGNISED_FILES
                + "\n\nAdd one, or open another folder: [b]devops-tui PATH[/]. Press [b]r[/] to rescan.",
            )
        else:
            self._show_empty(
                "Select a file",
                "Move in the tree with [b]↑ ↓[/], open a file with [b]enter[/] or a click.\n"
                "[b]ctrl+p[/] opens the command palette, [b]?[/] shows every key.",
            )

    # Files --------------------------------------------------------------------------------------

    def open_file(self, path: str, line: int | None = None, *, move_tree: bool = True) -> bool:
        """Show `path` in the file view (marking `line`); False, with a notice, if it is not indexed."""
        index = self.app_index
        parsed = index.parsed.get(path) if index is not None else None
        if index is None or parsed is None:
            self.notify(f"{path} is not in the index; press r to rescan.", severity="warning")
            return False
        self.show_tab(FILE_TAB)
        self.file_view.show_file(parsed, line)
        self.set_class(False, "-no-file")
        self.query_one("#file-info", Static).update(self._file_info(index, path))
        if move_tree:
            self.infra_tree.select_path(path)
        self.post_message(FileOpened(path, line))
        return True

    @property
    def app_index(self) -> InfraIndex | None:
        index = getattr(self.app, "index", None)
        return index if isinstance(index, InfraIndex) else None

    def _file_info(self, index: InfraIndex, path: str) -> str:
        parsed = index.parsed[path]
        file = parsed.file
        lines_count = len(parsed.lines) if parsed.lines else len(parsed.text.splitlines())
        parts = [f"[b]{escape(path)}[/]",
                 f"[dim]{file.kind.group} · {_human_size(file.size)} · {lines_count} line"
                 f"{'' if lines_count == 1 else 's'}[/]"]
        status = index.repo.status(path)
        if status not in (GitStatus.CLEAN, GitStatus.NOT_GIT):
            parts.append(f"[$text-warning]{status.value}[/]")
        if self.file_view.masked:
            parts.append("[dim]values masked, [b]v[/b] reveals[/]")
        lines = ["  ".join(parts)]
        if file.decode_note:
            lines.append(f"[$text-warning]⚠ {escape(file.decode_note)}[/]")
        if parsed.problem is not None:
            problem = parsed.problem
            lines.append(f"[$text-error]⚠ cannot parse (line {problem.line}): {escape(problem.message)}[/]")
        return "\n".join(lines)

    def _show_empty(self, title: str, body: str) -> None:
        self.file_view.clear()
        self.query_one("#file-info", Static).update("")
        self.query_one("#file-empty", EmptyState).show(title, body)
        self.set_class(True, "-no-file")

    @on(Tree.NodeSelected, "#tree")
    def _node_selected(self, event: Tree.NodeSelected[TreeEntry]) -> None:
        entry = event.node.data
        if isinstance(entry, FileEntry):
            self.open_file(entry.path, move_tree=False)
        elif isinstance(entry, SkippedEntry):
            self._show_empty(f"Skipped: {escape(entry.path)}", escape(entry.reason))

    def watch_show_tree(self, show: bool) -> None:
        self.set_class(not show, "-tree-hidden")
        if not show and self.focused is self.infra_tree:
            self.file_view.focus()

    # Actions ------------------------------------------------------------------------------------

    def action_toggle_tree(self) -> None:
        """Show or hide the tree."""
        self.show_tree = not self.show_tree

    def action_focus_file(self) -> None:
        self.file_view.focus()

    def action_toggle_chat(self) -> None:
        """Show or hide the agent chat."""
        self.query_one(ChatPanel).toggle()

    def action_focus_chat(self) -> None:
        """Open the agent chat and move to its question input."""
        self.query_one(ChatPanel).open_and_focus()

    def action_clear_chat(self) -> None:
        self.query_one(ChatPanel).clear_conversation()

    def action_show_skipped(self) -> None:
        """Expand the skipped group and move to it."""
        self.show_tree = True
        for node in self.infra_tree.root.children:
            if node.data is not None and getattr(node.data, "name", None) == SKIPPED_GROUP:
                node.expand()
                self.infra_tree.move_cursor(node)
                self.infra_tree.focus()
                return
        self.notify("No files were skipped.")
