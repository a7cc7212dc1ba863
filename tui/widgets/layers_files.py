"""The per-layer file tree: what one layer added (A), modified (M) and removed (D), with sizes.

Contract: `LayerFilesTree.show_files(layer, files)` shows a layer's `LayerFile`s as folders; folder
counts add up the files below them and sizes the bytes added or modified (removed files weigh nothing
in this layer). A layer may touch hundreds of thousands of paths, so
`group_files` builds plain folders once and tree nodes are only made when a folder is expanded, at
most `MAX_CHILDREN` per folder (the rest are summed in one "… more" line).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from rich.text import Text
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from core.layers.hints import format_bytes
from core.layers.model import Change, LayerFile

MAX_CHILDREN = 400
CHANGE_STYLE = {Change.ADDED: "green", Change.MODIFIED: "yellow", Change.REMOVED: "red"}


@dataclass(slots=True, eq=False)
class Folder:
    """A folder of the layer's changes: its own entry (if the layer touched it) and what lies below."""

    name: str
    entry: LayerFile | None = None
    folders: dict[str, Folder] = field(default_factory=dict)
    files: list[LayerFile] = field(default_factory=list)
    size: int = 0
    count: int = 0


def group_files(files: Iterable[LayerFile]) -> Folder:
    """Folders from flat paths; sizes and file counts summed upwards in the same pass."""
    root = Folder("/")
    for item in files:
        parts = [p for p in item.path.split("/") if p]
        if not parts:
            continue
        folder = root
        chain = [root]
        for part in parts[:-1]:
            folder = folder.folders.get(part) or folder.folders.setdefault(part, Folder(part))
            chain.append(folder)
        if item.kind == "d":
            own = folder.folders.get(parts[-1]) or folder.folders.setdefault(parts[-1], Folder(parts[-1]))
            own.entry = item
            continue
        folder.files.append(item)
        for each in chain:
            each.size += item.size if item.change is not Change.REMOVED else 0
            each.count += 1
    return root


def _mark(change: Change | None) -> Text:
    if change is None:
        return Text("  ")
    return Text(f"{change.value} ", style=f"bold {CHANGE_STYLE[change]}")


def folder_label(folder: Folder) -> Text:
    label = _mark(folder.entry.change if folder.entry else None)
    label.append(f"{folder.name}/", style="bold")
    if folder.count:
        files = f"{folder.count:,} file{'s' if folder.count != 1 else ''}"
        label.append(f"  {format_bytes(folder.size)} · {files}" if folder.size else f"  {files}", style="dim")
    return label


def file_label(item: LayerFile) -> Text:
    label = _mark(item.change)
    name = item.path.rsplit("/", 1)[-1]
    label.append(name, style="strike" if item.change is Change.REMOVED else "")
    if item.link:
        label.append(f" → {item.link}", style="dim italic")
    if item.size or item.kind == "f":
        label.append(f"  {format_bytes(item.size)}", style="dim")
    return label


class LayerFilesTree(Tree[Folder | LayerFile | None]):
    """A lazily expanded tree of one layer's changes."""

    DEFAULT_CSS = """
    LayerFilesTree { height: 1fr; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("no layer selected", id=id)
        self.shown_layer: int | None = None
        self._filled: set[int] = set()
        self.show_root = True

    def show_files(self, layer: int, files: Iterable[LayerFile], title: str = "",
                   grouped: Folder | None = None) -> None:
        """Show layer `layer`'s changes (`grouped` when `group_files` already ran); first level expanded."""
        self.clear()
        self._filled.clear()
        self.shown_layer = layer
        items = list(files)
        root = grouped if grouped is not None else group_files(items)
        counts = {c: 0 for c in Change}
        for item in items:
            if item.kind != "d":
                counts[item.change] += 1
        label = Text(f"layer {layer}", style="bold")
        label.append(f"  A {counts[Change.ADDED]:,} · M {counts[Change.MODIFIED]:,} · D "
                     f"{counts[Change.REMOVED]:,} · {format_bytes(root.size)}", style="dim")
        if title:
            label.append(f"  {title}", style="italic")
        self.root.set_label(label)
        self.root.data = root
        self._fill(self.root, root)
        self.root.expand()
        if not items:
            self.root.add_leaf(Text("this layer changed no files", style="dim italic"))

    def _fill(self, node: TreeNode[Folder | LayerFile | None], folder: Folder) -> None:
        if id(folder) in self._filled:
            return
        self._filled.add(id(folder))
        shown = 0
        for name in sorted(folder.folders):
            if shown >= MAX_CHILDREN:
                break
            child = folder.folders[name]
            node.add(folder_label(child), data=child, allow_expand=bool(child.folders or child.files))
            shown += 1
        for item in sorted(folder.files, key=lambda f: f.path):
            if shown >= MAX_CHILDREN:
                break
            node.add_leaf(file_label(item), data=item)
            shown += 1
        hidden = len(folder.folders) + len(folder.files) - shown
        if hidden > 0:
            node.add_leaf(Text(f"… {hidden:,} more not shown", style="dim italic"))

    def on_tree_node_expanded(self, event: Tree.NodeExpanded[Folder | LayerFile | None]) -> None:
        data = event.node.data
        if isinstance(data, Folder):
            self._fill(event.node, data)

    def labels(self) -> list[str]:
        """Every label made so far, as plain text (for tests and for reading the tree back)."""
        found: list[str] = []
        stack = [self.root]
        while stack:
            node = stack.pop()
            label = node.label
            found.append(label.plain if isinstance(label, Text) else str(label))
            stack.extend(reversed(node.children))
        return found
