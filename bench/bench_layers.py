"""Benchmark layer analysis against its physical floors.

Builds (once; cached by tag) an image of about `--size` MB holding about 60,000 files per 750 MB: a big
file deleted in a later layer, tens of thousands of small files, the same files chmod-ed (a copy-up
of every one) and a large payload. Content comes from busybox in the build, so nothing is pulled.
Then it times, best of `--repeat` warm runs, wall and CPU side by side, since the machine may be shared
(the load average is printed with every figure). CPU counts this process and the worker processes it
waited for (the analysis reads the layers of an archive on every core; the floor uses one):

- from a `docker save` archive on disk: our analysis vs the floor of reading every tar header once
  (outer and inner tars, every header decoded by the same lean reader the analysis uses, data skipped:
  the least any analysis must do), with the stdlib `tarfile` walk and a raw read of every byte shown
  for context;
- from the engine: our streaming analysis vs `docker save IMAGE > /dev/null`;
- peak memory (tracemalloc peak of a fresh process) per million tar entries.

Run: `python bench/bench_layers.py` (needs a Docker engine: scripts/start-dockerd.sh), or
`--size 100` for a quick run. Targets: ≤ 1.2× both floors, < 300 MB per million entries.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.layers.content import normalise  # noqa: E402
from core.layers.streams import FileStream, PrefixedStream, compression_of, decompressed  # noqa: E402
from core.layers.tarstream import REGULAR, TarReader  # noqa: E402

BASE = "dtui-bench-base:1"


def sh(*args: str, stdin: bytes | None = None, env: dict[str, str] | None = None) -> None:
    subprocess.run(args, input=stdin, check=True, env={**os.environ, **(env or {})},
                   stdout=subprocess.DEVNULL)


def have_image(tag: str) -> bool:
    return subprocess.run(["docker", "image", "inspect", tag], capture_output=True).returncode == 0


def ensure_base() -> None:
    if have_image(BASE):
        return
    busybox = shutil.which("busybox") or "/bin/busybox"
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "rootfs"
        for sub in ("bin", "etc", "tmp"):
            (root / sub).mkdir(parents=True)
        shutil.copy2(busybox, root / "bin" / "busybox")
        for applet in subprocess.run([busybox, "--list"], capture_output=True, text=True).stdout.split():
            if applet != "busybox":
                (root / "bin" / applet).symlink_to("busybox")
        data = subprocess.run(["tar", "-C", str(root), "-c", "."], capture_output=True, check=True).stdout
    sh("docker", "import", "-", BASE, stdin=data)


def build_image(size_mb: int) -> str:
    """The benchmark image for `size_mb`; built once, reused while the tag exists."""
    tag = f"dtui-bench-layers:{size_mb}"
    if have_image(tag):
        return tag
    ensure_base()
    scale = size_mb / 750
    files = max(1000, round(60000 * scale))  # 2,001 bytes each (ash's builtin printf: no fork per file)
    big = max(1, round(250 * scale))
    payload = max(1, round(260 * scale))
    dockerfile = f"""FROM {BASE}
RUN dd if=/dev/urandom of=/big.bin bs=1M count={big} 2>/dev/null
RUN rm /big.bin
RUN mkdir /many && cd /many && i=0 && while [ $i -lt {files} ]; do \\
    if [ $((i % 1000)) -eq 0 ]; then d=d$((i / 1000)); mkdir $d || exit 1; fi; \\
    printf '%2000d\\n' $i > $d/f$i || exit 1; i=$((i+1)); done
