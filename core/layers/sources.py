"""Where images come from: a `docker save` archive (classic or Docker 25+ OCI layout), an OCI image
layout directory, or a stream from the engine; each is turned into an `ImageData`.

Contract: nothing is spooled to disk. A stream (the engine's `docker save`) is read in one forward
pass: layers are parsed as they arrive, in whatever order the archive stores them (the classic layout
sorts them by id and puts `manifest.json` last), and are put in order from the manifest at the end. An
archive file is walked once over its outer headers only (layer data is skipped by seeking), then the
layers the manifest names are parsed from their byte ranges, on every core for a big image
(`parallel.read_jobs`); an OCI directory's blobs likewise. Small JSON members (config, manifest,
index) are kept in memory. Blobs that are neither JSON nor a tar only matter, and only raise, if the
manifest names them as layers. Nested OCI indexes are followed; the first image manifest for linux
(preferring amd64) is used. An archive holding several images yields the one `image` names (see
`archive_images.choose`), by default the first, with a note naming the others.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.layers.archive_images import ArchiveImage, choose, docker_images, oci_images
from core.layers.content import LayerContent, MetaInterner, normalise, read_layer
from core.layers.errors import LayerError
from core.layers.parallel import LayerJob, read_jobs
from core.layers.streams import FileStream, PrefixedStream, Stream
from core.layers.tarstream import HARDLINK, REGULAR, SYMLINK, NotATar, TarReader
from core.progress import CancelToken, Progress, ProgressCallback, no_progress

JSON_LIMIT = 32 << 20
_INDEX_TYPES = {
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
}


@dataclass(slots=True, eq=False)
class ImageData:
    """Layers in image order plus the image config; `layout` says which archive layout was read."""

    name: str
    layout: str
    config: dict[str, Any]
    layers: list[LayerContent]
    notes: list[str] = field(default_factory=list)
    images: tuple[ArchiveImage, ...] = ()  # every image an archive holds (empty from the engine)


class _EntryData:
    """The current entry of a TarReader as a Stream."""

    def __init__(self, reader: TarReader) -> None:
        self._reader = reader

    def read(self, n: int) -> bytes:
        return self._reader.read(n)

    def skip(self, n: int) -> None:
        self._reader.skip(n)


def _parse_json(data: bytes, what: str) -> Any:
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise LayerError(f"{what} is not valid JSON") from None


def read_image_tar(
    stream: Stream,
    name: str,
    *,
    deep: bool = False,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
    total: int = 0,
    position: Callable[[], int] | None = None,
    image: str | None = None,
) -> ImageData:
    """Read a `docker save` / OCI archive from `stream` in one pass; `image` picks one of several."""
    reader = TarReader(stream, f"archive {name}")
    interner = MetaInterner()
    contents: dict[str, LayerContent] = {}

    def layer(path: str, _size: int, head: bytes) -> None:
        progress(Progress("layers", len(contents), 0, f"reading {path}"))
        contents[path] = read_layer(PrefixedStream(head, _EntryData(reader)), path, f"layer {path}",
                                    interner, deep=deep, cancel=cancel)

    def member_done(path: str) -> None:
        if position is not None and total:
            progress(Progress("reading", position(), total, path))

    jsons, aliases, not_layers = _walk_archive(reader, name, cancel, layer, member_done)
    return _assemble(name, jsons, contents, aliases, not_layers, image)


def _json_getter(name: str, jsons: dict[str, Any], aliases: dict[str, str]
                 ) -> tuple[Callable[[str], Any], Callable[[str], str]]:
    """(get a JSON member by path, resolve a path through the archive's links)."""

    def real(path: str) -> str:
        seen = 0
        while path in aliases and seen < 40:
            path, seen = aliases[path], seen + 1
        return path

    def get_json(path: str) -> Any:
        key = real(path)
        if key not in jsons:
            raise LayerError(f"{name}: {path} is missing from the archive")
        return jsons[key]

    return get_json, real


def _image_keys(
    name: str, jsons: dict[str, Any], aliases: dict[str, str], image: str | None = None
) -> tuple[str, dict[str, Any], list[str], _Chosen]:
    """(layout, config, layer paths in image order with links resolved, choice) of the chosen image."""
    get_json, real = _json_getter(name, jsons, aliases)
    if "manifest.json" in jsons:
        layout = "oci-archive" if "index.json" in jsons else "docker-archive"
        config, keys, chosen = _docker_manifest(jsons["manifest.json"], get_json, name, image,
                                                jsons.get("index.json"))
    elif "index.json" in jsons:
        layout = "oci-archive"
        config, keys, chosen = _oci_index(get_json, name, image)
    else:
        raise LayerError(f"{name} is not an image archive (no manifest.json or index.json inside)")
    return layout, config, [real(key) for key in keys], chosen


def _missing(name: str, number: int, key: str, not_layers: dict[str, str]) -> LayerError:
    if key in not_layers:
        return LayerError(f"layer {number} of {name}: {not_layers[key]}")
    return LayerError(f"layer {number} of {name} ({key}) is missing from the archive")


def _assemble(
    name: str,
    jsons: dict[str, Any],
    contents: dict[str, LayerContent],
    aliases: dict[str, str],
    not_layers: dict[str, str],
    image: str | None = None,
) -> ImageData:
    layout, config, keys, chosen = _image_keys(name, jsons, aliases, image)
    layers = []
    for number, key in enumerate(keys, start=1):
        if key not in contents:
            raise _missing(name, number, key, not_layers)
        layers.append(contents[key])
    return ImageData(name, layout, config, layers, chosen.notes, chosen.images)


@dataclass(frozen=True, slots=True)
class _Chosen:
    """What choosing an image says: notes for the report, and every image the source holds."""

    notes: list[str]
    images: tuple[ArchiveImage, ...]


def _docker_manifest(
    manifest: Any, get_json: Callable[[str], Any], name: str, image: str | None = None, index: Any = None
) -> tuple[dict[str, Any], list[str], _Chosen]:
    """(config, layer paths, choice) of the chosen image of a `docker save` manifest.json."""
    images = docker_images(manifest, index) if isinstance(manifest, list) else []
    if not images:
        raise LayerError(f"{name}: manifest.json does not describe an image")
    found = tuple(image for image, _item in images)
    chosen, notes = choose(list(found), image, name)
    item = images[chosen][1]
    config_path, layers = item.get("Config"), item.get("Layers")
    if not isinstance(config_path, str) or not isinstance(layers, list):
        raise LayerError(f"{name}: manifest.json lacks Config or Layers")
    config = get_json(normalise(config_path))
    return _as_config(config, name), [normalise(str(p)) for p in layers], _Chosen(notes, found)


def _blob_path(digest: Any, name: str) -> str:
    if not isinstance(digest, str) or ":" not in digest:
        raise LayerError(f"{name}: a descriptor has no valid digest")
    algorithm, _, hexdigest = digest.partition(":")
    return f"blobs/{algorithm}/{hexdigest}"


def _pick_manifest(descriptors: list[Any]) -> dict[str, Any] | None:
    """The first linux/amd64 manifest, else the first linux one, else the first at all."""
    usable = [d for d in descriptors if isinstance(d, dict) and "digest" in d]
    attestation = "vnd.docker.reference.type"
    usable = [d for d in usable if attestation not in (d.get("annotations") or {})]

    def platform(d: dict[str, Any]) -> dict[str, Any]:
        value = d.get("platform")
        return value if isinstance(value, dict) else {}

    for want in (("linux", "amd64"), ("linux", None)):
        for d in usable:
            p = platform(d)
            if p.get("os") == want[0] and (want[1] is None or p.get("architecture") == want[1]):
                return d
    return usable[0] if usable else None


def _config_digest(get_json: Callable[[str], Any], name: str) -> Callable[[dict[str, Any]], str | None]:
    """The config digest behind an image manifest descriptor, when it can be read (else None)."""

    def digest(descriptor: dict[str, Any]) -> str | None:
        try:
            document = get_json(_blob_path(descriptor.get("digest"), name))
        except LayerError:
            return None
        config = document.get("config") if isinstance(document, dict) else None
        value = config.get("digest") if isinstance(config, dict) else None
        return value if isinstance(value, str) else None

    return digest


def _oci_candidates(get_json: Callable[[str], Any], name: str
                    ) -> list[tuple[ArchiveImage, list[dict[str, Any]]]]:
    index = get_json("index.json")
    if not isinstance(index, dict) or not isinstance(index.get("manifests"), list):
        raise LayerError(f"{name}: an OCI index has no manifests")
    return oci_images(index, _config_digest(get_json, name))


def _oci_index(
    get_json: Callable[[str], Any], name: str, image: str | None = None
) -> tuple[dict[str, Any], list[str], _Chosen]:
    """(config, layer blob paths, choice) of the chosen image of an OCI layout."""
    images = _oci_candidates(get_json, name)
    if not images:
        raise LayerError(f"{name}: the OCI index lists no image")
    found = tuple(image for image, _descriptors in images)
    chosen_image, notes = choose(list(found), image, name)
    descriptors: list[Any] = images[chosen_image][1]
    for _depth in range(8):
        chosen = _pick_manifest(descriptors)
        if chosen is None:
            raise LayerError(f"{name}: the OCI index lists no image")
        document = get_json(_blob_path(chosen["digest"], name))
        media = chosen.get("mediaType") or (document.get("mediaType") if isinstance(document, dict) else None)
        if media in _INDEX_TYPES or (isinstance(document, dict) and "manifests" in document):
            if not isinstance(document, dict) or not isinstance(document.get("manifests"), list):
                raise LayerError(f"{name}: an OCI index has no manifests")
            descriptors = document["manifests"]
            continue
        if not isinstance(document, dict) or not isinstance(document.get("layers"), list):
            raise LayerError(f"{name}: the image manifest has no layers")
        config_ref = document.get("config")
        if not isinstance(config_ref, dict):
            raise LayerError(f"{name}: the image manifest has no config")
        config = get_json(_blob_path(config_ref.get("digest"), name))
        keys = [_blob_path(layer.get("digest") if isinstance(layer, dict) else None, name)
                for layer in document["layers"]]
        return _as_config(config, name), keys, _Chosen(notes, found)
    raise LayerError(f"{name}: OCI indexes nested too deeply")


def _as_config(config: Any, name: str) -> dict[str, Any]:
    if not isinstance(config, dict):
        raise LayerError(f"{name}: the image config is not a JSON object")
    return config


def read_archive(
    path: Path,
    *,
    deep: bool = False,
    workers: int | None = None,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
    image: str | None = None,
) -> ImageData:
    """Read a `docker save` archive (either layout) from a file: outer headers, then the layers of the
    image `image` names (default: the first)."""
    name = str(path)
    jsons, blobs, aliases, not_layers = _scan_archive_file(path, cancel)
    layout, config, keys, chosen = _image_keys(name, jsons, aliases, image)
    jobs = []
    for number, key in enumerate(keys, start=1):
        if key not in blobs:
            raise _missing(name, number, key, not_layers)
        offset, size = blobs[key]
        jobs.append(LayerJob(name, offset, size, key, f"layer {number} of {name} ({key})"))
    layers = read_jobs(jobs, deep=deep, workers=workers, progress=progress, cancel=cancel)
    return ImageData(name, layout, config, layers, chosen.notes, chosen.images)


def _scan_archive_file(
    path: Path, cancel: CancelToken | None
) -> tuple[dict[str, Any], dict[str, tuple[int, int]], dict[str, str], dict[str, str]]:
    try:
        handle = path.open("rb", buffering=1 << 16)
    except OSError as exc:
        raise LayerError(f"cannot open {path}: {exc.strerror}") from None
    with handle:
        return _scan_archive(handle, str(path), cancel)


def _scan_archive(
    handle: Any, name: str, cancel: CancelToken | None
) -> tuple[dict[str, Any], dict[str, tuple[int, int]], dict[str, str], dict[str, str]]:
    """The archive's JSON members, where each blob's bytes are (offset, size), links, and non-layers."""
    reader = TarReader(FileStream(handle), f"archive {name}")
    blobs: dict[str, tuple[int, int]] = {}

    def layer(path: str, size: int, head: bytes) -> None:
        blobs[path] = (handle.tell() - reader.buffered - len(head), size)

    jsons, aliases, not_layers = _walk_archive(reader, name, cancel, layer)
    return jsons, blobs, aliases, not_layers


def _walk_archive(
    reader: TarReader,
    name: str,
    cancel: CancelToken | None,
    layer: Callable[[str, int, bytes], None],
    member_done: Callable[[str], None] | None = None,
) -> tuple[dict[str, Any], dict[str, str], dict[str, str]]:
    """One pass over an image archive's members: JSON documents are kept, links recorded, and each blob
    that is not JSON goes to `layer(path, size, first bytes)`, which may read on or leave it. A
    `LayerError` from `layer` is kept as the reason that blob is not a layer (an error only if the
    manifest names it). Returns (JSON by path, links, reasons)."""
    jsons: dict[str, Any] = {}
    aliases: dict[str, str] = {}
    not_layers: dict[str, str] = {}
    try:
        entry = reader.next()
    except NotATar:
        raise LayerError(f"{name} is not an image archive (not a tar file)") from None
    while entry is not None:
        if cancel is not None:
            cancel.check()
        path = normalise(entry.name)
        if entry.kind in (SYMLINK, HARDLINK):
            aliases[path] = _alias_target(path, entry.kind, entry.linkname)
        elif entry.kind == REGULAR:
            if path.startswith("blobs/") or path.endswith("/layer.tar"):
                head = reader.read(min(entry.size, 512))
                if head[:1] == b"{" and not path.endswith("/layer.tar"):
                    if entry.size <= JSON_LIMIT:
                        _keep_json(jsons, not_layers, path, head + reader.read(entry.size - len(head)))
                elif len(head) < min(entry.size, 512):
                    raise LayerError(f"archive {name} is truncated (it ends inside a file's data)")
                else:
                    try:
                        layer(path, entry.size, head)
                    except LayerError as exc:
                        not_layers[path] = str(exc)
            elif _is_metadata(path, entry.size):
                jsons[path] = _parse_json(reader.read(entry.size), f"{path} in {name}")
        if member_done is not None:
            member_done(path)
        entry = reader.next()
    return jsons, aliases, not_layers


def _alias_target(path: str, kind: str, linkname: str) -> str:
    if kind == SYMLINK:
        return normalise(posixpath.normpath(posixpath.join(posixpath.dirname(path), linkname)))
    return normalise(linkname)


def _keep_json(jsons: dict[str, Any], not_layers: dict[str, str], path: str, data: bytes) -> None:
    try:
        jsons[path] = json.loads(data)
    except ValueError:
        not_layers[path] = f"{path} is neither a tar nor JSON"


def _is_metadata(path: str, size: int) -> bool:
    return (path.endswith(".json") or path in ("repositories", "oci-layout")) and "/" not in path \
        and size <= JSON_LIMIT


def read_oci_dir(
    root: Path,
    *,
    deep: bool = False,
    workers: int | None = None,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
    image: str | None = None,
) -> ImageData:
    """Read an OCI image layout directory (as `skopeo copy ... oci:DIR` writes it); `image` picks one
    of several (default: the first)."""
    name = str(root)
    get_json = _dir_json(root, name)
    config, keys, chosen = _oci_index(get_json, name, image)
    jobs = []
    for number, key in enumerate(keys, start=1):
        blob = root / key
        try:
            size = blob.stat().st_size
        except FileNotFoundError:
            raise LayerError(f"layer {number} of {name} ({key}) is missing") from None
        except OSError as exc:
            raise LayerError(f"cannot read layer {number} of {name}: {exc.strerror}") from None
        jobs.append(LayerJob(str(blob), 0, size, key, f"layer {number} of {name}"))
    layers = read_jobs(jobs, deep=deep, workers=workers, progress=progress, cancel=cancel)
    return ImageData(name, "oci-dir", config, layers, chosen.notes, chosen.images)


def _dir_json(root: Path, name: str) -> Callable[[str], Any]:
    """Read a JSON file of an OCI layout directory by its relative path."""
    if not (root / "index.json").is_file():
        raise LayerError(f"{name} is not an OCI image layout (no index.json)")

    def get_json(rel: str) -> Any:
        file = root / rel
        try:
            if file.stat().st_size > JSON_LIMIT:
                raise LayerError(f"{name}: {rel} is too large to be image metadata")
            return _parse_json(file.read_bytes(), f"{rel} in {name}")
        except FileNotFoundError:
            raise LayerError(f"{name}: {rel} is missing") from None
        except OSError as exc:
            raise LayerError(f"{name}: cannot read {rel}: {exc.strerror}") from None

    return get_json


def list_images(path: Path, cancel: CancelToken | None = None) -> list[ArchiveImage]:
    """The images an archive file or OCI layout directory holds, without reading any layer."""
    name = str(path)
    if path.is_dir():
        return [found for found, _descriptors in _oci_candidates(_dir_json(path, name), name)]
    jsons, _blobs, aliases, _not_layers = _scan_archive_file(path, cancel)
    get_json, _real = _json_getter(name, jsons, aliases)
    if "manifest.json" in jsons:
        manifest = jsons["manifest.json"]
        return [found for found, _item in docker_images(manifest if isinstance(manifest, list) else [],
                                                        jsons.get("index.json"))]
    if "index.json" in jsons:
        return [found for found, _descriptors in _oci_candidates(get_json, name)]
    raise LayerError(f"{name} is not an image archive (no manifest.json or index.json inside)")
