"""Where images come from: a `docker save` archive (classic or Docker 25+ OCI layout), an OCI image
layout directory, or a stream from the engine; each is turned into an `ImageData`.

Contract: an archive is read in one forward pass and never spooled to disk. Layers are parsed as they
arrive, in whatever order the archive stores them (the classic layout sorts them by id and puts
`manifest.json` last), and are put in order from the manifest at the end; small JSON members (config,
manifest, index) are kept in memory. Blobs that are neither JSON nor a tar only matter, and only
raise, if the manifest names them as layers. Nested OCI indexes are followed; the first image
manifest for linux (preferring amd64) is used.
"""

from __future__ import annotations

import json
import os
import posixpath
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.layers.content import LayerContent, MetaInterner, normalise, read_layer
from core.layers.errors import LayerError
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
) -> ImageData:
    """Read a `docker save` / OCI archive from `stream` in one pass."""
    reader = TarReader(stream, f"archive {name}")
    interner = MetaInterner()
    jsons: dict[str, Any] = {}
    contents: dict[str, LayerContent] = {}
    aliases: dict[str, str] = {}
    not_layers: dict[str, str] = {}
    try:
        first = reader.next()
    except NotATar:
        raise LayerError(f"{name} is not an image archive (not a tar file)") from None
    entry = first
    while entry is not None:
        if cancel is not None:
            cancel.check()
        path = normalise(entry.name)
        if entry.kind in (SYMLINK, HARDLINK):
            target = normalise(entry.linkname)
            if entry.kind == SYMLINK:
                target = posixpath.normpath(posixpath.join(posixpath.dirname(path), entry.linkname))
            aliases[path] = normalise(target)
        elif entry.kind == REGULAR:
            is_blob = path.startswith("blobs/") or path.endswith("/layer.tar")
            if is_blob:
                head = reader.read(min(entry.size, 512))
                if head[:1] == b"{" and not path.endswith("/layer.tar"):
                    if entry.size <= JSON_LIMIT:
                        data = head + reader.read(entry.size - len(head))
                        try:
                            jsons[path] = json.loads(data)
                        except ValueError:
                            not_layers[path] = f"{path} is neither a tar nor JSON"
                else:
                    progress(Progress("layers", len(contents), 0, f"reading {path}"))
                    try:
                        contents[path] = read_layer(
                            PrefixedStream(head, _EntryData(reader)), path, f"layer {path}", interner,
                            deep=deep, cancel=cancel,
                        )
                    except LayerError as exc:
                        # Only an error if the manifest names it; a cut archive fails at next().
                        not_layers[path] = str(exc)
            elif (
                (path.endswith(".json") or path in ("repositories", "oci-layout"))
                and "/" not in path
                and entry.size <= JSON_LIMIT
            ):
                jsons[path] = _parse_json(reader.read(entry.size), f"{path} in {name}")
        if position is not None and total:
            progress(Progress("reading", position(), total, path))
        entry = reader.next()
    return _assemble(name, jsons, contents, aliases, not_layers)


def _assemble(
    name: str,
    jsons: dict[str, Any],
    contents: dict[str, LayerContent],
    aliases: dict[str, str],
    not_layers: dict[str, str],
) -> ImageData:
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

    if "manifest.json" in jsons:
        layout = "oci-archive" if "index.json" in jsons else "docker-archive"
        config, keys = _docker_manifest(jsons["manifest.json"], get_json, name)
    elif "index.json" in jsons:
        layout = "oci-archive"
        config, keys = _oci_index(get_json, name)
    else:
        raise LayerError(f"{name} is not an image archive (no manifest.json or index.json inside)")
    layers = []
    for number, key in enumerate(keys, start=1):
        path = real(key)
        if path in contents:
            layers.append(contents[path])
        elif path in not_layers:
            raise LayerError(f"layer {number} of {name}: {not_layers[path]}")
        else:
            raise LayerError(f"layer {number} of {name} ({key}) is missing from the archive")
    return ImageData(name, layout, config, layers)


