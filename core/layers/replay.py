"""Replay layers on a path tree with the OCI rules and account for every byte.

Contract: within each layer, opaque markers are applied first (they empty a directory of everything
lower layers put there), then whiteouts (they remove a path and everything under it), then additions
in tar order (a file over a directory, or a directory over a file, replaces it). Hard links share
their target's content: bytes become waste only when the last path holding them goes. Each time
bytes stop being visible a `WasteEvent` records them, so the events sum exactly to content − visible.
A regular file replaced by one of the same size is a copy-up (chmod, chown or touch); with content
digests (deep mode) it must also have the same content.

The tree keys each directory's children by the base-name strings `LayerContent` already holds, and a
file that no hard link shares has inode -1, so the tree adds one small tuple per visible file. A run
of new regular files in one directory (most of a typical layer) is inserted in one C-level update.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import repeat

from core.layers.content import LayerContent, Meta, normalise
from core.layers.model import Change, LayerFile, WasteCause, WasteEvent
from core.layers.tarstream import DIRECTORY, HARDLINK, REGULAR
from core.progress import CancelToken

#: A file in the tree: (kind, size, meta, layer that wrote it, link target, inode id or -1 if unshared).
FileNode = tuple[str, int, Meta, int, str, int]

_OVERWRITTEN, _DELETED = WasteCause.OVERWRITTEN, WasteCause.DELETED
_CHMOD, _CHOWN, _TOUCH = WasteCause.COPY_UP_CHMOD, WasteCause.COPY_UP_CHOWN, WasteCause.COPY_UP_TOUCH
# A frozen dataclass's __init__ sets each field through object.__setattr__ (about 1 µs per event, and an
# image may have millions of events); setting the slots directly builds the same immutable object.
_new_event = object.__new__
_SET_PATH, _SET_BYTES, _SET_WRITTEN, _SET_HIDDEN, _SET_CAUSE = (
    WasteEvent.__dict__[name].__set__ for name in ("path", "bytes", "written_by", "hidden_by", "cause")
)


class ChangeLog:
    """What one layer changed, kept compact (a code per tar entry) and expanded only when shown."""

    __slots__ = ("codes", "content", "removed")

    def __init__(self, content: LayerContent, codes: bytearray, removed: list[LayerFile]) -> None:
        self.content = content
        self.codes = codes
        self.removed = removed

    def files(self) -> tuple[LayerFile, ...]:
        """Removed paths first, then added (A) and modified (M) ones in tar order."""
        changes = (None, Change.ADDED, Change.MODIFIED)
        content = self.content
        links = content.links
        found = list(self.removed)
        for number, (path, kind, size, code) in enumerate(
            zip(content.paths(), content.kinds, content.sizes, self.codes, strict=True)
        ):
            change = changes[code]
            if change is not None:
                found.append(LayerFile(path, change, kind, size, links.get(number, "")))
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
        """`path` ('/a/b') no longer shows `node`: its bytes are waste unless a hard link still holds them."""
        kind, size, _meta, written, _link, inode = node
        if inode >= 0:
            shared = self.refs[inode]
            shared[0] -= 1
            if shared[0] > 0:
                return
            written = shared[1]
            del self.refs[inode]
        if size and kind in (REGULAR, HARDLINK):
            event = _new_event(WasteEvent)
            _SET_PATH(event, path)
            _SET_BYTES(event, size)
            _SET_WRITTEN(event, written)
            _SET_HIDDEN(event, self.layer)
            _SET_CAUSE(event, cause)
            self.events.append(event)

    def _remove(self, path: str, node: Dir | FileNode, cause: WasteCause, count: bool) -> None:
        """Drop `node` (and its subtree); `count` says whether it shows as a removal in this layer."""
        self.generation += 1
        if isinstance(node, Dir):
            for name, child in node.children.items():
                self._remove(f"{path}/{name}", child, cause, count)
            if count and self.keep_changes:
                self.removed.append(LayerFile(path, Change.REMOVED, DIRECTORY, 0))
            return
        if count:
            self.counts.files_removed += 1
            self.counts.bytes_removed += node[1]
            if self.keep_changes:
                self.removed.append(LayerFile(path, Change.REMOVED, node[0], node[1], node[4]))
        self._release(path, node, cause)

    def _parent(self, path: str, create: bool) -> tuple[Dir | None, str]:
        """The directory holding `path` ('a/b/c') and its last name; created along the way if asked."""
        parts = path.split("/")
        return self._walk(parts[:-1], create), parts[-1]

    def _walk(self, parts: list[str], create: bool) -> Dir | None:
        """The directory at `parts`, or None when it is missing and `create` is false."""
        node = self.root
        walked = ""
        for part in parts:
            walked = f"{walked}/{part}"
            child = node.children.get(part)
            if isinstance(child, Dir):
                node = child
                continue
            if not create:
                return None
            if child is not None:  # a file where a directory must be: the file goes
                self._remove(walked, child, _OVERWRITTEN, False)
            fresh = Dir(self.layer)
            node.children[part] = fresh
            node = fresh
        return node

    def _cause(self, old: FileNode, kind: str, size: int, meta: Meta, path: str) -> WasteCause:
        if old[0] != REGULAR or kind != REGULAR or old[1] != size:
            return _OVERWRITTEN
        if self.digests is not None:
            before = self.digests[old[3]].get(path[1:])
            if before is None or before != self.digests[self.layer].get(path[1:]):
                return _OVERWRITTEN
        if old[2][0] != meta[0]:
            return _CHMOD
        return _TOUCH if old[2] == meta else _CHOWN

    def _link_inode(self, link: str) -> tuple[int, int]:
        """(inode, size) shared with a hard link's target, or (-1, 0) when the target is not a file."""
        parent, name = self._parent(normalise(link), False)
        target = parent.children.get(name) if parent is not None else None
        if not isinstance(target, tuple) or target[0] not in (REGULAR, HARDLINK):
            return -1, 0
        inode = target[5]
        if inode < 0:  # first link to this file: give it an identity both paths share
            inode = self.next_inode
            self.next_inode += 1
            assert parent is not None
            parent.children[name] = (*target[:5], inode)
            self.refs[inode] = [2, target[3]]
        else:
            self.refs[inode][0] += 1
        return inode, target[1]

    def _clear(self, content: LayerContent) -> None:
        """Apply the layer's opaque markers, then its whiteouts."""
        for path in content.opaques:
            parent, name = self._parent(path, False) if path else (None, "")
            target = self.root if not path else (parent.children.get(name) if parent else None)
            if isinstance(target, Dir):
                shown = "/" + path if path else ""
                for child_name, child in target.children.items():
                    self._remove(f"{shown}/{child_name}", child, _DELETED, True)
                target.children = {}
        for path in content.whiteouts:
            parent, name = self._parent(path, False)
            if parent is not None and name in parent.children:
                self._remove("/" + path, parent.children.pop(name), _DELETED, True)

    def apply(self, index: int, content: LayerContent, cancel: CancelToken | None) -> ChangeLog | None:
        self.layer = index
        self.counts = LayerCounts()
        self.removed = []
        self._clear(content)
        total = len(content)
        codes = bytearray(total) if self.keep_changes else None
        names, kinds, sizes, metas, dirs = (
            content.names, content.kinds, content.sizes, content.metas, content.dirs
        )
        added = modified = bytes_added = bytes_modified = 0
        starts = content.runs
        for run, start in enumerate(starts):
            if cancel is not None:
                cancel.check()
            end = starts[run + 1] if run + 1 < len(starts) else total
            shown = dirs[content.parents[start]]
            parent = self._walk(shown[1:-1].split("/") if len(shown) > 1 else [], True)
            assert parent is not None
            children = parent.children
            run_kinds = kinds[start:end]
            if run_kinds.count(REGULAR) == end - start:
                # Only new regular files (the bulk of most layers): insert the run at C speed.
                fresh = names[start:end]
                if children.keys().isdisjoint(fresh) and len(set(fresh)) == end - start:
                    run_sizes = sizes[start:end]
                    nodes = zip(repeat(REGULAR), run_sizes, metas[start:end], repeat(index), repeat(""),
                                repeat(-1), strict=False)  # the repeats end with the run's sizes
                    children.update(zip(fresh, nodes, strict=True))
                    added += end - start
                    bytes_added += sum(run_sizes)
                    if codes is not None:
                        codes[start:end] = b"\x01" * (end - start)
                    continue
            counted = self._apply_run(index, content, start, end, children, codes)
            added, modified = added + counted[0], modified + counted[1]
            bytes_added, bytes_modified = bytes_added + counted[2], bytes_modified + counted[3]
        counts = self.counts
        counts.files_added, counts.files_modified = added, modified
        counts.bytes_added, counts.bytes_modified = bytes_added, bytes_modified
        return ChangeLog(content, codes, self.removed) if codes is not None else None

    def _apply_run(
        self, index: int, content: LayerContent, start: int, end: int,
        children: dict[str, Dir | FileNode], codes: bytearray | None,
    ) -> tuple[int, int, int, int]:
        """Entries `start` to `end` (one directory's) one by one; (added, modified, bytes of each)."""
        links, shown = content.links, content.dirs[content.parents[start]]
        digests, add_event = self.digests, self.events.append
        added = modified = bytes_added = bytes_modified = 0
        for number, (name, kind, size, meta) in enumerate(zip(
            content.names[start:end], content.kinds[start:end], content.sizes[start:end],
            content.metas[start:end], strict=True,
        ), start):
            old = children.get(name)
            if kind == REGULAR:
                node: FileNode = (REGULAR, size, meta, index, "", -1)
            elif kind == DIRECTORY:
                if isinstance(old, Dir):
                    old.meta = meta
                    continue
                if old is not None:
                    self._remove(shown + name, old, _OVERWRITTEN, False)
                children[name] = Dir(index, meta)
                if codes is not None:
                    codes[number] = 1
                continue
            else:
                link = links.get(number, "")
                inode = -1
                if kind == HARDLINK:
                    inode, size = self._link_inode(link)
                node = (kind, size, meta, index, link, inode)
            if old is None:
                added += 1
                bytes_added += size
                if codes is not None:
                    codes[number] = 1
            else:
                path = shown + name
                if isinstance(old, Dir):
                    self._remove(path, old, _OVERWRITTEN, False)
                elif old[5] < 0 and digests is None:
                    # Inlined _cause and _release for an unshared file: a copy-up layer has one per entry.
                    old_kind, old_size, old_meta, written, _link, _inode = old
                    if old_size and old_kind in (REGULAR, HARDLINK):
                        if old_kind != REGULAR or kind != REGULAR or old_size != size:
                            cause = _OVERWRITTEN
                        elif old_meta[0] != meta[0]:
                            cause = _CHMOD
                        else:
                            cause = _TOUCH if old_meta == meta else _CHOWN
                        event = _new_event(WasteEvent)
                        _SET_PATH(event, path)
                        _SET_BYTES(event, old_size)
                        _SET_WRITTEN(event, written)
                        _SET_HIDDEN(event, index)
                        _SET_CAUSE(event, cause)
                        add_event(event)
                else:
                    self._release(path, old, self._cause(old, kind, size, meta, path))
                modified += 1
                bytes_modified += size
                if codes is not None:
                    codes[number] = 2
            children[name] = node
        return added, modified, bytes_added, bytes_modified


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
    visible = visible_bytes(replayer.root)
    return ReplayResult(replayer.root, counts, replayer.events, changes, visible)


def walk_files(root: Dir) -> Iterator[tuple[str, FileNode]]:
    """Every non-directory in the tree, with its '/'-rooted path (paths are built as they are yielded)."""
    stack: list[tuple[str, Dir]] = [("", root)]
    while stack:
        prefix, node = stack.pop()
        for name, child in node.children.items():
            if isinstance(child, Dir):
                stack.append((f"{prefix}/{name}", child))
            else:
                yield f"{prefix}/{name}", child


def visible_bytes(root: Dir) -> int:
    """Content bytes still reachable, each hard-linked content counted once."""
    total = 0
    seen: set[int] = set()
    stack = [root]
    while stack:
        for child in stack.pop().children.values():
            if isinstance(child, Dir):
                stack.append(child)
                continue
            kind, size, _meta, _layer, _link, inode = child
            if not size or kind not in (REGULAR, HARDLINK):
                continue
            if inode >= 0:
                if inode in seen:
                    continue
                seen.add(inode)
            total += size
    return total
