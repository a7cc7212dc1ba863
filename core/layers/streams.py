"""Forward-only byte streams that layer analysis reads: files, HTTP chunk iterators, members of an outer
tar, and decompressors (gzip, zstd), each with `read(n)` and `skip(n)`.

Contract: `read(n)` returns exactly `n` bytes, or fewer only at the end of the stream; `skip(n)` moves
forward `n` bytes and seeks instead of reading when the underlying file allows it, so an uncompressed
archive on disk is analysed by reading its headers only. A stream that ends early raises `LayerError`
from the tar reader, never returns made-up bytes.
"""

from __future__ import annotations

import io
import queue
import threading
import zlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any, BinaryIO, Protocol, cast

import zstandard

from core.layers.errors import LayerError

CHUNK = 1 << 20
GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
BZIP2_MAGIC = b"BZh"
XZ_MAGIC = b"\xfd7zXZ\x00"


class Stream(Protocol):
    def read(self, n: int) -> bytes: ...

    def skip(self, n: int) -> None: ...


class FileStream:
    """A binary file; seeks to skip when it can (a regular file), reads when it cannot (a pipe)."""

    def __init__(self, handle: BinaryIO, counter: Callable[[int], None] | None = None) -> None:
        self._handle = handle
        self._counter = counter
        try:
            self._seekable = handle.seekable()
        except (AttributeError, OSError):
            self._seekable = False

    def read(self, n: int) -> bytes:
        data = self._handle.read(n)
        if self._counter is not None:
            self._counter(len(data))
        return data

    def skip(self, n: int) -> None:
        if self._seekable:
            self._handle.seek(n, io.SEEK_CUR)
            if self._counter is not None:
                self._counter(n)
            return
        _read_away(self, n)


class ChunkStream:
    """An iterator of byte chunks (the docker SDK's `get_image`) read as a stream."""

    def __init__(self, chunks: Iterable[bytes], counter: Callable[[int], None] | None = None) -> None:
        self._chunks: Iterator[bytes] = iter(chunks)
        self._buffer = b""
        self._pos = 0
        self._counter = counter

    def _fill(self) -> bool:
        for chunk in self._chunks:
            if chunk:
                self._buffer, self._pos = chunk, 0
                if self._counter is not None:
                    self._counter(len(chunk))
                return True
        return False

    def read(self, n: int) -> bytes:
        available = len(self._buffer) - self._pos
        if available >= n:
            start = self._pos
            self._pos += n
            return self._buffer[start:self._pos]
        parts = [self._buffer[self._pos:]]
        need = n - available
        self._buffer, self._pos = b"", 0
        while need > 0 and self._fill():
            take = min(need, len(self._buffer))
            parts.append(self._buffer[:take])
            self._pos = take
            need -= take
        return b"".join(parts)

    def skip(self, n: int) -> None:
        available = len(self._buffer) - self._pos
        if available >= n:
            self._pos += n
            return
        need = n - available
        self._buffer, self._pos = b"", 0
        while need > 0 and self._fill():
            take = min(need, len(self._buffer))
            self._pos = take
            need -= take


class SubStream:
    """`size` bytes of a parent stream: one member of an outer tar."""

    def __init__(self, parent: Stream, size: int) -> None:
        self._parent = parent
        self.remaining = size

    def read(self, n: int) -> bytes:
        n = min(n, self.remaining)
        data = self._parent.read(n) if n > 0 else b""
        self.remaining -= len(data)
        return data

    def skip(self, n: int) -> None:
        n = min(n, self.remaining)
        self._parent.skip(n)
        self.remaining -= n

    def drain(self) -> None:
        """Skip whatever the consumer left unread, so the parent is at the next member."""
        if self.remaining:
            self.skip(self.remaining)


class PrefixedStream:
    """Bytes already peeked at, followed by the rest of a stream."""

    def __init__(self, prefix: bytes, rest: Stream) -> None:
        self._prefix = prefix
        self._rest = rest

    def read(self, n: int) -> bytes:
        if not self._prefix:
            return self._rest.read(n)
        head, self._prefix = self._prefix[:n], self._prefix[n:]
        return head + self._rest.read(n - len(head)) if len(head) < n else head

    def skip(self, n: int) -> None:
        head = min(n, len(self._prefix))
        self._prefix = self._prefix[head:]
        if n > head:
            self._rest.skip(n - head)