def _docker_manifest(
    manifest: Any, get_json: Callable[[str], Any], name: str
) -> tuple[dict[str, Any], list[str]]:
    if not isinstance(manifest, list) or not manifest or not isinstance(manifest[0], dict):
        raise LayerError(f"{name}: manifest.json does not describe an image")
    item = manifest[0]
    config_path, layers = item.get("Config"), item.get("Layers")
    if not isinstance(config_path, str) or not isinstance(layers, list):
        raise LayerError(f"{name}: manifest.json lacks Config or Layers")
    config = get_json(normalise(config_path))
    return _as_config(config, name), [normalise(str(p)) for p in layers]


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


def _oci_index(get_json: Callable[[str], Any], name: str) -> tuple[dict[str, Any], list[str]]:
    index = get_json("index.json")
    for _depth in range(8):
        if not isinstance(index, dict) or not isinstance(index.get("manifests"), list):
            raise LayerError(f"{name}: an OCI index has no manifests")
        chosen = _pick_manifest(index["manifests"])
        if chosen is None:
            raise LayerError(f"{name}: the OCI index lists no image")
        document = get_json(_blob_path(chosen["digest"], name))
        media = chosen.get("mediaType") or (document.get("mediaType") if isinstance(document, dict) else None)
        if media in _INDEX_TYPES or (isinstance(document, dict) and "manifests" in document):
            index = document
            continue
        if not isinstance(document, dict) or not isinstance(document.get("layers"), list):
            raise LayerError(f"{name}: the image manifest has no layers")
        config_ref = document.get("config")
        if not isinstance(config_ref, dict):
            raise LayerError(f"{name}: the image manifest has no config")
        config = get_json(_blob_path(config_ref.get("digest"), name))
        keys = [_blob_path(layer.get("digest") if isinstance(layer, dict) else None, name)
                for layer in document["layers"]]
        return _as_config(config, name), keys
    raise LayerError(f"{name}: OCI indexes nested too deeply")


def _as_config(config: Any, name: str) -> dict[str, Any]:
    if not isinstance(config, dict):
        raise LayerError(f"{name}: the image config is not a JSON object")
    return config


def read_archive(
    path: Path,
    *,
    deep: bool = False,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> ImageData:
    """Read a `docker save` archive (either layout) from a file."""
    try:
        handle = path.open("rb", buffering=1 << 20)
    except OSError as exc:
        raise LayerError(f"cannot open {path}: {exc.strerror}") from None
    with handle:
        total = os.fstat(handle.fileno()).st_size
        return read_image_tar(
            FileStream(handle), str(path), deep=deep, progress=progress, cancel=cancel,
            total=total, position=handle.tell,
        )


def read_oci_dir(
    root: Path,
    *,
    deep: bool = False,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> ImageData:
    """Read an OCI image layout directory (as `skopeo copy ... oci:DIR` writes it)."""
    name = str(root)

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

    if not (root / "index.json").is_file():
        raise LayerError(f"{name} is not an OCI image layout (no index.json)")
    config, keys = _oci_index(get_json, name)
    interner = MetaInterner()
    parsed: dict[str, LayerContent] = {}
    layers = []
    for number, key in enumerate(keys, start=1):
        if cancel is not None:
            cancel.check()
        progress(Progress("layers", number - 1, len(keys), key))
        if key not in parsed:
            try:
                handle = (root / key).open("rb")
            except FileNotFoundError:
                raise LayerError(f"layer {number} of {name} ({key}) is missing") from None
            except OSError as exc:
                raise LayerError(f"cannot read layer {number} of {name}: {exc.strerror}") from None
            with handle:
                parsed[key] = read_layer(
                    FileStream(handle), key, f"layer {number} of {name}", interner, deep=deep, cancel=cancel
                )
        layers.append(parsed[key])
    progress(Progress("layers", len(keys), len(keys), "done"))
    return ImageData(name, "oci-dir", config, layers)
