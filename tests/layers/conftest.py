"""A real Docker engine for layer tests: a busybox base image imported once per session and test images
built with the classic builder. Without an engine these tests skip, except under CI=true, where they
fail: CI must exercise the engine."""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.layers.engine import engine_available

BASE_IMAGE = "dtui-test-base:1"
BUSYBOX = Path("/bin/busybox") if Path("/bin/busybox").exists() else Path("/usr/bin/busybox")


def _need_engine() -> None:
    if engine_available():
        return
    reason = "no Docker engine (run scripts/start-dockerd.sh as root)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true but {reason}")
    pytest.skip(reason)


def docker(*args: str, stdin: bytes | None = None, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(["docker", *args], input=stdin, capture_output=True,
                            env={**os.environ, **(env or {})}, check=False)
    if result.returncode:
        raise AssertionError(f"docker {' '.join(args)} failed: {result.stderr.decode(errors='replace')}")
    return result.stdout.decode(errors="replace")


def busybox_rootfs_tar(root: Path) -> bytes:
    """A rootfs with busybox and its applet symlinks, as a tar."""
    for sub in ("bin", "etc", "tmp", "root"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    shutil.copy2(BUSYBOX, root / "bin" / "busybox")
    applets = subprocess.run([str(BUSYBOX), "--list"], capture_output=True, text=True, check=True).stdout
    for applet in applets.split():
        link = root / "bin" / applet
        if applet != "busybox" and not link.exists():
            link.symlink_to("busybox")
    (root / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
    out = root.parent / "rootfs.tar"
    with tarfile.open(out, "w") as tar:
        tar.add(root, arcname=".")
    return out.read_bytes()


@pytest.fixture(scope="session")
def engine_base(tmp_path_factory: pytest.TempPathFactory) -> str:
    _need_engine()
    if not BUSYBOX.exists():
        pytest.skip("busybox-static is not installed")
    existing = subprocess.run(["docker", "image", "inspect", BASE_IMAGE], capture_output=True, check=False)
    if existing.returncode:
        data = busybox_rootfs_tar(tmp_path_factory.mktemp("bb") / "rootfs")
        docker("import", "-", BASE_IMAGE, stdin=data)
    return BASE_IMAGE


def build(tag: str, dockerfile: str, context: Path, files: dict[str, bytes] | None = None) -> str:
    context.mkdir(parents=True, exist_ok=True)
    (context / "Dockerfile").write_text(dockerfile)
    for name, data in (files or {}).items():
        (context / name).write_bytes(data)
    docker("build", "--network", "none", "-q", "-t", tag, str(context), env={"DOCKER_BUILDKIT": "0"})
    return tag


WASTE_DOCKERFILE = f"""FROM {BASE_IMAGE}
RUN mkdir -p /data && dd if=/dev/zero of=/data/big bs=1000 count=50
RUN rm /data/big
RUN mkdir /cache && dd if=/dev/zero of=/cache/a bs=1000 count=20 && head -c 10000 /dev/zero >/cache/b
RUN rm -rf /cache && mkdir /cache
COPY app.bin /app/app.bin
RUN chmod 600 /app/app.bin
RUN echo one > /etc/conf
RUN echo second > /etc/conf
RUN mkdir -p /var/lib/apt/lists && dd if=/dev/zero of=/var/lib/apt/lists/deb_Packages bs=1000 count=7
"""

MULTISTAGE_DOCKERFILE = f"""FROM {BASE_IMAGE} AS builder
RUN dd if=/dev/zero of=/big bs=1000 count=100 && echo built > /out.txt
FROM {BASE_IMAGE}
COPY --from=builder /out.txt /out.txt
"""


@pytest.fixture(scope="session")
def waste_image(engine_base: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    context = tmp_path_factory.mktemp("waste")
    tag = build("dtui-test-waste:1", WASTE_DOCKERFILE, context, {"app.bin": b"\x01" * 40000})
    yield tag, context / "Dockerfile"


@pytest.fixture(scope="session")
def multistage_image(engine_base: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    return build("dtui-test-multi:1", MULTISTAGE_DOCKERFILE, tmp_path_factory.mktemp("multi"))
