"""The layer analysis data model: what a layer held, what each layer changed, where bytes were wasted.

Contract: every figure is in bytes of file content as stored in the layer tars (directories, links and
whiteouts weigh nothing). `LayerReport.wasted_bytes == content_bytes - visible_bytes` and equals the sum
of its `WasteEvent.bytes`; each event names the layer that wrote the bytes and the layer that hid them.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import overload

from core.layers.archive_images import ArchiveImage


class WasteCause(StrEnum):
    """Why bytes written by one layer are no longer visible in the image."""

    DELETED = "deleted"
    OVERWRITTEN = "overwritten"
    COPY_UP_CHMOD = "copy-up (chmod)"
    COPY_UP_CHOWN = "copy-up (chown)"
    COPY_UP_TOUCH = "copy-up (touch)"

    @property
    def is_copy_up(self) -> bool:
        return self.name.startswith("COPY_UP")


class Change(StrEnum):
    ADDED = "A"
    MODIFIED = "M"
    REMOVED = "D"


@dataclass(frozen=True, slots=True)
class WasteEvent:
    """`bytes` of `path`, written by layer `written_by`, no longer visible because of layer `hidden_by`."""

    path: str
    bytes: int
    written_by: int
    hidden_by: int
    cause: WasteCause


#: Cause codes as `WasteLog` stores them: the index of the cause in this tuple.
CAUSES = tuple(WasteCause)
DELETED_CODE, OVERWRITTEN_CODE, CHMOD_CODE, CHOWN_CODE, TOUCH_CODE = (
    CAUSES.index(c) for c in (WasteCause.DELETED, WasteCause.OVERWRITTEN, WasteCause.COPY_UP_CHMOD,
                              WasteCause.COPY_UP_CHOWN, WasteCause.COPY_UP_TOUCH)
)
#: (layer that wrote, layer that hid, cause code) -> [bytes, events]
Tally = dict[tuple[int, int, int], list[int]]


class WasteLog(Sequence[WasteEvent]):
    """Every waste event of an image, stored as columns and built as `WasteEvent`s only when read.

    An image may hide millions of files (a `chmod -R` copies every one up); one object per event would
    cost more than finding them. `tally` keeps bytes and counts per (writer, hider, cause) as events
    are added, so totals never walk the events.
    """

    __slots__ = ("causes", "hidden", "paths", "sizes", "tally", "written")

    def __init__(self) -> None:
        # Lists, not arrays: extending an array converts every int (a third of a copy-up layer's replay),
        # while a list shares the int objects the replay tree already holds.
        self.paths: list[str] = []
        self.sizes: list[int] = []
        self.written: list[int] = []
        self.hidden: list[int] = []
        self.causes = bytearray()
        self.tally: Tally = {}

    def add(self, path: str, size: int, written: int, hidden: int, cause: int) -> None:
        self.paths.append(path)
        self.sizes.append(size)
        self.written.append(written)
        self.hidden.append(hidden)
        self.causes.append(cause)
        key = (written, hidden, cause)
        found = self.tally.get(key)
        if found is None:
            self.tally[key] = [size, 1]
        else:
            found[0] += size
            found[1] += 1

    def add_many(self, paths: list[str], sizes: Iterable[int], written: Iterable[int], hidden: int,
                 causes: bytes) -> None:
        """Events that share the hiding layer (one directory's run of a layer), added in bulk."""
        first = len(self.paths)
        self.paths.extend(paths)
        self.sizes.extend(sizes)
        self.written.extend(written)
        self.hidden.extend([hidden] * len(paths))
        self.causes.extend(causes)
        sizes_, written_ = self.sizes[first:], self.written[first:]
        if written_.count(written_[0]) == len(written_) and causes.count(causes[0]) == len(causes):
            keys: Iterable[tuple[int, int, int]] = ((written_[0], hidden, causes[0]),)
            totals = [[sum(sizes_), len(paths)]]
        else:
            per: Tally = {}
            for size, writer, cause in zip(sizes_, written_, causes, strict=True):
                slot = per.setdefault((writer, hidden, cause), [0, 0])
                slot[0] += size
                slot[1] += 1
            keys, totals = list(per), list(per.values())
        for key, (size, count) in zip(keys, totals, strict=True):
            found = self.tally.setdefault(key, [0, 0])
            found[0] += size
            found[1] += count

    def _event(self, number: int) -> WasteEvent:
        return WasteEvent(self.paths[number], self.sizes[number], self.written[number],
                          self.hidden[number], CAUSES[self.causes[number]])

    def __len__(self) -> int:
        return len(self.paths)

    @overload
    def __getitem__(self, number: int) -> WasteEvent: ...

    @overload
    def __getitem__(self, number: slice) -> list[WasteEvent]: ...

    def __getitem__(self, number: int | slice) -> WasteEvent | list[WasteEvent]:
        if isinstance(number, slice):
            return [self._event(n) for n in range(len(self.paths))[number]]
        return self._event(range(len(self.paths))[number])

    def __iter__(self) -> Iterator[WasteEvent]:
        causes = CAUSES
        for path, size, written, hidden, cause in zip(
            self.paths, self.sizes, self.written, self.hidden, self.causes, strict=True
        ):
            yield WasteEvent(path, size, written, hidden, causes[cause])

    def total_bytes(self) -> int:
        return sum(self.sizes)

    def totals(self) -> Iterator[tuple[int, int, WasteCause, int, int]]:
        """(written by, hidden by, cause, bytes, events) per distinct triple."""
        for (written, hidden, cause), (size, count) in self.tally.items():
            yield written, hidden, CAUSES[cause], size, count

    def biggest(self, limit: int) -> list[WasteEvent]:
        """The `limit` largest events, ties by path."""
        sizes, paths = self.sizes, self.paths
        numbers = heapq.nsmallest(limit, range(len(paths)), key=lambda n: (-sizes[n], paths[n]))
        return [self._event(n) for n in numbers]


@dataclass(frozen=True, slots=True)
class LayerFile:
    """One path a layer touched, as the per-layer file tree shows it (paths start with '/')."""

    path: str
    change: Change
    kind: str  # f regular, h hard link, l symlink, d directory, o other
    size: int
    link: str = ""


@dataclass(frozen=True, slots=True)
class LayerSummary:
    """One layer: the instruction that made it and what it changed.

    `obsolete_later_bytes` are bytes this layer wrote that a later layer hid; `hid_bytes` are bytes of
    earlier layers this layer hid. Directories are not counted as files.
    """

    index: int
    digest: str
    instruction: str
    created_by: str
    content_bytes: int
    entries: int
    files_added: int = 0
    files_modified: int = 0
    files_removed: int = 0
    bytes_added: int = 0
    bytes_modified: int = 0
    bytes_removed: int = 0
    obsolete_later_bytes: int = 0
    hid_bytes: int = 0
    is_base: bool = False
    dockerfile_line: int | None = None
    compression: str = "none"

    @property
    def keyword(self) -> str:
        return self.instruction.split(" ", 1)[0].upper() if self.instruction else ""


@dataclass(frozen=True, slots=True)
class Hint:
    """Advice tied to a layer and, when known, to the Dockerfile line that made it."""

    rule: str
    title: str
    message: str
    layer: int | None = None
    instruction: str = ""
    dockerfile_line: int | None = None
    suggestion: str = ""
    bytes: int = 0


@dataclass(frozen=True, slots=True)
class DiveMetrics:
    """The figures dive would print for this image (see `core.layers.dive` for how dive counts)."""

    efficiency: float
    wasted_bytes: int
    user_wasted_percent: float
    inefficient_paths: tuple[tuple[str, int, int], ...] = ()  # (path, copies, cumulative bytes)


@dataclass(frozen=True, slots=True)
class DuplicateFiles:
    """Visible files with identical content at different paths (deep mode only)."""

    digest: str
    size: int
    paths: tuple[str, ...]

    @property
    def wasted_bytes(self) -> int:
        return self.size * (len(self.paths) - 1)


@dataclass(frozen=True, slots=True, eq=False)
class LayerReport:
    """The whole analysis of one image. `base_layers` leading layers belong to the base image."""

    image: str
    source: str  # engine, docker-archive, oci-archive, oci-dir
    layers: tuple[LayerSummary, ...]
    events: WasteLog
    content_bytes: int
    visible_bytes: int
    base_layers: int
    base_known: bool
    hints: tuple[Hint, ...] = ()
    dive: DiveMetrics | None = None
    duplicates: tuple[DuplicateFiles, ...] = ()
    change_logs: tuple[object, ...] = field(default=(), repr=False)  # replay.ChangeLog per layer
    notes: tuple[str, ...] = ()
    images: tuple[ArchiveImage, ...] = ()  # every image the archive holds, when it holds several
    tree: object = field(default=None, repr=False)  # the final replay tree (core.layers.replay.Dir)

    @property
    def wasted_bytes(self) -> int:
        return self.content_bytes - self.visible_bytes

    @property
    def efficiency(self) -> float:
        return self.visible_bytes / self.content_bytes if self.content_bytes else 1.0

    @property
    def user_content_bytes(self) -> int:
        return sum(layer.content_bytes for layer in self.layers[self.base_layers:])

    @property
    def user_wasted_bytes(self) -> int:
        """Waste hidden by the user's layers (a base image's own waste is not the user's doing)."""
        return sum(size for _w, hidden, _c, size, _n in self.events.totals() if hidden >= self.base_layers)

    @property
    def user_wasted_percent(self) -> float:
        """User waste as a fraction (0.1 = 10 %) of the user layers' content, as dive defines it."""
        content = self.user_content_bytes
        return self.user_wasted_bytes / content if content else 0.0

    def layer_files(self, index: int) -> tuple[LayerFile, ...]:
        """The paths layer `index` added, modified or removed (built on demand: there may be millions)."""
        log = self.change_logs[index] if index < len(self.change_logs) else None
        files = getattr(log, "files", None)
        return files() if callable(files) else ()

    def biggest_events(self, limit: int = 10) -> list[WasteEvent]:
        return self.events.biggest(limit)
