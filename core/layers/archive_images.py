"""The images one archive or OCI layout holds, and which of them the user asked for.

Contract: `docker save a:1 b:2` writes one `manifest.json` entry per image (tags in `RepoTags`, the
image id is the config digest); an OCI index lists one descriptor per image and tag (names in the
`io.containerd.image.name` and `org.opencontainers.image.ref.name` annotations, a platform per entry of
a multi-platform image). Descriptors of one manifest, or sharing a name, or unnamed platform variants
are one image. `choose` picks by name (`b` means `b:latest`, `docker.io/library/` is implied) or else by
an id or digest prefix (at least four hex digits); without a choice it takes the first image and says
which others there are. A choice that matches nothing, or several images, is a `LayerError` naming them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from core.layers.errors import LayerError

_NAME_KEYS = ("io.containerd.image.name", "org.opencontainers.image.ref.name")
_ATTESTATION = "vnd.docker.reference.type"
_HEX = re.compile(r"[0-9a-f]{4,64}")
_LISTED = 8  # names spelled out in a note before "and N more"


@dataclass(frozen=True, slots=True)
class ArchiveImage:
    """One image in an archive: its names as written, digests that identify it, its layer count if known."""

    names: tuple[str, ...]
    ids: tuple[str, ...]
    layers: int | None = None

    @property
    def label(self) -> str:
        if self.names:
            return self.names[0]
        return _short(self.ids[0]) if self.ids else "(unnamed image)"


def _short(digest: str) -> str:
    algorithm, _, hexdigest = digest.partition(":")
    return f"{algorithm}:{hexdigest[:12]}" if hexdigest else digest[:12]


def normalise_ref(ref: str) -> str:
    """'b' -> 'b:latest'; 'docker.io/library/b:2' -> 'b:2'; digests ('@sha256:...') are kept."""
    ref = ref.strip()
    for prefix in ("docker.io/", "index.docker.io/"):
        if ref.startswith(prefix):
            ref = ref[len(prefix):]
            break
    if ref.startswith("library/") and ref.count("/") == 1:
        ref = ref[len("library/"):]
    if "@" not in ref and ":" not in ref.rsplit("/", 1)[-1]:
        ref += ":latest"
    return ref


def config_id(config_path: str) -> str | None:
    """The image id from a manifest.json `Config`: 'abc.json' or 'blobs/sha256/abc' -> 'sha256:abc'."""
    base = config_path.rsplit("/", 1)[-1].removesuffix(".json")
    if not re.fullmatch(r"[0-9a-f]{32,128}", base):
        return None
    algorithm = config_path.rsplit("/", 2)[-2] if config_path.count("/") >= 2 else "sha256"
    return f"{algorithm}:{base}"


def docker_images(manifest: list[Any], index: Any = None) -> list[tuple[ArchiveImage, dict[str, Any]]]:
    """The images of a `manifest.json` list with their entries; a Docker 25+ `index.json` beside it adds
    each image's manifest digest (the image id under the containerd image store)."""
    digests: dict[str, list[str]] = {}
    for descriptor in _descriptors(index):
        for name in _names(descriptor):
            digests.setdefault(normalise_ref(name), []).append(str(descriptor["digest"]))
    found = []
    for item in manifest:
        if not isinstance(item, dict):
            continue
        tags = item.get("RepoTags")
        names = tuple(str(t) for t in tags) if isinstance(tags, list) else ()
        ids = [i for i in [config_id(str(item.get("Config", "")))] if i]
        for name in names:
            ids += [d for d in digests.get(normalise_ref(name), []) if d not in ids]
        layers = item.get("Layers")
        count = len(layers) if isinstance(layers, list) else None
        found.append((ArchiveImage(names, tuple(ids), count), item))
    return found


def _descriptors(index: Any) -> list[dict[str, Any]]:
    """An index's image descriptors, without attestation manifests."""
    manifests = index.get("manifests") if isinstance(index, dict) else None
    if not isinstance(manifests, list):
        return []
    return [d for d in manifests if isinstance(d, dict) and isinstance(d.get("digest"), str)
            and _ATTESTATION not in _annotations(d)]


def _annotations(descriptor: dict[str, Any]) -> dict[str, Any]:
    value = descriptor.get("annotations")
    return value if isinstance(value, dict) else {}


def _names(descriptor: dict[str, Any]) -> list[str]:
    annotations = _annotations(descriptor)
    return [str(annotations[k]) for k in _NAME_KEYS if isinstance(annotations.get(k), str) and annotations[k]]


def oci_images(
    index: Any, config_digest: Callable[[dict[str, Any]], str | None]
) -> list[tuple[ArchiveImage, list[dict[str, Any]]]]:
    """The images of a top-level OCI index, each with its descriptors (one per platform)."""
    groups: list[tuple[list[str], list[str], list[dict[str, Any]]]] = []
    for descriptor in _descriptors(index):
        names, digest = _names(descriptor), descriptor["digest"]
        platformed = isinstance(descriptor.get("platform"), dict)
        for group_names, group_ids, members in groups:
            same = digest in group_ids or bool(set(names) & set(group_names))
            variants = not names and not group_names and platformed and all(
                isinstance(m.get("platform"), dict) for m in members)
            if same or variants:
                group_names += [n for n in names if n not in group_names]
                group_ids += [] if digest in group_ids else [digest]
                members.append(descriptor)
                break
        else:
            groups.append((names, [digest], [descriptor]))
    found = []
    for names, ids, members in groups:
        configs = [c for m in members if (c := config_digest(m)) and c not in ids]
        found.append((ArchiveImage(tuple(names), tuple(ids + configs)), members))
    return found


def _matches_name(image: ArchiveImage, wanted: str) -> bool:
    want = normalise_ref(wanted)
    return any(name == wanted or normalise_ref(name) == want for name in image.names)


def _matches_id(image: ArchiveImage, wanted: str) -> bool:
    prefix = wanted.lower().removeprefix("sha256:")
    if not _HEX.fullmatch(prefix):
        return False
    return any(i.partition(":")[2].startswith(prefix) for i in image.ids)


def describe(images: list[ArchiveImage]) -> str:
    """'a:1, b:2 and 3 more', for messages."""
    labels = [image.label for image in images]
    if len(labels) <= _LISTED:
        return ", ".join(labels)
    return f"{', '.join(labels[:_LISTED])} and {len(labels) - _LISTED} more"


def choose(images: list[ArchiveImage], wanted: str | None, where: str) -> tuple[int, list[str]]:
    """The index of the image to analyse and notes for the report; `LayerError` for a bad choice."""
    count = len(images)
    if wanted is None or not wanted.strip():
        if count <= 1:
            return 0, []
        return 0, [f"{where} holds {count} images; analysed {images[0].label}; the others are "
                   f"{describe(images[1:])} (pick one by name or an id prefix)"]
    wanted = wanted.strip()
    hits = [i for i, image in enumerate(images) if _matches_name(image, wanted)]
    if not hits:
        hits = [i for i, image in enumerate(images) if _matches_id(image, wanted)]
    if not hits:
        raise LayerError(f"{where} holds no image {wanted!r}; it holds {describe(images)}")
    if len(hits) > 1:
        raise LayerError(f"{wanted!r} matches {len(hits)} images in {where}: "
                         f"{describe([images[i] for i in hits])}; give a longer id or a full name")
    notes = [f"analysed {images[hits[0]].label}, one of the {count} images in {where}"] if count > 1 else []
    return hits[0], notes
