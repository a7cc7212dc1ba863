"""A forward-only tar header reader, fast enough to walk millions of entries.

Contract: `TarReader(stream).next()` returns one `TarEntry` per member (ustar, GNU long names and pax
paths, sizes and ids are honoured) and leaves the stream at the member's data; the caller may `read()`
that data before asking for the next entry, otherwise it is skipped (by seeking when the stream can).
A header whose checksum is wrong raises `NotATar` when it is the first one and
`LayerError` later; a stream that ends inside a header or inside data raises `LayerError` ("truncated").
It reads headers only, so it is about as fast as walking a tar can be in Python.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.layers.errors import LayerError
from core.layers.streams import Stream

BLOCK = 512
_ZERO_BLOCK = bytes(BLOCK)

REGULAR, HARDLINK, SYMLINK, DIRECTORY, OTHER = "f", "h", "l", "d", "o"
_KINDS = {
    b"0": REGULAR, b"\0": REGULAR, b"7": REGULAR, b"S": REGULAR,
    b"1": HARDLINK, b"2": SYMLINK, b"5": DIRECTORY,
    b"3": OTHER, b"4": OTHER, b"6": OTHER,
}


class NotATar(LayerError):
    """The stream's first block is not a tar header."""


@dataclass(slots=True)
class TarEntry:
    """One member: `kind` is REGULAR/HARDLINK/SYMLINK/DIRECTORY/OTHER; `name` as written in the tar."""

    name: str
    kind: str
    size: int
    mode: int
    uid: int
    gid: int
    linkname: str
    mtime: int


def _number(field: bytes) -> int:
    if field and field[0] & 0x80:  # GNU base-256 for values that do not fit in octal
        value = int.from_bytes(field[1:], "big")
        return value - (1 << (8 * len(field) - 8)) if field[0] & 0x40 else value
    text = field.split(b"\0", 1)[0].strip()
    return int(text, 8) if text else 0


def _text(field: bytes) -> str:
    return field.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")


def _checksum_ok(block: bytes) -> bool:
    try:
        stored = _number(block[148:156])
    except ValueError:
        return False
    return stored == sum(block) - sum(block[148:156]) + 256


def _pax_records(data: bytes) -> dict[str, str]:
    records: dict[str, str] = {}
    pos = 0
    while pos < len(data):
        space = data.find(b" ", pos)
        if space < 0:
            break
        try:
            length = int(data[pos:space])
        except ValueError:
            raise LayerError("corrupt pax header in a layer") from None
        if length <= 0:
            break
        record = data[space + 1:pos + length - 1]
        key, _, value = record.partition(b"=")
        records[key.decode("utf-8", "replace")] = value.decode("utf-8", "surrogateescape")
        pos += length
    return records


class TarReader:
    """Walks one tar: `next()` gives the next entry (or None at the end); `read(n)` reads its data."""

    __slots__ = ("_first", "_padding", "_remaining", "_stream", "what")

    def __init__(self, stream: Stream, what: str = "tar") -> None:
        self._stream = stream
        self.what = what
        self._first = True
        self._remaining = 0
        self._padding = 0

    def read(self, n: int) -> bytes:
        """Up to `n` bytes of the current entry's data; b"" once it is all read."""
        n = min(n, self._remaining)
        if n <= 0:
            return b""
        data = self._stream.read(n)
        if len(data) < n:
            raise LayerError(f"{self.what} is truncated (it ends inside a file's data)")
        self._remaining -= n
        return data

    def skip(self, n: int) -> None:
        """Skip `n` bytes of the current entry's data (seeking when the stream can)."""
        n = min(n, self._remaining)
        if n > 0:
            self._stream.skip(n)
            self._remaining -= n

    @property
    def remaining(self) -> int:
        return self._remaining

    def next(self) -> TarEntry | None:
        stream, what = self._stream, self.what
        if self._remaining or self._padding:
            stream.skip(self._remaining + self._padding)
            self._remaining = self._padding = 0
        long_name: str | None = None
        long_link: str | None = None
        pax: dict[str, str] = {}
        while True:
            block = stream.read(BLOCK)
            if len(block) < BLOCK:
                if self._first and not block:
                    raise NotATar(f"{what} is empty, not a tar")
                if self._first:
                    raise NotATar(f"{what} is not a tar archive")
                raise LayerError(f"{what} is truncated (it ends before the end-of-archive marker)")
            if block == _ZERO_BLOCK:
                return None
            if not _checksum_ok(block):
                if self._first:
                    raise NotATar(f"{what} is not a tar archive")
                raise LayerError(f"{what} is corrupt (a tar header's checksum is wrong)")
            self._first = False
            flag = block[156:157]
            size = _number(block[124:136])
            if flag in (b"L", b"K", b"x", b"g"):
                data = stream.read(size)
                if len(data) < size:
                    raise LayerError(f"{what} is truncated (it ends inside a tar header)")
                stream.skip(-size % BLOCK)
                if flag == b"L":
                    long_name = _text(data)
                elif flag == b"K":
                    long_link = _text(data)
                elif flag == b"x":
                    pax = _pax_records(data)
                continue
            name = _text(block[0:100])
            if block[257:262] == b"ustar" and block[263:265] == b"00":
                prefix = _text(block[345:500])
                if prefix:
                    name = prefix + "/" + name
            linkname = _text(block[157:257])
            uid, gid = _number(block[108:116]), _number(block[116:124])
            if long_name is not None:
                name = long_name
            if long_link is not None:
                linkname = long_link
            if pax:
                name = pax.get("path", name)
                linkname = pax.get("linkpath", linkname)
                if "size" in pax:
                    size = int(pax["size"])
                uid = int(pax.get("uid", uid))
                gid = int(pax.get("gid", gid))
            kind = _KINDS.get(flag, OTHER)
            data_size = 0 if kind in (HARDLINK, SYMLINK, DIRECTORY) else size
            self._remaining = data_size
            self._padding = -data_size % BLOCK
            return TarEntry(
                name, kind, data_size if kind == REGULAR else 0, _number(block[100:108]), uid, gid,
                linkname, _number(block[136:148]),
            )
