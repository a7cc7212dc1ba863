"""A forward-only tar header reader, fast enough to walk millions of entries.

Contract: `TarReader(stream).next_header()` returns one `(name, kind, size, meta, linkname)` tuple per
member, `next()` the same member as a `TarEntry` (ustar prefixes, GNU long names, pax paths, sizes and
ids, GNU base-256 numbers are honoured); either leaves the reader at the member's data, which the caller
may `read()` before asking for the next member, otherwise it is skipped (by seeking when the stream
can). `meta` is the interned `(mode & 0o7777, uid, gid)` triple. A header whose checksum is wrong raises
`NotATar` when it is the first one and `LayerError` later; a stream that ends inside a header or inside
data raises `LayerError` ("truncated").

Why it is fast: headers are parsed out of a read-ahead buffer (no call into the stream per member, data
of small files is skipped inside the buffer), the checksum is summed in C (adler32 of an ASCII block is
its byte sum plus one), and the mode/uid/gid fields are decoded once per distinct raw value.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from zlib import adler32

from core.layers.errors import LayerError
from core.layers.streams import Stream

BLOCK = 512
#: Read-ahead: large enough to hold dozens of small members, small enough to stay in cache.
BUFFER = 1 << 17
_ZERO_BLOCK = bytes(BLOCK)

REGULAR, HARDLINK, SYMLINK, DIRECTORY, OTHER = "f", "h", "l", "d", "o"
_KINDS = {
    b"0": REGULAR, b"\0": REGULAR, b"7": REGULAR, b"S": REGULAR,
    b"1": HARDLINK, b"2": SYMLINK, b"5": DIRECTORY,
    b"3": OTHER, b"4": OTHER, b"6": OTHER,
}
#: Kind by typeflag byte value; the data of these kinds is not file content.
_KIND_OF = tuple(_KINDS.get(bytes([flag]), OTHER) for flag in range(256))
_NO_DATA = frozenset((HARDLINK, SYMLINK, DIRECTORY))
_EXTENSIONS = frozenset(b"LKxg")

Meta = tuple[int, int, int]
#: (name as written, kind, size of file content, (mode, uid, gid), link target)
Header = tuple[str, str, int, Meta, str]


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
    field = block[148:156]
    if block.isascii():  # every byte < 128: the sum is below adler32's modulus, so A - 1 is exact
        total = (zlib.adler32(block) & 0xFFFF) - 1
    else:
        total = sum(block)
    try:
        stored = int(field.partition(b"\0")[0], 8)
    except ValueError:
        try:
            stored = _number(field)
        except ValueError:
            return False
    return stored == total - sum(field) + 256


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
    """Walks one tar: `next_header()`/`next()` give the next member (or None at the end); `read(n)` reads
    its data."""

    __slots__ = ("_block", "_buf", "_first", "_ids", "_metas", "_padding", "_pos", "_remaining", "_stream",
                 "what")

    def __init__(self, stream: Stream, what: str = "tar", metas: dict[Meta, Meta] | None = None) -> None:
        self._stream = stream
        self.what = what
        self._first = True
        self._remaining = 0
        self._padding = 0
        self._buf = b""
        self._pos = 0
        self._block = _ZERO_BLOCK
        self._ids: dict[bytes, Meta] = {}  # raw mode+uid+gid fields -> interned triple
        self._metas: dict[Meta, Meta] = {} if metas is None else metas

    def read(self, n: int) -> bytes:
        """Up to `n` bytes of the current entry's data; b"" once it is all read."""
        n = min(n, self._remaining)
        if n <= 0:
            return b""
        buf, pos = self._buf, self._pos
        if pos + n <= len(buf):
            self._pos = pos + n
            self._remaining -= n
            return buf[pos:pos + n]
        head = buf[pos:]
        self._buf, self._pos = b"", 0
        rest = self._stream.read(n - len(head))
        if len(rest) < n - len(head):
            raise LayerError(f"{self.what} is truncated (it ends inside a file's data)")
        self._remaining -= n
        return head + rest if head else rest

    def skip(self, n: int) -> None:
        """Skip `n` bytes of the current entry's data (seeking when the stream can)."""
        n = min(n, self._remaining)
        if n > 0:
            self._remaining -= n
            self._advance(n)

    @property
    def remaining(self) -> int:
        return self._remaining

    @property
    def buffered(self) -> int:
        """Bytes read ahead from the stream but not consumed: the stream's position minus this is ours."""
        return len(self._buf) - self._pos

    def _advance(self, n: int) -> None:
        pos = self._pos + n
        if pos <= len(self._buf):
            self._pos = pos
        else:
            self._stream.skip(pos - len(self._buf))
            self._buf, self._pos = b"", 0

    def _fill(self, need: int) -> bytes:
        """The buffer from the current position, holding at least `need` bytes unless the stream ends."""
        rest = self._buf[self._pos:]
        more = self._stream.read(max(BUFFER, need - len(rest)))
        self._buf = rest + more if rest else more
        self._pos = 0
        return self._buf

    def _fail(self, block: bytes) -> LayerError:
        what = self.what
        if self._first:
            if not block:
                return NotATar(f"{what} is empty, not a tar")
            return NotATar(f"{what} is not a tar archive")
        if len(block) < BLOCK:
            return LayerError(f"{what} is truncated (it ends before the end-of-archive marker)")
        return LayerError(f"{what} is corrupt (a tar header's checksum is wrong)")

    def _extension(self, size: int) -> bytes:
        """The data of a long-name or pax member, which is read, not skipped."""
        self._remaining, self._padding = size, -size % BLOCK
        data = self.read(size)
        if len(data) < size:
            raise LayerError(f"{self.what} is truncated (it ends inside a tar header)")
        self._advance(self._padding)
        self._padding = 0
        return data

    def next_header(self) -> Header | None:
        """The next member as (name, kind, size, meta, linkname), or None after the last one."""
        skip = self._remaining + self._padding
        if skip:
            self._remaining = self._padding = 0
            self._advance(skip)
        buf, pos = self._buf, self._pos
        end = pos + BLOCK
        if end > len(buf):
            buf, pos, end = self._fill(BLOCK), 0, BLOCK
        block = buf[pos:end]
        self._pos = end
        # The common member: one ustar/GNU header, ASCII, octal numbers, no extension before it.
        if len(block) == BLOCK and block.isascii() and block[156] not in _EXTENSIONS:
            # Writers put 6 checksum digits, NUL, space and 11 size digits, NUL; anything else goes slow.
            try:
                stored = int(block[148:154], 8)
                size = int(block[124:135], 8)
            except ValueError:
                return self._slow(block)
            if block[154] or block[135] or stored != (adler32(block) & 0xFFFF) - (
                adler32(block[148:156]) & 0xFFFF
            ) + 256:
                return self._slow(block)
            self._first = False
            nul = block.find(0, 0, 100)
            name = block[:nul if nul >= 0 else 100].decode()
            if block[345] and block[257:262] == b"ustar" and block[263:265] == b"00":
                name = _text(block[345:500]) + "/" + name
            kind = _KIND_OF[block[156]]
            ids = block[100:124]
            meta = self._ids.get(ids)
            if meta is None:
                meta = self._meta(ids)
            self._block = block
            if kind in _NO_DATA:
                return name, kind, 0, meta, _text(block[157:257]) if kind != DIRECTORY else ""
            self._remaining = size
            self._padding = -size % BLOCK
            return name, kind, size if kind == REGULAR else 0, meta, ""
        return self._slow(block)

    def _meta(self, ids: bytes) -> Meta:
        triple = (_number(ids[0:8]) & 0o7777, _number(ids[8:16]), _number(ids[16:24]))
        meta = self._metas.setdefault(triple, triple)
        self._ids[ids] = meta
        return meta

    def _slow(self, block: bytes) -> Header | None:
        """Any member: extensions (long names, pax), base-256 numbers, non-ASCII names, the end."""
        long_name: str | None = None
        long_link: str | None = None
        pax: dict[str, str] = {}
        while True:
            if len(block) < BLOCK:
                raise self._fail(block)
            if block == _ZERO_BLOCK:
                self._block = block
                return None
            if not _checksum_ok(block):
                raise self._fail(block)
            self._first = False
            flag = block[156:157]
            size = _number(block[124:136])
            if flag in (b"L", b"K", b"x", b"g"):
                data = self._extension(size)
                if flag == b"L":
                    long_name = _text(data)
                elif flag == b"K":
                    long_link = _text(data)
                elif flag == b"x":
                    pax = _pax_records(data)
                block = self._buf[self._pos:self._pos + BLOCK]
                if len(block) < BLOCK:
                    block = self._fill(BLOCK)[:BLOCK]
                self._pos += len(block)
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
            triple = (_number(block[100:108]) & 0o7777, uid, gid)
            meta = self._metas.setdefault(triple, triple)
            data_size = 0 if kind in _NO_DATA else size
            self._remaining = data_size
            self._padding = -data_size % BLOCK
            self._block = block
            link = "" if kind == DIRECTORY else linkname
            return name, kind, data_size if kind == REGULAR else 0, meta, link

    def next(self) -> TarEntry | None:
        """The next member with its full mode and mtime, or None after the last one."""
        header = self.next_header()
        if header is None:
            return None
        name, kind, size, (_mode, uid, gid), linkname = header
        block = self._block
        mode, mtime = _number(block[100:108]), _number(block[136:148])
        return TarEntry(name, kind, size, mode, uid, gid, linkname, mtime)