RUN chmod -R 600 /many
RUN dd if=/dev/urandom of=/payload.bin bs=1M count={payload} 2>/dev/null
"""
    with tempfile.TemporaryDirectory() as context:
        (Path(context) / "Dockerfile").write_text(dockerfile)
        sh("docker", "build", "--network", "none", "-q", "-t", tag, context, env={"DOCKER_BUILDKIT": "0"})
    return tag


def _cpu() -> float:
    """CPU seconds of this process and of its children that have ended (the analysis' workers)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def best(repeat: int, run: Callable[[], object]) -> tuple[float, float]:
    """(wall, CPU) seconds of the fastest of `repeat` runs (CPU: see `_cpu`)."""
    runs = []
    for _ in range(repeat):
        start, cpu = time.perf_counter(), _cpu()
        run()
        runs.append((time.perf_counter() - start, _cpu() - cpu))
    return min(runs)


def load() -> str:
    return "load {:.1f} {:.1f} {:.1f}".format(*os.getloadavg())


def show(label: str, timing: tuple[float, float], extra: str = "") -> None:
    print(f"  {label:28}{timing[0]:7.3f} s wall {timing[1]:7.3f} s CPU  {extra}")


def header_floor(archive: Path) -> int:
    """Decode every tar header once (outer and each layer) with the analysis' own lean reader
    (`next_header`: name, kind, size, mode/uid/gid, link), skipping data; count entries."""
    count = 0
    with archive.open("rb", buffering=1 << 20) as handle:  # as core.layers.sources opens archives
        outer = TarReader(FileStream(handle), "archive")
        while (entry := outer.next()) is not None:
            name = normalise(entry.name)
            if entry.kind == REGULAR and (name.endswith("/layer.tar") or name.startswith("blobs/")):
                head = outer.read(min(entry.size, 512))
                if head[:1] == b"{":
                    continue

                class Member:
                    def read(self, n: int) -> bytes:
                        return outer.read(n)

                    def skip(self, n: int) -> None:
                        outer.skip(n)

                inner = TarReader(decompressed(PrefixedStream(head, Member()), compression_of(head)), name)
                while inner.next_header() is not None:
                    count += 1
    return count


def tarfile_floor(archive: Path) -> int:
    """The same walk with the standard library's tarfile (random access), for context."""
    count = 0
    with tarfile.open(archive) as outer:
        for member in outer:
            if member.isfile() and (member.name.endswith("/layer.tar") or member.name.startswith("blobs/")):
                handle = outer.extractfile(member)
                assert handle is not None
                try:
                    with tarfile.open(fileobj=handle) as inner:
                        count += sum(1 for _ in inner)
                except tarfile.ReadError:
                    pass
    return count


def raw_read(archive: Path) -> int:
    total = 0
    with archive.open("rb", buffering=0) as handle:
        while chunk := handle.read(1 << 20):
            total += len(chunk)
    return total


def docker_save_to_null(tag: str) -> None:
    subprocess.run(["docker", "save", tag], stdout=subprocess.DEVNULL, check=True)


MEMORY_CHILD = """
import json, sys, tracemalloc
sys.path.insert(0, {root!r})
from core.layers.analysis import analyse_image
tracemalloc.start()
report = analyse_image({target!r}, workers=1)
current, peak = tracemalloc.get_traced_memory()
entries = sum(layer.entries for layer in report.layers)
print(json.dumps({{"peak": peak, "retained": current, "entries": entries}}))
"""


def measure_memory(target: str) -> dict[str, float]:
    """Peak Python allocations of a fresh process (tracemalloc) reading every layer itself: the main
    process ends up holding the same layers either way, and a worker holds one layer at a time. Not
    ru_maxrss: Linux carries the parent's high-water mark across fork and exec, which hides a child's
    own growth."""
    code = MEMORY_CHILD.format(root=str(ROOT), target=target)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    data = json.loads(out.strip().splitlines()[-1])
    peak_mb = data["peak"] / 1e6
    return {"entries": data["entries"], "grown_mb": peak_mb, "retained_mb": data["retained"] / 1e6,
            "mb_per_million": peak_mb / data["entries"] * 1e6 if data["entries"] else 0.0}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=750, help="image size in MB (default 750)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per measurement; best is kept")
    parser.add_argument("--keep", action="store_true", help="keep the saved archive in /tmp")
    args = parser.parse_args()
    from core.layers.analysis import analyse_image
    from core.layers.engine import engine_available

    if not engine_available():
        print("no Docker engine: run scripts/start-dockerd.sh (as root) first", file=sys.stderr)
        return 2
    started = time.perf_counter()
    tag = build_image(args.size)
    print(f"image {tag} ready in {time.perf_counter() - started:.1f} s")
    workdir = Path(tempfile.mkdtemp(prefix="bench-layers-"))
    archive = workdir / "image.tar"
    subprocess.run(["docker", "save", "-o", str(archive), tag], check=True)
    size = archive.stat().st_size
    report = analyse_image(str(archive))
    entries = sum(layer.entries for layer in report.layers)
    print(f"archive {size / 1e6:.0f} MB, {len(report.layers)} layers, {entries} tar entries, "
          f"content {report.content_bytes / 1e6:.0f} MB, wasted {report.wasted_bytes / 1e6:.0f} MB, "
          f"efficiency {report.efficiency:.2%}, {len(report.events)} waste events")

    header_floor(archive)  # warm the page cache
    from core.layers.parallel import PARALLEL_MIN_BYTES
    workers = (os.cpu_count() or 1) if size >= PARALLEL_MIN_BYTES else 1
    print(f"\nfrom the saved archive (warm cache; {os.cpu_count()} CPUs, {load()}):")
    t_raw = best(args.repeat, lambda: raw_read(archive))
    show("raw read of every byte", t_raw, f"({size / t_raw[0] / 1e9:.2f} GB/s)")
    show("tarfile header walk", best(args.repeat, lambda: tarfile_floor(archive)))
    # Floor and analysis alternate, so both see the same machine load.
    floors, ours = [], []
    for _ in range(args.repeat):
        floors.append(best(1, lambda: header_floor(archive)))
        ours.append(best(1, lambda: analyse_image(str(archive))))
    t_floor, t_ours = min(floors), min(ours)
    show("floor: every header once", t_floor)
    show(f"ours: full analysis ({workers} proc)", t_ours,
         f"-> {t_ours[0] / t_floor[0]:.2f}x wall, {t_ours[1] / t_floor[1]:.2f}x CPU (target <= 1.2x)")
    t_one = min(best(1, lambda: analyse_image(str(archive), workers=1)) for _ in range(args.repeat))
    show("ours: one process", t_one, f"-> {t_one[0] / t_floor[0]:.2f}x wall")
    print(f"  ({load()})")

    print(f"\nfrom the engine ({load()}):")
    saves, streamed = [], []
    for _ in range(args.repeat):
        saves.append(best(1, lambda: docker_save_to_null(tag)))
        streamed.append(best(1, lambda: analyse_image(tag)))
    t_save, t_engine = min(saves), min(streamed)
    show("docker save > /dev/null", t_save, "(CPU: the docker client's is not ours)")
    show("ours: streamed analysis", t_engine, f"-> {t_engine[0] / t_save[0]:.2f}x wall (target <= 1.2x)")
    print(f"  ({load()})")

    memory = measure_memory(str(archive))
    print("\nmemory (fresh process, archive):")
    print(f"  peak {memory['grown_mb']:.1f} MB (report keeps {memory['retained_mb']:.1f} MB) for "
          f"{memory['entries']:.0f} entries -> "
          f"{memory['mb_per_million']:.0f} MB per million entries (target < 300)")
    if args.keep:
        print(f"\narchive kept at {archive}")
    else:
        shutil.rmtree(workdir)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
