"""Read one layer blob (plain, gzip or zstd tar) into a `LayerContent`: its entries, whiteouts and
opaque markers, independent of where the layer sits in the image.

Contract: layers can be parsed in any order (a `docker save` archive stores them sorted by id and its
manifest last), so nothing here depends on other layers. Paths are normalised to 'a/b' (no leading
'./' or '/'). With `deep=True` every regular file's content is hashed.

Entries are stored as parallel arrays, not one object per entry, because a layer may hold millions:
a base name, a kind letter, a size and an interned (mode, uid, gid) triple; link targets are kept only
for links. Tars list a directory's entries together, so the parent directory is stored once per run of
entries that share it (each directory string once per layer), not once per entry.
The base-name string is the same object the replay tree uses as its key, so it is never copied.
"""

from __future__ import annotations

import hashlib
import itertools
from array import array
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field

from core.layers.errors import LayerError
from core.layers.streams import PrefixedStream, Stream, compression_of, decompressed
from core.layers.tarstream import HARDLINK, REGULAR, SYMLINK, Meta, NotATar, TarReader
from core.progress import CancelToken

OPAQUE = ".wh..wh..opq"
WHITEOUT = ".wh."

__all__ = ["Entry", "LayerContent", "Meta", "MetaInterner", "normalise", "read_layer"]

#: (path, kind, size, meta, link target) as `LayerContent.entries()` yields them.
Entry = tuple[str, str, int, Meta, str]


@dataclass(slots=True, eq=False)
class LayerContent:
    """What one layer tar holds. `runs` mark where the parent directory changes: entry `i` of the run
    starting at `runs[r]` is `dirs[run_dirs[r]] + names[i]`; `dirs` hold '/a/b/'. The replay handles a
    directory's run at once."""

    key: str
    compression: str = "none"
    names: list[str] = field(default_factory=list)
    dirs: list[str] = field(default_factory=list)
    kinds: str = ""  # one letter per entry (tarstream's REGULAR, DIRECTORY, ...)
    sizes: array[int] = field(default_factory=lambda: array("q"))
    metas: list[Meta] = field(default_factory=list)
    links: dict[int, str] = field(default_factory=dict)  # entry number -> target, links only
    runs: array[int] = field(default_factory=lambda: array("I"))  # first entry of each same-directory run
    run_dirs: array[int] = field(default_factory=lambda: array("I"))  # index into `dirs`, per run
    whiteouts: list[str] = field(default_factory=list)
    opaques: list[str] = field(default_factory=list)
    digests: dict[str, str] = field(default_factory=dict)
    content_bytes: int = 0

    def __len__(self) -> int:
        return len(self.names)

    def path(self, number: int) -> str:
        """Entry `number`'s path as '/a/b'."""
        return self.dirs[self.run_dirs[bisect_right(self.runs, number) - 1]] + self.names[number]

    def run_dir(self, run: int) -> str:
        """The directory ('/a/b/') of the run starting at `runs[run]`."""
        return self.dirs[self.run_dirs[run]]

    def paths(self) -> Iterator[str]:
        """Every entry's path as '/a/b', in tar order."""
        names, starts = self.names, self.runs
        for run, start in enumerate(starts):
            shown = self.dirs[self.run_dirs[run]]
            end = starts[run + 1] if run + 1 < len(starts) else len(names)
            for name in names[start:end]:
                yield shown + name

    def entries(self) -> Iterator[Entry]:
        """Every entry as (path 'a/b', kind, size, meta, link), in tar order; built on demand."""
        links = self.links
        for number, (path, kind, size, meta) in enumerate(
            zip(self.paths(), self.kinds, self.sizes, self.metas, strict=True)
        ):
            yield path[1:], kind, size, meta, links.get(number, "")


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
    """Parse the layer blob in `stream`; raises LayerError, naming the layer when it is not a tar at all."""
    head = stream.read(8)
    compression = compression_of(head)
    tar = TarReader(decompressed(PrefixedStream(head, stream), compression), what, interner.seen)
    content = LayerContent(key, compression)
    whiteouts, opaques, links, dirs, runs, run_dirs = (
        content.whiteouts, content.opaques, content.links, content.dirs, content.runs, content.run_dirs
    )
    add_name, add_size = content.names.append, content.sizes.append
    add_meta = content.metas.append
    kinds: list[str] = []
    add_kind = kinds.append
    dir_numbers: dict[str, int] = {}
    last_dir: str | None = None
    next_header = tar.next_header
    try:
        first = next_header()  # only the first header can show the blob is no tar at all
    except NotATar as exc:
        raise LayerError(f"{exc} (a layer must be a tar, optionally gzip or zstd compressed)") from None
    headers = itertools.chain((first,), iter(next_header, None)) if first is not None else ()
    for header in headers:
        path, kind, size, meta, link = header
        if not path or path[-1] == "/" or path[0] in "./":
            path = normalise(path)
            if not path:
                continue
        slash = path.rfind("/") + 1
        name = path[slash:]
        if name.startswith(WHITEOUT):
            parent = path[:slash - 1] if slash else ""
            if name == OPAQUE:
                opaques.append(parent)
            elif not name.startswith(".wh..wh."):  # other AUFS bookkeeping files carry no meaning
                whiteouts.append(f"{parent}/{name[4:]}" if parent else name[4:])
            continue
        directory = path[:slash]
        if directory != last_dir:
            runs.append(len(kinds))
            last_dir = directory
            number = dir_numbers.get(directory)
            if number is None:
                number = dir_numbers[directory] = len(dirs)
                dirs.append("/" + directory)
            run_dirs.append(number)
        if link and kind in (SYMLINK, HARDLINK):
            links[len(kinds)] = link
        add_name(name)
        add_kind(kind)
        add_size(size)
        add_meta(meta)
        if deep and kind == REGULAR:
            content.digests[path] = _hash_data(tar)
        if cancel is not None and not len(kinds) & 0x3FFF:
            cancel.check()
    content.kinds = "".join(kinds)
    content.content_bytes = sum(content.sizes)  # only regular files have a size here
    return content


def _hash_data(tar: TarReader) -> str:
    digest = hashlib.sha256()
    while chunk := tar.read(1 << 20):
        digest.update(chunk)
    return digest.hexdigest()


