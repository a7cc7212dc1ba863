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
from operator import itemgetter
from typing import cast

from core.layers.content import LayerContent, Meta, normalise
from core.layers.model import (
    CHMOD_CODE,
    CHOWN_CODE,
    DELETED_CODE,
    OVERWRITTEN_CODE,
    TOUCH_CODE,
    Change,
    LayerFile,
    WasteLog,
)
from core.layers.tarstream import DIRECTORY, HARDLINK, REGULAR
from core.progress import CancelToken

#: A file in the tree: (kind, size, meta, layer that wrote it, link target, inode id or -1 if unshared).
FileNode = tuple[str, int, Meta, int, str, int]

_OVERWRITTEN, _DELETED = OVERWRITTEN_CODE, DELETED_CODE
_CHMOD, _CHOWN, _TOUCH = CHMOD_CODE, CHOWN_CODE, TOUCH_CODE
_HOLDS_BYTES = (REGULAR, HARDLINK)
_KIND, _SIZE, _META, _WRITER, _INODE = (itemgetter(n) for n in (0, 1, 2, 3, 5))


def _replacement_cause(old: FileNode, kind: str, size: int, meta: Meta) -> int:
    """Why `old` stops showing when a `kind` entry of `size` and `meta` takes its path: a regular file
    replaced by one of the same size is a copy-up (by mode, owner, or neither), anything else an
    overwrite. (Deep mode also compares contents: see `_Replayer._cause`.)"""
    if old[0] != REGULAR or kind != REGULAR or old[1] != size:
        return _OVERWRITTEN
    if old[2][0] != meta[0]:
        return _CHMOD
    return _TOUCH if old[2] == meta else _CHOWN


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
    events: WasteLog
    changes: list[ChangeLog | None]
    visible_bytes: int


