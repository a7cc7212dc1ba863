"""The lean tar reader against the standard library's tarfile, on every header format a layer may use."""

from __future__ import annotations

import gzip
import io
import tarfile
from pathlib import Path

import pytest

from core.layers.errors import LayerError
from core.layers.streams import ChunkStream, FileStream, GzipStream
from core.layers.tarstream import BUFFER, NotATar, TarReader

KIND = {tarfile.REGTYPE: "f", tarfile.DIRTYPE: "d", tarfile.SYMTYPE: "l", tarfile.LNKTYPE: "h",
        tarfile.FIFOTYPE: "o"}


def _tar(fmt: int) -> bytes:
    """Members that exercise each header feature; sizes chosen to straddle the read-ahead buffer."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=fmt) as tar:
        def add(name: str, kind: bytes = tarfile.REGTYPE, data: bytes = b"", **fields: object) -> None:
            info = tarfile.TarInfo(name)
            info.type, info.size, info.mtime, info.mode = kind, len(data), 1_700_000_000, 0o644
            for key, value in fields.items():
                setattr(info, key, value)
            tar.addfile(info, io.BytesIO(data) if data else None)

        add("etc", tarfile.DIRTYPE, mode=0o755)
        for number in range(200):  # many small members: several buffer refills
            add(f"etc/f{number}", data=bytes([number]) * (number * 37 % 3000), uid=number, gid=7)
        add("big.bin", data=bytes(range(256)) * (BUFFER // 128 + 3), mode=0o4755)
        add("l/" + "x" * 90 + "/" + "y" * 60 + ".txt", data=b"prefix split")  # ustar: prefix field
        add("caf\u00e9/\u00fcber.txt", data=b"utf-8")
        add("link", tarfile.SYMTYPE, linkname="etc/f1")
        add("hard", tarfile.LNKTYPE, linkname="etc/f2")
        add("fifo", tarfile.FIFOTYPE)
        if fmt != tarfile.USTAR_FORMAT:
            add("d/" + "n" * 120, data=b"long name")  # GNU long name or pax path
            add("biguid", data=b"ids", uid=3_000_000, gid=2_100_000)  # beyond 7 octal digits
            add("longlink", tarfile.SYMTYPE, linkname="t/" + "z" * 120)
    return buffer.getvalue()


def _walk(reader: TarReader) -> list[tuple[str, str, int, int, int, int, str, int, bytes]]:
    found = []
    while (entry := reader.next()) is not None:
        data = reader.read(entry.size) if entry.name.endswith((".bin", ".txt", "f3")) else b""
        found.append((entry.name.rstrip("/"), entry.kind, entry.size, entry.mode, entry.uid, entry.gid,
                      entry.linkname, entry.mtime, data))
    return found


def _expected(data: bytes) -> list[tuple[str, str, int, int, int, int, str, int, bytes]]:
    found = []
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        for member in tar:
            handle = tar.extractfile(member) if member.isfile() else None
            body = handle.read() if handle and member.name.endswith((".bin", ".txt", "f3")) else b""
            kind = KIND[member.type]
            found.append((member.name.rstrip("/"), kind, member.size if kind == "f" else 0, member.mode,
                          member.uid, member.gid, member.linkname, int(member.mtime), body))
    return found


@pytest.mark.parametrize("fmt", [tarfile.GNU_FORMAT, tarfile.PAX_FORMAT, tarfile.USTAR_FORMAT])
def test_every_header_matches_tarfile(tmp_path: Path, fmt: int) -> None:
    data = _tar(fmt)
    expected = _expected(data)
    assert len(expected) > 200
    path = tmp_path / "t.tar"
    path.write_bytes(data)
    with path.open("rb") as handle:  # seekable: data is skipped by seeking
        assert _walk(TarReader(FileStream(handle))) == expected
    chunks = [data[i:i + 777] for i in range(0, len(data), 777)]  # a pipe that hands odd-sized chunks
    assert _walk(TarReader(ChunkStream(chunks))) == expected
    packed = FileStream(io.BytesIO(gzip.compress(data)))
    assert _walk(TarReader(GzipStream(packed))) == expected


def test_next_header_interns_metadata_and_skips_unread_data() -> None:
    data = _tar(tarfile.PAX_FORMAT)
    reader = TarReader(FileStream(io.BytesIO(data)))
    headers = []
    while (header := reader.next_header()) is not None:
        headers.append(header)
    by_name = {h[0]: h for h in headers}
    assert by_name["etc/f5"][1:4] == ("f", 5 * 37, (0o644, 5, 7))
    assert by_name["big.bin"][3][0] == 0o4755
    assert by_name["hard"][1:] == ("h", 0, (0o644, 0, 0), "etc/f2")
    assert by_name["biguid"][3] == (0o644, 3_000_000, 2_100_000)
    metas = {id(h[3]) for h in headers if h[3] == (0o644, 0, 0)}
    assert len(metas) == 1  # one shared triple, however many members carry it


def test_bad_tars_give_clear_errors() -> None:
    data = _tar(tarfile.GNU_FORMAT)
    with pytest.raises(NotATar, match="empty"):
        TarReader(FileStream(io.BytesIO(b""))).next()
    with pytest.raises(NotATar, match="not a tar"):
        TarReader(FileStream(io.BytesIO(b"{" + bytes(1023)))).next()
    cut = TarReader(FileStream(io.BytesIO(data[:len(data) // 2])), "layer x")
    with pytest.raises(LayerError, match="layer x is truncated"):
        while cut.next() is not None:
            pass
    corrupt = bytearray(data)
    corrupt[512 + 5] ^= 0x01  # the second header's name: its checksum no longer matches
    reader = TarReader(FileStream(io.BytesIO(bytes(corrupt))), "layer y")
    assert reader.next() is not None
    with pytest.raises(LayerError, match="layer y is corrupt"):
        reader.next()
    inside = TarReader(FileStream(io.BytesIO(data[:512 * 3 + 100])))
    with pytest.raises(LayerError, match="truncated"):
        while (entry := inside.next()) is not None:
            inside.read(entry.size)
