"""Replay layers on a path tree with the OCI rules and account for every byte.

Contract: within each layer, opaque markers are applied first (they empty a directory of everything
lower layers put there), then whiteouts (they remove a path and everything under it), then additions
in tar order (a file over a directory, or a directory over a file, replaces it). Hard links share
their target's content: bytes become waste only when the last path holding them goes. Each time
bytes stop being visible a `WasteEvent` records them, so the events sum exactly to content − visible.
A regular file replaced by one of the same size is a copy-up (chmod, chown or touch); with content
digests (deep mode) it must also have the same content.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from core.layers.content import LayerContent, Meta, normalise
from core.layers.model import Change, LayerFile, WasteCause, WasteEvent
from core.layers.tarstream import DIRECTORY, HARDLINK, REGULAR
from core.progress import CancelToken

#: A file in the tree: (kind, size, meta, layer that wrote it, link target, inode id).
FileNode = tuple[str, int, Meta, int, str, int]


class ChangeLog:
    """What one layer changed, kept compact (a code per tar entry) and expanded only when shown."""

    __slots__ = ("codes", "content", "removed")

    def __init__(self, content: LayerContent, codes: bytearray, removed: list[LayerFile]) -> None:
        self.content = content
        self.codes = codes
        self.removed = removed

    def files(self) -> tuple[LayerFile, ...]:
        """Removed paths first, then added (A) and modified (M) ones in tar order."""
        kinds = (None, Change.ADDED, Change.MODIFIED)
        found = list(self.removed)
        for (path, kind, size, _meta, link), code in zip(self.content.entries, self.codes, strict=True):
            change = kinds[code]
            if change is not None:
                found.append(LayerFile("/" + path, change, kind, size, "" if kind == DIRECTORY else link))
        return tuple(found)


class Dir:
    """A directory in the tree; `layer` is the layer that last created it."""

    __slots__ = ("children", "layer", "meta")

    def __init__(self, layer: int, meta: Meta | None = None) -> None:
        self.children: dict[str, Dir | FileNode] = {}
        self.layer = layer
        self.meta = meta


@dataclass(slots=True)
class LayerCounts:
    files_added: int = 0
    files_modified: int = 0
    files_removed: int = 0
    bytes_added: int = 0
    bytes_modified: int = 0
    bytes_removed: int = 0


@dataclass(slots=True, eq=False)
class ReplayResult:
    root: Dir
    counts: list[LayerCounts]
    events: list[WasteEvent]
    changes: list[ChangeLog | None]
    visible_bytes: int


class _Replayer:
    def __init__(self, keep_changes: bool, digests: list[dict[str, str]] | None) -> None:
        self.root = Dir(-1)
        self.events: list[WasteEvent] = []
        self.refs: dict[int, list[int]] = {}  # inode -> [references, layer that wrote it]; links only
        self.next_inode = 0
        self.keep_changes = keep_changes
        self.digests = digests
        self.layer = 0
        self.counts = LayerCounts()
        self.removed: list[LayerFile] = []
        self.generation = 0

    def _release(self, path: str, node: FileNode, cause: WasteCause) -> None:
        kind, size, _meta, written, _link, inode = node
        shared = self.refs.get(inode)
        if shared is not None:
            shared[0] -= 1
            if shared[0] > 0:
                return
            written = shared[1]
            del self.refs[inode]
        if size and kind in (REGULAR, HARDLINK):
            self.events.append(WasteEvent("/" + path, size, written, self.layer, cause))

    def _remove(self, path: str, node: Dir | FileNode, cause: WasteCause, count: bool) -> None:
        """Drop `node` (and its subtree); `count` says whether it shows as a removal in this layer."""
        self.generation += 1
        if isinstance(node, Dir):
            for name, child in node.children.items():
                self._remove(f"{path}/{name}", child, cause, count)
            if count and self.keep_changes:
                self.removed.append(LayerFile("/" + path, Change.REMOVED, DIRECTORY, 0))
            return
        if count:
            self.counts.files_removed += 1
            self.counts.bytes_removed += node[1]
            if self.keep_changes:
                self.removed.append(LayerFile("/" + path, Change.REMOVED, node[0], node[1], node[4]))
        self._release(path, node, cause)

    def _parent(self, path: str, create: bool) -> tuple[Dir | None, str]:
        node = self.root
        parts = path.split("/")
        walked = ""
        for part in parts[:-1]:
            walked = f"{walked}/{part}" if walked else part
            child = node.children.get(part)
            if isinstance(child, Dir):
                node = child
                continue
            if not create:
                return None, parts[-1]
            if child is not None:  # a file where a directory must be: the file goes
                self._remove(walked, child, WasteCause.OVERWRITTEN, False)
            fresh = Dir(self.layer)
            node.children[part] = fresh
            node = fresh
        return node, parts[-1]

    def _cause(self, old: FileNode, kind: str, size: int, meta: Meta, path: str) -> WasteCause:
        if old[0] != REGULAR or kind != REGULAR or old[1] != size:
            return WasteCause.OVERWRITTEN
        if self.digests is not None:
            before = self.digests[old[3]].get(path)
            if before is None or before != self.digests[self.layer].get(path):
                return WasteCause.OVERWRITTEN
        if old[2][0] != meta[0]:
            return WasteCause.COPY_UP_CHMOD
        if old[2][1:] != meta[1:]:
            return WasteCause.COPY_UP_CHOWN
        return WasteCause.COPY_UP_TOUCH

    def apply(self, index: int, content: LayerContent, cancel: CancelToken | None) -> ChangeLog | None:
        self.layer = index
        self.counts = LayerCounts()
        self.removed = []
        counts = self.counts
        for path in content.opaques:
            parent, name = self._parent(path, False) if path else (None, "")
            target = self.root if not path else (parent.children.get(name) if parent else None)
            if isinstance(target, Dir):
                for child_name, child in target.children.items():
                    self._remove(f"{path}/{child_name}" if path else child_name, child,
                                 WasteCause.DELETED, True)
                target.children = {}
        for path in content.whiteouts:
            parent, name = self._parent(path, False)
            if parent is not None and name in parent.children:
                self._remove(path, parent.children.pop(name), WasteCause.DELETED, True)
        codes = bytearray(len(content.entries)) if self.keep_changes else None
        last_dir: str | None = None
        last_parent: Dir | None = None
        last_generation = -1
        for number, (path, kind, size, meta, link) in enumerate(content.entries):
            if cancel is not None and not number & 0x3FFF:
                cancel.check()
            slash = path.rfind("/")
            directory = path[:slash] if slash >= 0 else ""
            # Tars list a directory's entries together: reuse the parent found for the previous entry.
            if directory == last_dir and last_parent is not None and self.generation == last_generation:
                parent, name = last_parent, path[slash + 1:]
            else:
                found, name = self._parent(path, True)
                assert found is not None
                parent = found
                last_dir, last_parent, last_generation = directory, parent, self.generation
            old = parent.children.get(name)
            if kind == DIRECTORY:
                if isinstance(old, Dir):
                    old.meta = meta
                    continue
                if old is not None:
                    self._remove(path, old, WasteCause.OVERWRITTEN, False)
                parent.children[name] = Dir(index, meta)
                if codes is not None:
                    codes[number] = 1
                continue
            inode = -1
            if kind == HARDLINK:
                target_parent, target_name = self._parent(normalise(link), False)
                target = target_parent.children.get(target_name) if target_parent else None
                if isinstance(target, tuple) and target[0] in (REGULAR, HARDLINK):
                    inode = target[5]
                    size = target[1]
                    shared = self.refs.get(inode)
                    if shared is None:
                        self.refs[inode] = [2, target[3]]
                    else:
                        shared[0] += 1
            if inode < 0:
                inode = self.next_inode
                self.next_inode += 1
            if old is None:
                counts.files_added += 1
                counts.bytes_added += size
                code = 1
            else:
                if isinstance(old, Dir):
                    self._remove(path, old, WasteCause.OVERWRITTEN, False)
                else:
                    self._release(path, old, self._cause(old, kind, size, meta, path))
                counts.files_modified += 1
                counts.bytes_modified += size
                code = 2
            parent.children[name] = (kind, size, meta, index, link, inode)
            if codes is not None:
                codes[number] = code
        return ChangeLog(content, codes, self.removed) if codes is not None else None


def replay(
    layers: list[LayerContent],
    *,
    keep_changes: bool = True,
    deep: bool = False,
    cancel: CancelToken | None = None,
    before_layer: Callable[[LayerContent, Dir], None] | None = None,
) -> ReplayResult:
    """Stack `layers` (bottom first) and account for every byte they hold.

    `before_layer(content, tree)` sees each layer with the tree as the layers below left it.
    """
    replayer = _Replayer(keep_changes, [layer.digests for layer in layers] if deep else None)
    counts: list[LayerCounts] = []
    changes: list[ChangeLog | None] = []
    for index, content in enumerate(layers):
        if before_layer is not None:
            before_layer(content, replayer.root)
        changes.append(replayer.apply(index, content, cancel))
        counts.append(replayer.counts)
    visible = visible_bytes(replayer.root, replayer.refs)
    return ReplayResult(replayer.root, counts, replayer.events, changes, visible)


def walk_files(root: Dir) -> list[tuple[str, FileNode]]:
    """Every non-directory in the tree, with its '/'-rooted path."""
    found: list[tuple[str, FileNode]] = []
    stack: list[tuple[str, Dir]] = [("", root)]
    while stack:
        prefix, node = stack.pop()
        for name, child in node.children.items():
            path = f"{prefix}/{name}"
            if isinstance(child, Dir):
                stack.append((path, child))
            else:
                found.append((path, child))
    return found


def visible_bytes(root: Dir, shared: dict[int, list[int]]) -> int:
    """Content bytes still reachable, each hard-linked content counted once."""
    total = 0
    seen: set[int] = set()
    for _path, (kind, size, _meta, _layer, _link, inode) in walk_files(root):
        if kind not in (REGULAR, HARDLINK) or not size:
            continue
        if inode in shared:
            if inode in seen:
                continue
            seen.add(inode)
        total += size
    return total
