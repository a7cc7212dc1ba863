"""The infrastructure tree: the repository's infra files grouped by kind, with git and finding badges.

Contract: `show_index(index)` (re)builds the tree from an `InfraIndex` in `GROUP_ORDER`, each file
labelled with its git status badge, its name, its folder, (after `set_counts`) a count of findings
coloured by the worst severity and (after `set_duplicates`) how many of its lines are copies. Node
data says what a node is (`GroupEntry`, `FileEntry`, `SkippedEntry`); selecting a node posts
Textual's usual `Tree.NodeSelected`, which the screen handles.
A large group starts collapsed and gets its file nodes when first expanded, so a 10,000-file
monorepo paints its tree at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from rich.text import Text
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from core.discovery import InfraIndex
from core.models import GROUP_ORDER, GitStatus, InfraFile, Severity

#: A group with more files than this starts collapsed (and unfilled), so a monorepo opens on an overview.
EXPAND_LIMIT = 200
#: The skipped group lists at most this many files; the rest are summarised in one line.
SKIPPED_SHOWN = 500
SKIPPED_GROUP = "Skipped"

SEVERITY_STYLES: dict[Severity, str] = {
    Severity.CRITICAL: "bold white on red",
    Severity.HIGH: "bold red",
    Severity.MEDIUM: "bold yellow",
    Severity.LOW: "cyan",
    Severity.INFO: "dim",
}
GIT_STYLES: dict[GitStatus, str] = {
    GitStatus.MODIFIED: "bold yellow",
    GitStatus.STAGED: "bold green",
    GitStatus.UNTRACKED: "bold magenta",
    GitStatus.IGNORED: "dim",
}


@dataclass(frozen=True, slots=True)
class GroupEntry:
    """A heading node: one kind group (or the skipped files)."""

    name: str


@dataclass(frozen=True, slots=True)
class FileEntry:
    """A file node; `path` is repo-relative."""

    path: str


@dataclass(frozen=True, slots=True)
class SkippedEntry:
    """A file discovery did not keep, and why."""

    path: str
    reason: str


TreeEntry = GroupEntry | FileEntry | SkippedEntry


def count_badge(count: int, severity: Severity) -> Text:
    """The finding-count badge, coloured by the worst severity."""
    return Text(f" {count} ", style=SEVERITY_STYLES[severity])


class InfraTree(Tree[TreeEntry]):
    """A tree of infrastructure files grouped by kind."""

    DEFAULT_CSS = """
    InfraTree {
        background: $surface;
        padding: 0 1 0 0;
        overflow-x: hidden;
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__("infrastructure", id=id, classes=classes)
        self.show_root = False
        self.guide_depth = 2
        self._index: InfraIndex | None = None
        self._file_nodes: dict[str, TreeNode[TreeEntry]] = {}
        self._group_nodes: dict[str, TreeNode[TreeEntry]] = {}
        self._group_files: dict[str, list[InfraFile]] = {}
        self._group_of: dict[str, str] = {}
        self._counts: dict[str, tuple[int, Severity]] = {}
        self._dupes: dict[str, int] = {}

    @property
    def file_count(self) -> int:
        """How many infrastructure files the tree holds (filled into nodes or not)."""
        return len(self._group_of)

    def process_label(self, label: str | Text) -> Text:
        """Our labels are single-line Text already; skip Tree's costly split into lines."""
        if isinstance(label, Text) and "\n" not in label.plain:
            return label
        return super().process_label(label)

    def show_index(self, index: InfraIndex) -> None:
        """Rebuild the tree from `index`, keeping finding counts for files that still exist."""
        self._index = index
        self.clear()
        self._file_nodes.clear()
        self._group_nodes.clear()
        by_group: dict[str, list[InfraFile]] = {name: [] for name in GROUP_ORDER}
        for file in index.infra_files():
            by_group.setdefault(file.kind.group, []).append(file)
        self._group_files = {name: files for name, files in by_group.items() if files}
        self._group_of = {f.path: name for name, files in self._group_files.items() for f in files}
        self._counts = {p: c for p, c in self._counts.items() if p in self._group_of}
        self._dupes = {p: n for p, n in self._dupes.items() if p in self._group_of}
        for name, files in self._group_files.items():
            expand = len(files) <= EXPAND_LIMIT
            group = self.root.add(Text(name), GroupEntry(name), expand=expand, allow_expand=True)
            self._group_nodes[name] = group
            if expand:
                self._fill(name)
            group.set_label(self._group_label(name))
        if index.skipped:
            self._add_skipped(index)
        if self._group_of:
            self.move_cursor_to_line(0)

    def _fill(self, name: str) -> None:
        """Create the file nodes of group `name` (once)."""
        group = self._group_nodes[name]
        if group.children:
            return
        for file in self._group_files.get(name, []):
            self._file_nodes[file.path] = group.add_leaf(self._file_label(file), FileEntry(file.path))

    def on_tree_node_expanded(self, event: Tree.NodeExpanded[TreeEntry]) -> None:
        entry = event.node.data
        if isinstance(entry, GroupEntry) and entry.name in self._group_files:
            self._fill(entry.name)

    def _add_skipped(self, index: InfraIndex) -> None:
        skipped = sorted(index.skipped, key=lambda s: s.path)
        group = self.root.add(
            Text.assemble((SKIPPED_GROUP, "bold dim"), (f" ({len(skipped)})", "dim")),
            GroupEntry(SKIPPED_GROUP),
            expand=False,
        )
        self._group_nodes[SKIPPED_GROUP] = group
        for item in skipped[:SKIPPED_SHOWN]:
            group.add_leaf(Text.assemble((item.path, "dim"), (f"  {item.reason}", "dim italic")),
                           SkippedEntry(item.path, item.reason))
        if len(skipped) > SKIPPED_SHOWN:
            group.add_leaf(Text(f"… and {len(skipped) - SKIPPED_SHOWN} more", style="dim italic"))

    def set_counts(self, counts: Mapping[str, tuple[int, Severity]]) -> None:
        """Show finding counts per path (count, worst severity); paths not given lose their badge."""
        old = self._counts
        self._counts = {p: c for p, c in counts.items() if p in self._group_of and c[0] > 0}
        self._relabel({p for p in set(old) | set(self._counts) if old.get(p) != self._counts.get(p)})

    def set_duplicates(self, lines: Mapping[str, int]) -> None:
        """Show per path how many of its lines are part of a copy; paths not given lose the badge."""
        old = self._dupes
        self._dupes = {p: n for p, n in lines.items() if p in self._group_of and n > 0}
        self._relabel({p for p in set(old) | set(self._dupes) if old.get(p) != self._dupes.get(p)})

    def _relabel(self, changed: set[str]) -> None:
        """Redraw the labels of `changed` paths (only those: a streaming scan calls this often)."""
        if self._index is None or not changed:
            return
        for path in changed:
            node = self._file_nodes.get(path)
            file = self._index.files.get(path)
            if node is not None and file is not None:
                node.set_label(self._file_label(file))
        for name in {self._group_of[p] for p in changed if p in self._group_of}:
            self._group_nodes[name].set_label(self._group_label(name))

    def node_for(self, path: str) -> TreeNode[TreeEntry] | None:
        """The node of `path`, filling its group if needed; None when the file is not in the tree."""
        group = self._group_of.get(path)
        if group is not None:
            self._fill(group)
        return self._file_nodes.get(path)

    def select_path(self, path: str) -> bool:
        """Move the cursor to `path`'s node (expanding its group); False when it is not in the tree."""
        node = self.node_for(path)
        if node is None:
            return False
        if node.parent is not None:
            node.parent.expand()
        self.move_cursor(node)
        return True

    def _file_label(self, file: InfraFile) -> Text:
        label = Text(no_wrap=True, overflow="ellipsis")
        if self._index is not None and self._index.repo.is_git:
            status = self._index.repo.status(file.path)
            label.append(f"{status.badge or ' '} ", style=GIT_STYLES.get(status, ""))
        label.append(file.name)
        counted = self._counts.get(file.path)
        if counted is not None:
            label.append(" ")
            label.append_text(count_badge(*counted))
        copied = self._dupes.get(file.path)
        if copied is not None:
            label.append(f" ⧉{copied}", style="magenta")
        if file.directory:
            label.append(f"  {file.directory}", style="dim")
        return label

    def _group_label(self, name: str) -> Text:
        files = self._group_files.get(name, [])
        label = Text.assemble((name, "bold"), (f" ({len(files):,})", "dim"))
        counted = [self._counts[f.path] for f in files if f.path in self._counts]
        if counted:
            label.append(" ")
            label.append_text(count_badge(sum(c for c, _ in counted), max(s for _, s in counted)))
        return label
