"""Read one layer blob (plain, gzip or zstd tar) into a `LayerContent`: its entries, whiteouts and
opaque markers, independent of where the layer sits in the image.

Contract: layers can be parsed in any order (a `docker save` archive stores them sorted by id and its
manifest last), so nothing here depends on other layers. Paths are normalised to 'a/b' (no leading
'./' or '/'). Metadata triples (mode, uid, gid) are interned: images hold few distinct ones, and
sharing them keeps a million entries small. With `deep=True` every regular file's content is hashed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from core.layers.errors import LayerError
from core.layers.streams import PrefixedStream, Stream, compression_of, decompressed
from core.layers.tarstream import DIRECTORY, REGULAR, NotATar, TarReader
from core.progress import CancelToken

OPAQUE = ".wh..wh..opq"
WHITEOUT = ".wh."

Meta = tuple[int, int, int]
#: (path, kind, size, meta, link target) — a tuple, not an object, because there may be millions.
Entry = tuple[str, str, int, Meta, str]


@dataclass(slots=True, eq=False)
class LayerContent:
    """What one layer tar holds."""

    key: str
    compression: str = "none"
    entries: list[Entry] = field(default_factory=list)
    whiteouts: list[str] = field(default_factory=list)
    opaques: list[str] = field(default_factory=list)
    digests: dict[str, str] = field(default_factory=dict)
    content_bytes: int = 0


def normalise(name: str) -> str:
    """'./usr/bin/' -> 'usr/bin'; '.' -> ''."""
    while name.startswith("./"):
        name = name[2:]
    name = name.strip("/")
    return "" if name == "." else name


class MetaInterner:
    """Shares equal (mode, uid, gid) triples between entries and layers."""

    def __init__(self) -> None:
        self.seen: dict[Meta, Meta] = {}

    def __call__(self, mode: int, uid: int, gid: int) -> Meta:
        key = (mode & 0o7777, uid, gid)
        return self.seen.setdefault(key, key)


def read_layer(
    stream: Stream,
    key: str,
    what: str,
    interner: MetaInterner,
    *,
    deep: bool = False,
    cancel: CancelToken | None = None,
) -> LayerContent:
    """Parse the layer blob in `stream`; raises LayerError (NotATar when it is not a tar at all)."""
    head = stream.read(8)
    compression = compression_of(head)
    tar = TarReader(decompressed(PrefixedStream(head, stream), compression), what)
    content = LayerContent(key, compression)
    entries, whiteouts, opaques = content.entries, content.whiteouts, content.opaques
    append = entries.append
    metas = interner.seen
    total = 0
    count = 0
    while True:
        entry = tar.next()
        if entry is None:
            break
        count += 1
        if cancel is not None and not count & 0x3FFF:
            cancel.check()
        path = entry.name
        if path.startswith(("./", "/")) or path.endswith("/") or path == ".":
            path = normalise(path)
            if not path:
                continue
        slash = path.rfind("/")
        base = path[slash + 1:]
        if base.startswith(WHITEOUT):
            parent = path[:slash] if slash >= 0 else ""
            if base == OPAQUE:
                opaques.append(parent)
            elif not base.startswith(".wh..wh."):  # other AUFS bookkeeping files carry no meaning
                whiteouts.append(f"{parent}/{base[4:]}" if parent else base[4:])
            continue
        kind = entry.kind
        link = entry.linkname
        if kind == REGULAR:
            total += entry.size
            if deep:
                content.digests[path] = _hash_data(tar)
        elif kind == DIRECTORY:
            link = ""
        triple = (entry.mode & 0o7777, entry.uid, entry.gid)
        append((path, kind, entry.size, metas.get(triple) or metas.setdefault(triple, triple), link))
    content.content_bytes = total
    return content


def _hash_data(tar: TarReader) -> str:
    digest = hashlib.sha256()
    while chunk := tar.read(1 << 20):
        digest.update(chunk)
    return digest.hexdigest()


def read_layer_checked(
    stream: Stream,
    key: str,
    what: str,
    interner: MetaInterner,
    *,
    deep: bool = False,
    cancel: CancelToken | None = None,
) -> LayerContent:
    """`read_layer`, with 'not a tar' turned into a message that names the layer."""
    try:
        return read_layer(stream, key, what, interner, deep=deep, cancel=cancel)
    except NotATar as exc:
        raise LayerError(f"{exc} (a layer must be a tar, optionally gzip or zstd compressed)") from None
