"""Read layer blobs that sit at known places on disk, on every core.

Contract: `read_jobs(jobs)` returns one `LayerContent` per job, in job order, exactly as a serial read
would; it raises the first job's `LayerError` (in job order), or `Cancelled` when the token is
cancelled (the worker processes are killed at once). Layers are independent (see content.py), so a
saved archive or an OCI directory, whose blobs are byte ranges of seekable files, can be parsed by
several processes while the image order is kept by the caller. A stream from the engine cannot be
split and is read in one pass elsewhere.

Why processes: the work is pure-Python header decoding, so threads would share one interpreter lock.
A worker returns its layer pickled (about 10 ms for 60,000 entries). Workers are forked when this
process runs a single thread; with other threads running (the app's UI) a fork could copy a lock some
thread holds, so they come from a fork server started clean instead. Small images are read in-process:
starting workers costs more than it saves.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.pool import AsyncResult, Pool

from core.layers.content import LayerContent, MetaInterner, read_layer
from core.layers.errors import LayerError
from core.layers.streams import FileStream, SubStream
from core.progress import CancelToken, Progress, ProgressCallback, no_progress

#: Below this many bytes of layer blobs in all, one process reads them (measured: pool start ≈ 20 ms).
PARALLEL_MIN_BYTES = 48 << 20
_POLL = 0.05


@dataclass(frozen=True, slots=True)
class LayerJob:
    """Layer `key`: `size` bytes at `offset` of `file`; `what` names it in errors."""

    file: str
    offset: int
    size: int
    key: str
    what: str


def read_job(job: LayerJob, deep: bool = False, interner: MetaInterner | None = None,
             cancel: CancelToken | None = None) -> LayerContent:
    """One layer, read in this process."""
    try:
        handle = open(job.file, "rb", buffering=0)  # noqa: SIM115 - closed below; the reader buffers itself
    except OSError as exc:
        raise LayerError(f"cannot read {job.what}: {exc.strerror}") from None
    with handle:
        try:
            if job.offset:
                handle.seek(job.offset)
            stream = SubStream(FileStream(handle), job.size)
            return read_layer(stream, job.key, job.what, interner or MetaInterner(), deep=deep, cancel=cancel)
        except OSError as exc:
            raise LayerError(f"cannot read {job.what}: {exc.strerror}") from None


def _worker(job: LayerJob, deep: bool) -> LayerContent:
    return read_job(job, deep)


def _context() -> multiprocessing.context.BaseContext:
    if threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([__name__])
        return context
    return multiprocessing.get_context("spawn")


def worker_count(jobs: Sequence[LayerJob], workers: int | None) -> int:
    """How many processes read `jobs`: `workers` when given, else one per core for big images."""
    if workers is None:
        big = sum(job.size for job in jobs) >= PARALLEL_MIN_BYTES
        workers = (os.cpu_count() or 1) if big else 1
    return max(1, min(workers, sum(1 for job in jobs if job.size)))


def read_jobs(
    jobs: Sequence[LayerJob],
    *,
    deep: bool = False,
    workers: int | None = None,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> list[LayerContent]:
    """Every job's layer, in job order; see the module docstring."""
    # An image may list one blob twice: it is read once.
    first: dict[tuple[str, int, int], LayerJob] = {}
    for job in jobs:
        first.setdefault((job.file, job.offset, job.size), job)
    unique = list(first.values())
    count = worker_count(unique, workers)
    done: dict[LayerJob, LayerContent] = {}
    if count == 1:
        interner = MetaInterner()
        for number, job in enumerate(unique):
            progress(Progress("layers", number, len(unique), f"reading {job.what}"))
            done[job] = read_job(job, deep, interner, cancel)
    else:
        done = _read_in_pool(unique, deep, count, progress, cancel)
    progress(Progress("layers", len(unique), len(unique), "done"))
    by_place = {(job.file, job.offset, job.size): layer for job, layer in done.items()}
    return [by_place[(job.file, job.offset, job.size)] for job in jobs]


@contextmanager
def _stderr_with_a_descriptor() -> Iterator[None]:
    """Multiprocessing's helper processes inherit `sys.stderr.fileno()`; a UI that captures stderr
    (Textual's returns -1) would make their start fail, so they get /dev/null for that moment."""
    try:
        usable = sys.stderr is not None and sys.stderr.fileno() >= 0
    except (AttributeError, OSError, ValueError):
        usable = False
    if usable:
        yield
        return
    saved = sys.stderr
    with open(os.devnull, "w") as null:
        sys.stderr = null
        try:
            yield
        finally:
            sys.stderr = saved


def _read_in_pool(jobs: list[LayerJob], deep: bool, count: int, progress: ProgressCallback,
                  cancel: CancelToken | None) -> dict[LayerJob, LayerContent]:
    with _stderr_with_a_descriptor():
        pool: Pool = _context().Pool(count)
    try:
        # Largest first, so one big layer does not start last and leave the other cores idle.
        pending: dict[LayerJob, AsyncResult[LayerContent]] = {
            job: pool.apply_async(_worker, (job, deep))
            for job in sorted(jobs, key=lambda j: -j.size)
        }
        done: dict[LayerJob, LayerContent] = {}
        while pending:
            if cancel is not None:
                cancel.check()
            for job in [j for j in jobs if j in pending]:  # image order: the first error reported wins
                result = pending[job]
                if not result.ready():
                    result.wait(_POLL)
                    break
                del pending[job]
                done[job] = result.get()
                progress(Progress("layers", len(done), len(jobs), f"read {job.what}"))
        pool.close()
        return done
    finally:
        pool.terminate()
        pool.join()
