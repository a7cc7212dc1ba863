"""Analyse one image end to end: load it, replay its layers, and build the `LayerReport`.

Contract: `analyse_image(target)` accepts a local engine image name or id, a `docker save` archive, or
an OCI layout directory (a path that exists wins over an image name). It either returns a complete
report or raises `LayerError`; `Cancelled` propagates when the token is cancelled. The base image's
layer count comes from `base_layers`, else from the Dockerfile's final FROM image when the engine has
it (its layers must be a prefix of ours), else dive's rule: the first layer is the base.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from core.dockerfile import Dockerfile
from core.gcpause import paused_gc
from core.layers.content import LayerContent
from core.layers.dive import DiveCounter
from core.layers.engine import EnginePreview, engine_client, inspect_engine_image, read_engine_image
from core.layers.errors import LayerError
from core.layers.hints import hinted_files, make_hints
from core.layers.history import dockerfile_lines, instruction_of, layer_history
from core.layers.model import DuplicateFiles, LayerReport, LayerSummary
from core.layers.replay import replay, walk_files
from core.layers.sources import ImageData, read_archive, read_oci_dir
from core.progress import CancelToken, Progress, ProgressCallback, no_progress


def load_image(
    target: str,
    *,
    deep: bool = False,
    workers: int | None = None,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
    on_preview: Callable[[EnginePreview], None] | None = None,
    image: str | None = None,
) -> tuple[ImageData, Any]:
    """The image's layers and config, plus the engine client when the engine was used (else None);
    `image` picks one image of a multi-image archive or OCI layout (an engine target is one image)."""
    path = Path(target)
    if path.is_dir():
        return read_oci_dir(path, deep=deep, workers=workers, progress=progress, cancel=cancel,
                            image=image), None
    if path.is_file():
        return read_archive(path, deep=deep, workers=workers, progress=progress, cancel=cancel,
                            image=image), None
    if "/" in target and target.startswith((".", "/", "~")):
        raise LayerError(f"{target}: no such file or directory")
    api = engine_client()
    preview = inspect_engine_image(api, target)
    if on_preview is not None:
        on_preview(preview)
    progress(Progress("reading", 0, preview.size, f"{len(preview.diff_ids)} layers"))
    return read_engine_image(api, target, preview, deep=deep, progress=progress, cancel=cancel), api


def _diff_ids(config: dict[str, Any]) -> list[str]:
    rootfs = config.get("rootfs")
    ids = rootfs.get("diff_ids") if isinstance(rootfs, dict) else None
    return [str(i) for i in ids] if isinstance(ids, list) else []


def _base_from_engine(api: Any, dockerfile: Dockerfile | None, diff_ids: list[str]) -> int | None:
    stage = dockerfile.final_stage if dockerfile else None
    if stage is None or not stage.base or "$" in stage.base:
        return None
    if stage.base.lower() == "scratch":
        return 0
    if stage.base.lower() in dockerfile.stage_names() if dockerfile else False:
        return None
    try:
        if api is None:
            api = engine_client(timeout=30)
        base = inspect_engine_image(api, stage.base)
    except LayerError:
        return None
    count = len(base.diff_ids)
    return count if count <= len(diff_ids) and list(base.diff_ids) == diff_ids[:count] else None


def analyse_image(
    target: str,
    *,
    dockerfile: Dockerfile | None = None,
    deep: bool = False,
    dive: bool = False,
    base_layers: int | None = None,
    keep_changes: bool = True,
    workers: int | None = None,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
    on_preview: Callable[[EnginePreview], None] | None = None,
    image: str | None = None,
) -> LayerReport:
    """Load and analyse `target` (image name, archive or OCI dir); `workers` processes read the layers of
    an archive or OCI directory (default: one per core for a big image); `image` picks one image of an
    archive that holds several."""
    # Every tree node and change record lives until the report is dropped: collections would only
    # re-walk them (measured: a third of the replay of a 120,000-entry image).
    with paused_gc():
        data, api = load_image(target, deep=deep, workers=workers, progress=progress, cancel=cancel,
                               on_preview=on_preview, image=image)
        if base_layers is None:
            base_layers = _base_from_engine(api, dockerfile, _diff_ids(data.config)) if dockerfile else None
        return analyse_data(data, dockerfile=dockerfile, deep=deep, dive=dive, base_layers=base_layers,
                            keep_changes=keep_changes, progress=progress, cancel=cancel)


def analyse_data(
    data: ImageData,
    *,
    dockerfile: Dockerfile | None = None,
    deep: bool = False,
    dive: bool = False,
    base_layers: int | None = None,
    keep_changes: bool = True,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> LayerReport:
    """Replay loaded layers and build the report."""
    contents = data.layers
    notes = list(data.notes)
    progress(Progress("replay", 0, len(contents), "stacking layers"))
    counter = DiveCounter() if dive else None
    result = replay(contents, keep_changes=keep_changes, deep=deep, cancel=cancel,
                    before_layer=counter.add_layer if counter else None)
    created, note = layer_history(data.config, len(contents))
    if note:
        notes.append(note)
    instructions = [instruction_of(c) for c in created]
    sources = dockerfile_lines(instructions, dockerfile)
    base_known = base_layers is not None
    base = min(base_layers, len(contents)) if base_layers is not None else min(1, len(contents))
    obsolete: dict[int, int] = defaultdict(int)
    hid: dict[int, int] = defaultdict(int)
    for written, hidden, _cause, size, _count in result.events.totals():
        obsolete[written] += size
        hid[hidden] += size
    diff_ids = _diff_ids(data.config)
    summaries = []
    for index, (content, counts) in enumerate(zip(contents, result.counts, strict=True)):
        source = sources[index]
        summaries.append(LayerSummary(
            index=index,
            digest=diff_ids[index] if index < len(diff_ids) else content.key,
            instruction=instructions[index],
            created_by=created[index],
            content_bytes=content.content_bytes,
            entries=len(content) + len(content.whiteouts) + len(content.opaques),
            files_added=counts.files_added,
            files_modified=counts.files_modified,
            files_removed=counts.files_removed,
            bytes_added=counts.bytes_added,
            bytes_modified=counts.bytes_modified,
            bytes_removed=counts.bytes_removed,
            obsolete_later_bytes=obsolete[index],
            hid_bytes=hid[index],
            is_base=index < base,
            dockerfile_line=source.line if source else None,
            compression=content.compression,
        ))
    layers = tuple(summaries)
    hints = make_hints(layers, contents, hinted_files(result.root), result.events, base)
    duplicates = _duplicates(contents, walk_files(result.root)) if deep else []
    content_total = sum(c.content_bytes for c in contents)
    if content_total - result.visible_bytes != result.events.total_bytes():
        notes.append("internal check failed: waste events do not add up to content minus visible bytes")
    progress(Progress("replay", len(contents), len(contents), "done"))
    return LayerReport(
        image=data.name,
        source=data.layout,
        layers=layers,
        events=result.events,
        content_bytes=content_total,
        visible_bytes=result.visible_bytes,
        base_layers=base,
        base_known=base_known,
        hints=tuple(hints),
        dive=counter.metrics() if counter else None,
        duplicates=tuple(duplicates),
        change_logs=tuple(result.changes) if keep_changes else (),
        notes=tuple(notes),
        images=data.images if len(data.images) > 1 else (),
        tree=result.root,
    )


def _duplicates(contents: list[LayerContent], visible: Iterable[tuple[str, Any]]) -> list[DuplicateFiles]:
    by_digest: dict[str, list[str]] = defaultdict(list)
    sizes: dict[str, int] = {}
    for path, node in visible:
        kind, size, layer = node[0], node[1], node[3]
        if kind != "f" or not size:
            continue
        digest = contents[layer].digests.get(path[1:])
        if digest:
            by_digest[digest].append(path)
            sizes[digest] = size
    found = [DuplicateFiles(d, sizes[d], tuple(sorted(p))) for d, p in by_digest.items() if len(p) > 1]
    return sorted(found, key=lambda d: -d.wasted_bytes)
