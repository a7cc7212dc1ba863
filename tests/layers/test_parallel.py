"""Layers read by several processes give the same report as one process; errors and cancellation
cross the process boundary; whole directories copied up are accounted in bulk exactly as one by one."""

from __future__ import annotations

import multiprocessing
import threading
from pathlib import Path
from typing import Any

import pytest

from core.layers import LayerError, LayerReport, WasteCause, WasteEvent, analyse_image
from core.layers.parallel import PARALLEL_MIN_BYTES, LayerJob, worker_count
from core.progress import Cancelled, CancelToken, Progress
from tests.layers.archives import E, compress, docker_archive, file, layer_tar, oci_archive, oci_dir


def _layers() -> list[bytes]:
    base = layer_tar([E("app", "d")] + [file(f"app/f{n}", 100 + n) for n in range(50)] + [file("big", 5000)])
    chmod = layer_tar([file(f"app/f{n}", 100 + n, 0o600) for n in range(50)])  # a whole run copied up
    mixed = layer_tar([E(".wh.big"), file("app/f1", 7), file("app/new", 9, uid=5),
                       E("app/link", "h", link="app/f2")])
    return [base, chmod, mixed]


def _figures(report: LayerReport) -> tuple[Any, ...]:
    return (report.layers, list(report.events), report.content_bytes, report.visible_bytes,
            report.hints, [report.layer_files(n) for n in range(len(report.layers))])


@pytest.mark.parametrize("layout", ["docker", "oci-archive", "oci-dir-gzip"])
def test_parallel_read_matches_serial(tmp_path: Path, layout: str) -> None:
    if layout == "docker":
        target = docker_archive(tmp_path / "img.tar", _layers())
    elif layout == "oci-archive":
        target = oci_archive(tmp_path / "img.tar", _layers())
    else:
        target = oci_dir(tmp_path / "oci", _layers(), how="gzip")
    serial = analyse_image(str(target), workers=1)
    parallel = analyse_image(str(target), workers=2)
    assert _figures(parallel) == _figures(serial)
    assert serial.wasted_bytes == 5000 + sum(100 + n for n in range(50)) + 101  # big, the copy-up, f1
    assert not multiprocessing.active_children()


def test_a_whole_directory_copied_up_is_one_event_per_file(tmp_path: Path) -> None:
    report = analyse_image(str(docker_archive(tmp_path / "img.tar", _layers())), workers=2)
    chmod = [e for e in report.events if e.hidden_by == 1]
    assert len(chmod) == 50 and {e.cause for e in chmod} == {WasteCause.COPY_UP_CHMOD}
    assert report.events[0] == WasteEvent("/app/f0", 100, 0, 1, WasteCause.COPY_UP_CHMOD)
    assert report.events[-1] == list(report.events)[-1]
    assert report.events[1:3] == list(report.events)[1:3]
    assert report.biggest_events(2) == sorted(report.events, key=lambda e: (-e.bytes, e.path))[:2]
    assert report.layers[1].obsolete_later_bytes == 101  # f1 written by the chmod layer, replaced later
    assert report.layers[1].hid_bytes == sum(100 + n for n in range(50))
    assert report.user_wasted_bytes == report.wasted_bytes  # all hidden by layers after the base


def test_errors_from_worker_processes_name_the_layer(tmp_path: Path) -> None:
    layers = _layers()
    layers[1] = b"PK\x03\x04 a zip, not a tar" * 40
    archive = docker_archive(tmp_path / "img.tar", layers)
    with pytest.raises(LayerError, match=r"layer 2 of .*img\.tar.* is not a tar archive"):
        analyse_image(str(archive), workers=2)
    truncated = tmp_path / "cut.tar"
    truncated.write_bytes(compress(layer_tar([file("x", 10)]), "gzip")[:-20])
    with pytest.raises(LayerError, match="layer 1 of"):
        analyse_image(str(oci_dir(tmp_path / "oci", [truncated.read_bytes(), layers[0]], how="none")),
                      workers=2)
    assert not multiprocessing.active_children()


def test_cancelled_while_reading_stops_the_workers(tmp_path: Path) -> None:
    archive = docker_archive(tmp_path / "img.tar", _layers())
    token = CancelToken()
    seen: list[Progress] = []

    def progress(p: Progress) -> None:
        seen.append(p)
        if p.stage == "layers":
            token.cancel()

    with pytest.raises(Cancelled):
        analyse_image(str(archive), workers=2, progress=progress, cancel=token)
    assert seen and not multiprocessing.active_children()


def test_parallel_read_from_a_threaded_process(tmp_path: Path) -> None:
    """With other threads running (the app's UI), workers come from a fork server, not a fork."""
    archive = docker_archive(tmp_path / "img.tar", _layers())
    results: list[LayerReport] = []
    started = threading.Event()
    stop = threading.Event()

    def busy() -> None:
        started.set()
        stop.wait(30)

    other = threading.Thread(target=busy)
    other.start()
    started.wait()
    try:
        worker = threading.Thread(target=lambda: results.append(analyse_image(str(archive), workers=2)))
        worker.start()
        worker.join(60)
    finally:
        stop.set()
        other.join()
    assert results and _figures(results[0]) == _figures(analyse_image(str(archive), workers=1))


def test_small_images_are_read_in_process() -> None:
    small = [LayerJob("f", 0, 1 << 20, "a", "a"), LayerJob("f", 1 << 20, 1 << 20, "b", "b")]
    big = [LayerJob("f", 0, PARALLEL_MIN_BYTES, "a", "a"), LayerJob("f", PARALLEL_MIN_BYTES, 1, "b", "b")]
    assert worker_count(small, None) == 1
    assert worker_count(big, None) == min(2, multiprocessing.cpu_count())
    assert worker_count(small, 8) == 2  # never more processes than layers with bytes


CAPTURED_STDERR = """
import sys, threading
sys.path.insert(0, {root!r})
from core.layers import analyse_image

class Capture:  # what a full-screen UI puts in place of stderr (Textual's fileno() is -1)
    def write(self, text): return len(text)
    def flush(self): pass
    def fileno(self): return -1

sys.stderr = Capture()
done = []
worker = threading.Thread(target=lambda: done.append(analyse_image({target!r}, workers=2)))
worker.start()
worker.join(60)
print(done[0].wasted_bytes if done else "failed")
"""


def test_parallel_read_under_a_ui_that_captures_stderr(tmp_path: Path) -> None:
    """A fresh process (so no helper process is running yet) whose stderr has no descriptor."""
    import subprocess
    import sys

    archive = docker_archive(tmp_path / "img.tar", _layers())
    root = str(Path(__file__).resolve().parents[2])
    code = CAPTURED_STDERR.format(root=root, target=str(archive))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    expected = analyse_image(str(archive), workers=1).wasted_bytes
    assert out.stdout.strip() == str(expected), out.stdout + out.stderr
