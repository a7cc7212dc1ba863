"""dive's own efficiency figures, computed the way dive computes them, for comparison.

Our understanding of dive (filetree/efficiency.go and image analysis): each layer is read into its own
tree, ignoring opaque markers. For every *leaf* of every layer's tree (a file, an empty directory, or
a whiteout; a directory with children in that layer is not a leaf) dive adds the leaf's size to a
per-path record: a whiteout counts the size of the whole subtree it removes from the stacked layers
below when that was a directory, and 0 when it was a file. A path seen in two or more layers is
"inefficient" and *all* its copies count. Then:

- efficiency = Σ over paths of the smallest size seen / Σ over paths of all sizes seen;
- wasted bytes = Σ of the cumulative size of every inefficient path (the surviving copy included);
- user wasted percent = wasted bytes / Σ of the sizes of all layers but the first.

This is why dive misses the space freed by `rm -rf dir` (the directory was not a leaf when it was
written, so its path is seen only once), ignores opaque markers, and counts the surviving copy of an
overwritten file. One approximation here: the stacked tree a whiteout is measured against is ours,
which honours opaque markers where dive's would not.
"""

from __future__ import annotations

from core.layers.content import LayerContent
from core.layers.model import DiveMetrics
from core.layers.replay import Dir
from core.layers.tarstream import DIRECTORY


class DiveCounter:
    """Feed it each layer *before* the replay applies it; read `metrics()` at the end."""

    def __init__(self) -> None:
        self._paths: dict[str, list[int]] = {}  # path -> [cumulative, smallest, copies]
        self._layer_sizes: list[int] = []

    def _add(self, path: str, size: int) -> None:
        record = self._paths.get(path)
        if record is None:
            self._paths[path] = [size, size, 1]
        else:
            record[0] += size
            record[1] = min(record[1], size)
            record[2] += 1

    def add_layer(self, content: LayerContent, stacked: Dir) -> None:
        self._layer_sizes.append(content.content_bytes)
        parents: set[str] = set()
        for path in [e[0] for e in content.entries()] + content.whiteouts:
            parent = path.rpartition("/")[0]
            while parent and parent not in parents:
                parents.add(parent)
                parent = parent.rpartition("/")[0]
        for path, kind, size, _meta, _link in content.entries():
            if kind == DIRECTORY and path in parents:
                continue
            self._add(path, size)
        for path in content.whiteouts:
            self._add(path, _subtree_size(stacked, path))

    def metrics(self) -> DiveMetrics:
        smallest = sum(r[1] for r in self._paths.values())
        cumulative = sum(r[0] for r in self._paths.values())
        inefficient = sorted(
            (("/" + p, r[2], r[0]) for p, r in self._paths.items() if r[2] >= 2), key=lambda x: -x[2]
        )
        wasted = sum(x[2] for x in inefficient)
        user = sum(self._layer_sizes[1:])
        return DiveMetrics(
            efficiency=smallest / cumulative if cumulative else 1.0,
            wasted_bytes=wasted,
            user_wasted_percent=wasted / user if user else 0.0,
            inefficient_paths=tuple(inefficient[:50]),
        )


def _subtree_size(root: Dir, path: str) -> int:
    node: Dir | tuple[object, ...] | None = root
    for part in path.split("/"):
        if not isinstance(node, Dir):
            return 0
        node = node.children.get(part)
    if not isinstance(node, Dir):
        return 0
    total = 0
    stack = [node]
    while stack:
        current = stack.pop()
        for child in current.children.values():
            if isinstance(child, Dir):
                stack.append(child)
            else:
                total += child[1]
    return total