class GzipStream:
    """gzip (possibly several members) decompressed on the fly, output bounded per call."""

    def __init__(self, source: Stream) -> None:
        self._source = source
        self._inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
        self._pending = b""
        self._out = b""
        self._eof = False

    def _more(self, want: int) -> bytes:
        while True:
            if self._pending:
                data = self._inflater.decompress(self._pending, max(want, CHUNK))
                self._pending = self._inflater.unconsumed_tail
                if self._inflater.eof:
                    rest = self._inflater.unused_data + self._pending
                    self._inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
                    # Some writers pad after the last member; padding is not another member.
                    self._pending = rest if rest.strip(b"\0") else b""
                if data:
                    return data
                continue
            if self._eof:
                return b""
            chunk = self._source.read(CHUNK)
            if not chunk:
                self._eof = True
                if not self._inflater.eof and self._inflater.unconsumed_tail == b"":
                    tail = self._inflater.flush()
                    if tail:
                        return tail
                return b""
            self._pending = chunk

    def read(self, n: int) -> bytes:
        parts = [self._out]
        have = len(self._out)
        while have < n:
            try:
                data = self._more(n - have)
            except zlib.error as exc:
                raise LayerError(f"corrupt gzip data in a layer ({exc})") from None
            if not data:
                break
            parts.append(data)
            have += len(data)
        joined = b"".join(parts)
        self._out = joined[n:]
        return joined[:n]

    def skip(self, n: int) -> None:
        _read_away(self, n)


class ZstdStream:
    """zstd decompressed on the fly (several frames allowed)."""

    def __init__(self, source: Stream) -> None:
        try:
            self._reader = zstandard.ZstdDecompressor().stream_reader(
                cast(Any, source), read_size=CHUNK, read_across_frames=True
            )
        except zstandard.ZstdError as exc:
            raise LayerError(f"corrupt zstd data in a layer ({exc})") from None

    def read(self, n: int) -> bytes:
        parts: list[bytes] = []
        need = n
        try:
            while need > 0:
                data = self._reader.read(need)
                if not data:
                    break
                parts.append(data)
                need -= len(data)
        except zstandard.ZstdError as exc:
            raise LayerError(f"corrupt zstd data in a layer ({exc})") from None
        return b"".join(parts)

    def skip(self, n: int) -> None:
        _read_away(self, n)


def prefetch(chunks: Iterable[bytes], depth: int = 64) -> Iterator[bytes]:
    """Iterate `chunks` in a background thread, up to `depth` ahead, so the producer (an engine running
    `docker save`) never waits while we parse; errors are re-raised here, in the consumer."""
    items: queue.Queue[tuple[str, object]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def pump() -> None:
        try:
            for chunk in chunks:
                while not stop.is_set():
                    try:
                        items.put(("data", chunk), timeout=0.2)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            items.put(("end", None))
        except BaseException as exc:  # handed to the consumer, which reports it
            items.put(("error", exc))

    thread = threading.Thread(target=pump, name="image-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            kind, value = items.get()
            if kind == "end":
                return
            if kind == "error":
                assert isinstance(value, BaseException)
                raise value
            assert isinstance(value, bytes)
            yield value
    finally:
        stop.set()


def _read_away(stream: Stream, n: int) -> None:
    while n > 0:
        data = stream.read(min(n, CHUNK))
        if not data:
            return
        n -= len(data)


def compression_of(head: bytes) -> str:
    """'gzip', 'zstd', 'bzip2', 'xz' or 'none', from the first bytes of a blob."""
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if head.startswith(ZSTD_MAGIC):
        return "zstd"
    if head.startswith(BZIP2_MAGIC):
        return "bzip2"
    if head.startswith(XZ_MAGIC):
        return "xz"
    return "none"


def decompressed(stream: Stream, compression: str) -> Stream:
    """Wrap `stream` in the decompressor `compression` names."""
    if compression == "gzip":
        return GzipStream(stream)
    if compression == "zstd":
        return ZstdStream(stream)
    if compression == "none":
        return stream
    raise LayerError(f"{compression} compressed layers are not supported (only plain, gzip and zstd)")