class _Replayer:
    def __init__(self, keep_changes: bool, digests: list[dict[str, str]] | None) -> None:
        self.root = Dir(-1)
        self.events = WasteLog()
        self.refs: dict[int, list[int]] = {}  # inode -> [references, layer that wrote it]; links only
        self.next_inode = 0
        self.keep_changes = keep_changes
        self.digests = digests
        self.layer = 0
        self.counts = LayerCounts()
        self.removed: list[LayerFile] = []
        self.generation = 0

    def _release(self, path: str, node: FileNode, cause: int) -> None:
        """`path` ('/a/b') no longer shows `node`: its bytes are waste unless a hard link still holds them."""
        kind, size, _meta, written, _link, inode = node
        if inode >= 0:
            shared = self.refs[inode]
            shared[0] -= 1
            if shared[0] > 0:
                return
            written = shared[1]
            del self.refs[inode]
        if size and kind in _HOLDS_BYTES:
            self.events.add(path, size, written, self.layer, cause)

    def _remove(self, path: str, node: Dir | FileNode, cause: int, count: bool) -> None:
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

    def _cause(self, old: FileNode, kind: str, size: int, meta: Meta, path: str) -> int:
        if self.digests is not None and old[0] == REGULAR:
            before = self.digests[old[3]].get(path[1:])
            if before is None or before != self.digests[self.layer].get(path[1:]):
                return _OVERWRITTEN
        return _replacement_cause(old, kind, size, meta)

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
        names, kinds, dirs = content.names, content.kinds, content.dirs
        added = modified = bytes_added = bytes_modified = 0
        starts = content.runs
        for run, start in enumerate(starts):
            if cancel is not None:
                cancel.check()
            end = starts[run + 1] if run + 1 < len(starts) else total
            shown = dirs[content.run_dirs[run]]
            parent = self._walk(shown[1:-1].split("/") if len(shown) > 1 else [], True)
            assert parent is not None
            children = parent.children
            run_kinds = kinds[start:end]
            if run_kinds.count(REGULAR) == end - start:
                fresh = names[start:end]
                if len(set(fresh)) == end - start:
                    if children.keys().isdisjoint(fresh):
                        # Only new regular files (the bulk of most layers): insert the run at C speed.
                        bytes_added += self._insert(index, fresh, content, start, end, children)
                        added += end - start
                        if codes is not None:
                            codes[start:end] = b"\x01" * (end - start)
                        continue
                    if self.digests is None:
                        replaced = self._replace_run(index, fresh, content, start, end, children, shown)
                        if replaced is not None:
                            modified += end - start
                            bytes_modified += replaced
                            if codes is not None:
                                codes[start:end] = b"\x02" * (end - start)
                            continue
            counted = self._apply_run(index, content, start, end, children, codes, shown)
            added, modified = added + counted[0], modified + counted[1]
            bytes_added, bytes_modified = bytes_added + counted[2], bytes_modified + counted[3]
        counts = self.counts
        counts.files_added, counts.files_modified = added, modified
        counts.bytes_added, counts.bytes_modified = bytes_added, bytes_modified
        return ChangeLog(content, codes, self.removed) if codes is not None else None

    @staticmethod
    def _insert(index: int, fresh: list[str], content: LayerContent, start: int, end: int,
                children: dict[str, Dir | FileNode]) -> int:
        """Put a run of regular files into `children`; their bytes."""
        run_sizes = content.sizes[start:end]
        nodes = zip(repeat(REGULAR), run_sizes, content.metas[start:end], repeat(index), repeat(""),
                    repeat(-1), strict=False)  # the repeats end with the run's sizes
        children.update(zip(fresh, nodes, strict=True))
        return sum(run_sizes)

    def _replace_run(self, index: int, fresh: list[str], content: LayerContent, start: int, end: int,
                     children: dict[str, Dir | FileNode], shown: str) -> int | None:
        """A run of regular files that each replace an unshared file (a `chmod -R` copies a whole
        directory up): events and nodes built in bulk; None when the run is anything else."""
        found = list(map(children.get, fresh))
        if set(map(type, found)) != {tuple}:
            return None  # a new name, or a directory replaced by a file
        olds = cast(list[FileNode], found)
        if max(map(_INODE, olds)) >= 0:
            return None  # hard-linked bytes are released one by one
        run_sizes, run_metas = content.sizes[start:end], content.metas[start:end]
        old_sizes, old_metas = list(map(_SIZE, olds)), list(map(_META, olds))
        old_kinds = set(map(_KIND, olds))
        uniform = old_kinds == {REGULAR} and old_sizes == run_sizes.tolist()
        if uniform and len(set(old_metas)) == 1 and len(set(run_metas)) == 1:
            # One mode/owner change for the whole run (chmod -R, chown -R): one cause for every file.
            causes = bytes([_replacement_cause(olds[0], REGULAR, run_sizes[0], run_metas[0])]) * len(olds)
        else:
            causes = bytes([_replacement_cause(old, REGULAR, size, meta)
                            for old, size, meta in zip(olds, run_sizes, run_metas, strict=True)])
        if 0 not in old_sizes and old_kinds <= set(_HOLDS_BYTES):
            self.events.add_many([shown + name for name in fresh], old_sizes, map(_WRITER, olds), index,
                                 causes)
        else:
            held = [n for n, old in enumerate(olds) if old[1] and old[0] in _HOLDS_BYTES]
            self.events.add_many([shown + fresh[n] for n in held], [old_sizes[n] for n in held],
                                 [olds[n][3] for n in held], index, bytes(causes[n] for n in held))
        return self._insert(index, fresh, content, start, end, children)

    def _apply_run(
        self, index: int, content: LayerContent, start: int, end: int,
        children: dict[str, Dir | FileNode], codes: bytearray | None, shown: str,
    ) -> tuple[int, int, int, int]:
        """Entries `start` to `end` (one directory's) one by one; (added, modified, bytes of each)."""
        links = content.links
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
        children = stack.pop().children.values()
        if children and set(map(type, children)) == {tuple}:
            files = cast("list[FileNode]", list(children))
            if max(map(_INODE, files)) < 0:
                # Files only, none hard-linked (most folders): only regular files have a size; summed in C.
                total += sum(map(_SIZE, files))
                continue
        for child in children:
            if isinstance(child, Dir):
                stack.append(child)
                continue
            kind, size, _meta, _layer, _link, inode = child
            if not size or kind not in _HOLDS_BYTES:
                continue
            if inode >= 0:
                if inode in seen:
                    continue
                seen.add(inode)
            total += size
    return total
