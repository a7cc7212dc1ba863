"""The layer analysis data model: what a layer held, what each layer changed, where bytes were wasted.

Contract: every figure is in bytes of file content as stored in the layer tars (directories, links and
whiteouts weigh nothing). `LayerReport.wasted_bytes == content_bytes - visible_bytes` and equals the sum
of its `WasteEvent.bytes`; each event names the layer that wrote the bytes and the layer that hid them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


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
    events: tuple[WasteEvent, ...]
    content_bytes: int
    visible_bytes: int
    base_layers: int
    base_known: bool
    hints: tuple[Hint, ...] = ()
    dive: DiveMetrics | None = None
    duplicates: tuple[DuplicateFiles, ...] = ()
    change_logs: tuple[object, ...] = field(default=(), repr=False)  # replay.ChangeLog per layer
    notes: tuple[str, ...] = ()
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
        return sum(e.bytes for e in self.events if e.hidden_by >= self.base_layers)

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
        return sorted(self.events, key=lambda e: (-e.bytes, e.path))[:limit]
