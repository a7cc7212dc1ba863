"""The local Docker engine as an image source, through the docker SDK.

Contract: `inspect_engine_image` answers first with what the engine knows without reading content (the
layer list, sizes and history), so a front end can show the layers at once; `read_engine_image` then
streams `docker save` of that image chunk by chunk (never the whole body in memory) through the same
one-pass archive reader as a file. A missing engine or an unknown image raises `LayerError` with a
message that says archives still work.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from core.layers.errors import LayerError
from core.layers.sources import ImageData, read_image_tar
from core.layers.streams import CHUNK, ChunkStream, prefetch
from core.progress import CancelToken, ProgressCallback, no_progress

SAVE_TIMEOUT = 3600


@dataclass(frozen=True, slots=True)
class EnginePreview:
    """What the engine tells before any content is read."""

    image_id: str
    tags: tuple[str, ...]
    diff_ids: tuple[str, ...]
    size: int
    history: tuple[tuple[str, int], ...]  # (created_by, size), oldest first


def engine_client(timeout: int = SAVE_TIMEOUT) -> Any:
    """A low-level docker API client, or LayerError when no engine answers."""
    try:
        import docker
        from docker.errors import DockerException
    except ImportError:  # pragma: no cover - docker is a dependency
        raise LayerError("the docker package is not installed; analyse a saved archive instead") from None
    try:
        client = docker.from_env(timeout=timeout)
        client.ping()
    except DockerException as exc:
        raise LayerError(
            f"cannot reach the Docker engine ({_short(exc)}); start it, or analyse an archive made with "
            "`docker save IMAGE -o image.tar`"
        ) from None
    return client.api


def engine_available() -> bool:
    try:
        engine_client(timeout=5)
    except LayerError:
        return False
    return True


def _short(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:160]


def list_engine_images(api: Any) -> list[tuple[str, str, int]]:
    """(first tag or id, image id, size) for every local image, newest first."""
    from docker.errors import DockerException

    try:
        images = api.images()
    except DockerException as exc:
        raise LayerError(f"cannot list images: {_short(exc)}") from None
    rows = []
    for image in sorted(images, key=lambda i: -int(i.get("Created", 0))):
        tags = [t for t in image.get("RepoTags") or [] if t != "<none>:<none>"]
        rows.append((tags[0] if tags else image["Id"][7:19], image["Id"], int(image.get("Size", 0))))
    return rows


def inspect_engine_image(api: Any, name: str) -> EnginePreview:
    from docker.errors import DockerException, ImageNotFound, NotFound

    try:
        info = api.inspect_image(name)
        history = api.history(name)
    except (ImageNotFound, NotFound):
        raise LayerError(f"image {name!r} is not in the local Docker engine (nothing is pulled)") from None
    except DockerException as exc:
        raise LayerError(f"cannot inspect image {name!r}: {_short(exc)}") from None
    rootfs = info.get("RootFS") or {}
    return EnginePreview(
        image_id=info.get("Id", ""),
        tags=tuple(info.get("RepoTags") or ()),
        diff_ids=tuple(rootfs.get("Layers") or ()),
        size=int(info.get("Size") or 0),
        history=tuple((str(h.get("CreatedBy", "")), int(h.get("Size", 0))) for h in reversed(history)),
    )


def read_engine_image(
    api: Any,
    name: str,
    preview: EnginePreview,
    *,
    deep: bool = False,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> ImageData:
    """Stream `docker save` of the image and read it in one pass."""
    import requests
    from docker.errors import DockerException

    received = [0]

    def count(n: int) -> None:
        received[0] += n

    try:
        chunks: Iterator[bytes] = api.get_image(preview.image_id or name, chunk_size=CHUNK)
        data = read_image_tar(
            ChunkStream(prefetch(chunks), count), name, deep=deep, progress=progress, cancel=cancel,
            total=preview.size, position=lambda: received[0],
        )
    except (DockerException, requests.RequestException) as exc:
        raise LayerError(f"reading image {name!r} from the engine failed: {_short(exc)}") from None
    data.layout = "engine"
    return data
