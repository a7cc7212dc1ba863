"""Build image archives by hand (no engine): layer tars, `docker save` classic layout, OCI in a tar,
OCI layout directories; plain, gzip or zstd layers; nested indexes; manifest first or last."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import zstandard


@dataclass(frozen=True)
class E:
    """One layer entry: kind f (file), d (dir), h (hard link), l (symlink)."""

    name: str
    kind: str = "f"
    data: bytes = b""
    mode: int = 0o644
    uid: int = 0
    gid: int = 0
    link: str = ""


def file(name: str, size: int, mode: int = 0o644, uid: int = 0, fill: bytes = b"x") -> E:
    return E(name, "f", (fill * size)[:size], mode, uid)


def layer_tar(entries: list[E]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for e in entries:
            info = tarfile.TarInfo(e.name)
            info.mode, info.uid, info.gid = e.mode, e.uid, e.gid
            if e.kind == "d":
                info.type = tarfile.DIRTYPE
                info.mode = e.mode if e.mode != 0o644 else 0o755
                tar.addfile(info)
            elif e.kind == "h":
                info.type, info.linkname = tarfile.LNKTYPE, e.link
                tar.addfile(info)
            elif e.kind == "l":
                info.type, info.linkname = tarfile.SYMTYPE, e.link
                tar.addfile(info)
            else:
                info.size = len(e.data)
                tar.addfile(info, io.BytesIO(e.data))
    return buffer.getvalue()


def compress(data: bytes, how: str) -> bytes:
    if how == "gzip":
        return gzip.compress(data, mtime=0)
    if how == "zstd":
        return zstandard.ZstdCompressor().compress(data)
    return data


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def config_for(layers: list[bytes], history: list[str] | None = None, empty: tuple[int, ...] = ()) -> bytes:
    """Image config; `history` gives created_by per layer; `empty` inserts empty_layer steps before i."""
    steps = []
    for index, _layer in enumerate(layers):
        if index in empty:
            steps.append({"created_by": "/bin/sh -c #(nop)  ENV A=1", "empty_layer": True})
        steps.append({"created_by": history[index] if history else f"/bin/sh -c step {index}"})
    return json.dumps({
        "architecture": "amd64", "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": [f"sha256:{_sha(t)}" for t in layers]},
        "history": steps,
    }).encode()


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def docker_archive(path: Path, layers: list[bytes], history: list[str] | None = None,
                   empty: tuple[int, ...] = ()) -> Path:
    """Classic `docker save` layout: layer dirs sorted by id, config, then manifest.json last."""
    config = config_for(layers, history, empty)
    config_name = _sha(config) + ".json"
    ids = [_sha(f"{i}:{_sha(t)}".encode()) for i, t in enumerate(layers)]
    with tarfile.open(path, "w") as tar:
        for layer_id, data in sorted(zip(ids, layers, strict=True)):
            _add(tar, f"{layer_id}/VERSION", b"1.0")
            _add(tar, f"{layer_id}/layer.tar", data)
        _add(tar, config_name, config)
        layer_paths = [f"{i}/layer.tar" for i in ids]
        manifest = [{"Config": config_name, "RepoTags": ["hand:made"], "Layers": layer_paths}]
        _add(tar, "manifest.json", json.dumps(manifest).encode())
    return path


def _manifest(put: Callable[[bytes], str], config: bytes, bodies: list[bytes], media: str = "tar"
              ) -> tuple[bytes, list[dict[str, Any]]]:
    """An OCI image manifest over `config` and the layer `bodies` (each stored with `put`), and its layer
    descriptors."""
    kind = f"application/vnd.oci.image.layer.v1.{media}"
    layers = [{"mediaType": kind, "digest": put(body), "size": len(body)} for body in bodies]
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": put(config),
                   "size": len(config)},
        "layers": layers,
    }).encode()
    return manifest, layers


def _oci_blobs(layers: list[bytes], how: str, history: list[str] | None, nested: bool
               ) -> tuple[dict[str, bytes], bytes]:
    """Blobs by 'blobs/sha256/HEX' and the top index.json."""
    blobs: dict[str, bytes] = {}

    def put(data: bytes) -> str:
        digest = _sha(data)
        blobs[f"blobs/sha256/{digest}"] = data
        return f"sha256:{digest}"

    media = {"none": "tar", "gzip": "tar+gzip", "zstd": "tar+zstd"}[how]
    bodies = [compress(layer, how) for layer in layers]
    manifest, _layers = _manifest(put, config_for(layers, history), bodies, media)
    manifest_desc = {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": put(manifest),
                     "size": len(manifest), "platform": {"os": "linux", "architecture": "amd64"}}
    other = {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": put(b'{"layers": []}'),
             "size": 14, "platform": {"os": "linux", "architecture": "arm64"}}
    top = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
           "manifests": [other, manifest_desc]}
    if nested:
        inner = json.dumps(top).encode()
        top = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
               "manifests": [{"mediaType": "application/vnd.oci.image.index.v1+json",
                              "digest": put(inner), "size": len(inner)}]}
    return blobs, json.dumps(top).encode()


def oci_archive(path: Path, layers: list[bytes], how: str = "none", history: list[str] | None = None,
                nested: bool = False, index_last: bool = True, drop: str | None = None) -> Path:
    """Docker 25+ style OCI layout inside a tar; `drop` leaves out blobs whose data starts with it."""
    blobs, index = _oci_blobs(layers, how, history, nested)
    with tarfile.open(path, "w") as tar:
        if not index_last:
            _add(tar, "index.json", index)
        _add(tar, "oci-layout", b'{"imageLayoutVersion": "1.0.0"}')
        for name, data in sorted(blobs.items()):
            if drop is not None and data.startswith(drop.encode()):
                continue
            _add(tar, name, data)
        if index_last:
            _add(tar, "index.json", index)
    return path


def oci_dir(root: Path, layers: list[bytes], how: str = "none", history: list[str] | None = None,
            nested: bool = False) -> Path:
    blobs, index = _oci_blobs(layers, how, history, nested)
    for name, data in blobs.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    (root / "index.json").write_bytes(index)
    (root / "oci-layout").write_bytes(b'{"imageLayoutVersion": "1.0.0"}')
    return root


@dataclass(frozen=True)
class Img:
    """One image of a multi-image archive: its names (full references), layers and history."""

    names: tuple[str, ...]
    layers: tuple[bytes, ...]
    history: tuple[str, ...] | None = None


def multi_docker_archive(path: Path, images: list[Img]) -> Path:
    """`docker save a:1 b:2`: one manifest.json entry per image; layer dirs shared by content."""
    entries, members = [], {}
    for image in images:
        config = config_for(list(image.layers), list(image.history) if image.history else None)
        config_name = _sha(config) + ".json"
        members[config_name] = config
        layer_paths = []
        for data in image.layers:
            layer_id = _sha(b"layer:" + data)
            members[f"{layer_id}/VERSION"] = b"1.0"
            members[f"{layer_id}/layer.tar"] = data
            layer_paths.append(f"{layer_id}/layer.tar")
        entries.append({"Config": config_name, "RepoTags": list(image.names) or None, "Layers": layer_paths})
    with tarfile.open(path, "w") as tar:
        for name, data in sorted(members.items()):
            _add(tar, name, data)
        _add(tar, "manifest.json", json.dumps(entries).encode())
    return path


def _multi_oci_blobs(images: list[Img], docker_names: bool
                     ) -> tuple[dict[str, bytes], bytes, list[dict[str, Any]]]:
    """Blobs, index.json and Docker 25's manifest.json entries for several images. Each name gets its own
    index descriptor as Docker writes them: the full name, and the tag alone, as annotations; with
    `docker_names` False a name is written only as `org.opencontainers.image.ref.name` (as skopeo does)."""
    blobs: dict[str, bytes] = {}

    def put(data: bytes) -> str:
        blobs[f"blobs/sha256/{_sha(data)}"] = data
        return f"sha256:{_sha(data)}"

    descriptors: list[dict[str, Any]] = []
    entries: list[dict[str, Any]] = []
    for image in images:
        config = config_for(list(image.layers), list(image.history) if image.history else None)
        manifest, layer_descs = _manifest(put, config, list(image.layers))
        digest = put(manifest)
        entries.append({"Config": f"blobs/sha256/{_sha(config)}", "RepoTags": list(image.names),
                        "Layers": [f"blobs/sha256/{d['digest'].partition(':')[2]}" for d in layer_descs]})
        for name in image.names or ("",):
            ref_name = name.rsplit(":", 1)[-1] if docker_names else name
            annotations = {"org.opencontainers.image.ref.name": ref_name}
            if docker_names:
                annotations["io.containerd.image.name"] = name
            descriptors.append({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": digest,
                                "size": len(manifest), **({"annotations": annotations} if name else {})})
    index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
             "manifests": descriptors}
    return blobs, json.dumps(index).encode(), entries


def multi_oci_archive(path: Path, images: list[Img], docker_manifest: bool = True) -> Path:
    """Docker 25+ `docker save a:1 b:2`: an OCI layout in a tar, with manifest.json beside index.json."""
    blobs, index, entries = _multi_oci_blobs(images, docker_names=True)
    with tarfile.open(path, "w") as tar:
        _add(tar, "oci-layout", b'{"imageLayoutVersion": "1.0.0"}')
        for name, data in sorted(blobs.items()):
            _add(tar, name, data)
        _add(tar, "index.json", index)
        if docker_manifest:
            _add(tar, "manifest.json", json.dumps(entries).encode())
    return path


def multi_oci_dir(root: Path, images: list[Img]) -> Path:
    """An OCI layout directory holding several tagged images (as repeated `skopeo copy ... oci:DIR:TAG`)."""
    blobs, index, _entries = _multi_oci_blobs(images, docker_names=False)
    for name, data in blobs.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    (root / "index.json").write_bytes(index)
    (root / "oci-layout").write_bytes(b'{"imageLayoutVersion": "1.0.0"}')
    return root
