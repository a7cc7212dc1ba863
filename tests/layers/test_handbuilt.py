"""Hand-built archives (no engine): layouts, compression, OCI rules, hard links and bad input."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import pytest

from core.dockerfile import parse_dockerfile
from core.layers import LayerError, WasteCause, analyse_image
from core.layers.model import LayerReport
from core.progress import Cancelled, CancelToken
from tests.layers.archives import E, docker_archive, file, layer_tar, oci_archive, oci_dir

BASE = layer_tar([E("bin", "d"), file("bin/sh", 1000, 0o755), E("etc", "d"), file("etc/passwd", 10)])
# Layer 1 writes files; layer 2 applies an opaque marker (written *after* an addition in the same dir,
# which must survive), whiteouts a file, and whiteouts one name of a hard-linked pair.
L1 = layer_tar([
    E("a", "d"), file("a/keep", 100), file("a/gone", 200), file("a/sub/deep", 300),
    file("big", 5000), file("h1", 400), E("h2", "h", link="h1"), file("conf", 7, 0o644),
])
L2 = layer_tar([
    E("a", "d"), file("a/new", 50), E("a/.wh..wh..opq"), E(".wh.big"), E(".wh.h1"),
    file("conf", 7, 0o600), file("etc/passwd", 12),
])
LAYERS = [BASE, L1, L2]
HISTORY = ["/bin/sh -c #(nop) ADD file:base in /", "/bin/sh -c make files", "/bin/sh -c tidy up"]
CONTENT = 1010 + (100 + 200 + 300 + 5000 + 400 + 7) + (50 + 7 + 12)
WASTED = 100 + 200 + 300 + 5000 + 7 + 10  # opaque a/*, big, conf copy-up, etc/passwd overwritten


def _check(report: LayerReport) -> None:
    assert report.content_bytes == CONTENT
    assert report.wasted_bytes == WASTED
    assert sum(e.bytes for e in report.events) == WASTED
    assert report.visible_bytes == 1000 + 400 + 50 + 7 + 12  # h1's bytes stay visible through h2
    events = {e.path: (e.bytes, e.written_by, e.hidden_by, e.cause) for e in report.events}
    assert events == {
        "/a/keep": (100, 1, 2, WasteCause.DELETED),
        "/a/gone": (200, 1, 2, WasteCause.DELETED),
        "/a/sub/deep": (300, 1, 2, WasteCause.DELETED),
        "/big": (5000, 1, 2, WasteCause.DELETED),
        "/conf": (7, 1, 2, WasteCause.COPY_UP_CHMOD),
        "/etc/passwd": (10, 0, 2, WasteCause.OVERWRITTEN),
    }
    layer2 = report.layers[2]
    assert (layer2.files_removed, layer2.bytes_removed) == (5, 100 + 200 + 300 + 5000 + 400)
    assert (layer2.files_added, layer2.files_modified) == (1, 2)
    assert layer2.hid_bytes == WASTED
    assert report.layers[1].obsolete_later_bytes == 100 + 200 + 300 + 5000 + 7
    assert [layer.instruction for layer in report.layers] == ["ADD file:base in /", "RUN make files",
                                                              "RUN tidy up"]
    assert report.efficiency == pytest.approx((CONTENT - WASTED) / CONTENT)


def test_docker_archive_classic_layout(tmp_path: Path) -> None:
    report = analyse_image(str(docker_archive(tmp_path / "img.tar", LAYERS, HISTORY)))
    assert report.source == "docker-archive"
    _check(report)
    changes = {(f.path, f.change.value) for f in report.layer_files(2)}
    assert ("/a/new", "A") in changes and ("/big", "D") in changes and ("/conf", "M") in changes


@pytest.mark.parametrize("how", ["none", "gzip", "zstd"])
@pytest.mark.parametrize("nested", [False, True])
def test_oci_in_tar_any_compression(tmp_path: Path, how: str, nested: bool) -> None:
    report = analyse_image(str(oci_archive(tmp_path / "oci.tar", LAYERS, how, HISTORY, nested=nested)))
    assert report.source == "oci-archive"
    assert {layer.compression for layer in report.layers} == {how}
    _check(report)


def test_oci_index_first_and_oci_dir(tmp_path: Path) -> None:
    _check(analyse_image(str(oci_archive(tmp_path / "o.tar", LAYERS, "gzip", HISTORY, index_last=False))))
    root = tmp_path / "layout"
    root.mkdir()
    report = analyse_image(str(oci_dir(root, LAYERS, "zstd", HISTORY, nested=True)))
    assert report.source == "oci-dir"
    _check(report)


def test_empty_layer_history_maps_by_flag_not_size(tmp_path: Path) -> None:
    empty_layer = layer_tar([])
    layers = [BASE, empty_layer, L1]
    history = ["/bin/sh -c #(nop) ADD file:base in /", "/bin/sh -c true", "/bin/sh -c make files"]
    report = analyse_image(str(docker_archive(tmp_path / "e.tar", layers, history, empty=(1, 2))))
    instructions = [layer.instruction for layer in report.layers]
    assert instructions == ["ADD file:base in /", "RUN true", "RUN make files"]
    assert report.layers[1].content_bytes == 0


def test_dockerfile_lines_and_hints(tmp_path: Path) -> None:
    dockerfile = parse_dockerfile(
        "FROM base\n"  # 1
        "COPY . /src\n"  # 2
        "RUN chown -R 1000 /src/app.bin\n"  # 3
        "RUN rm /src/.env\n"  # 4
    )
    copy = layer_tar([E("src", "d"), file("src/app.bin", 3000), file("src/.git/config", 30),
                      file("src/.env", 20), file("src/node_modules/x.js", 40), file("src/id_rsa", 99)])
    chown = layer_tar([E("src", "d"), file("src/app.bin", 3000, uid=1000)])
    remove = layer_tar([E("src", "d"), E("src/.wh..env")])
    history = ["/bin/sh -c #(nop) ADD file:x in /", "/bin/sh -c #(nop) COPY dir:abc in /src",
               "/bin/sh -c chown -R 1000 /src/app.bin", "/bin/sh -c rm /src/.env"]
    report = analyse_image(str(docker_archive(tmp_path / "h.tar", [BASE, copy, chown, remove], history)),
                           dockerfile=dockerfile)
    assert [layer.dockerfile_line for layer in report.layers] == [None, 2, 3, 4]
    by_rule = {h.rule: h for h in report.hints}
    assert by_rule["copy-up"].layer == 2 and by_rule["copy-up"].bytes == 3000
    assert "chown" in by_rule["copy-up"].title and "--chown" in by_rule["copy-up"].suggestion
    assert by_rule["cleanup-later"].layer == 1 and by_rule["cleanup-later"].dockerfile_line == 2
    assert by_rule["broad-copy"].dockerfile_line == 2
    assert ".git" in by_rule["broad-copy"].suggestion and "node_modules" in by_rule["broad-copy"].suggestion
    secret = by_rule["secret-file"]
    assert "/src/.env" in secret.message and "/src/id_rsa" in secret.message  # deleted .env still named
    assert by_rule["build-tools"].message.startswith("a .git folder")
    assert report.base_layers == 1 and not report.base_known


def test_apt_and_cache_hints_and_too_many_layers(tmp_path: Path) -> None:
    apt = layer_tar([file("var/lib/apt/lists/deb_Packages", 700), E("var/lib/apt/lists/lock"),
                     file("root/.cache/pip/wheels/x.whl", 90)])
    tiny = [layer_tar([file(f"f{i}", 1)]) for i in range(100)]
    report = analyse_image(str(docker_archive(tmp_path / "a.tar", [BASE, apt, *tiny])))
    rules = {h.rule: h for h in report.hints}
    assert rules["apt-leftovers"].bytes == 700 and rules["apt-leftovers"].layer == 1
    assert "rm -rf /var/lib/apt/lists" in rules["apt-leftovers"].suggestion
    assert rules["package-cache"].bytes == 90 and "--no-cache-dir" in rules["package-cache"].suggestion
    assert "102 layers" in rules["too-many-layers"].message


def test_deep_mode_duplicates_and_exact_copy_up(tmp_path: Path) -> None:
    one = layer_tar([file("x", 500, fill=b"a"), file("y", 500, fill=b"a"), file("z", 500, fill=b"b")])
    same_size_new_content = layer_tar([file("z", 500, fill=b"c"), file("x", 500, 0o600, fill=b"a")])
    path = docker_archive(tmp_path / "d.tar", [BASE, one, same_size_new_content])
    deep = analyse_image(str(path), deep=True)
    causes = {e.path: e.cause for e in deep.events}
    assert causes == {"/z": WasteCause.OVERWRITTEN, "/x": WasteCause.COPY_UP_CHMOD}
    assert [(d.size, d.paths) for d in deep.duplicates] == [(500, ("/x", "/y"))]
    shallow = analyse_image(str(path))
    assert {e.path: e.cause for e in shallow.events}["/z"] == WasteCause.COPY_UP_TOUCH  # size only
    assert shallow.duplicates == ()


def test_dive_figures_repeat_dives_rules(tmp_path: Path) -> None:
    one = layer_tar([E("d", "d"), file("d/f", 1000), file("over", 300)])
    two = layer_tar([E(".wh.d"), file("over", 200)])  # rm -rf /d ; overwrite /over
    report = analyse_image(str(docker_archive(tmp_path / "v.tar", [BASE, one, two])), dive=True)
    assert report.wasted_bytes == 1300
    assert report.dive is not None
    # dive misses the deleted directory and counts the surviving copy of /over
    assert report.dive.wasted_bytes == 300 + 200
    assert report.dive.user_wasted_percent == pytest.approx(500 / 1500)
    assert report.dive.efficiency == pytest.approx((1010 + 1000 + 200 + 1000) / (1010 + 1000 + 500 + 1000))


def _corrupt(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def test_bad_input_gives_one_clear_error(tmp_path: Path) -> None:
    good = docker_archive(tmp_path / "g.tar", LAYERS, HISTORY).read_bytes()
    cases = {
        "truncated": (good[: len(good) // 2], "truncated"),
        "garbage": (b"hello, not a tar" * 100, "not an image archive"),
        "empty": (b"", "not an image archive"),
    }
    for name, (data, words) in cases.items():
        with pytest.raises(LayerError, match=words):
            analyse_image(_corrupt(tmp_path, name, data))
    with pytest.raises(LayerError, match="no such file"):
        analyse_image(str(tmp_path / "missing.tar") if False else "./missing/archive.tar")


def test_layer_that_is_not_a_tar_and_missing_blob(tmp_path: Path) -> None:
    not_tar = b"PK\x03\x04 this is a zip, not a tar" * 40
    with pytest.raises(LayerError, match=r"layer 2 .*not a tar"):
        analyse_image(str(oci_archive(tmp_path / "n.tar", [BASE, not_tar])))
    with pytest.raises(LayerError, match="missing"):
        analyse_image(str(oci_archive(tmp_path / "m.tar", [BASE, L1], drop=L1[:16].decode("latin-1"))))
    broken_gzip = oci_archive(tmp_path / "z.tar", [BASE, L1], "gzip").read_bytes()
    with tarfile.open(tmp_path / "z.tar") as tar:
        names = [m for m in tar.getmembers() if m.size > 200 and m.name.startswith("blobs/")]
    target = max(names, key=lambda m: m.size)
    offset = target.offset_data + 40
    damaged = broken_gzip[:offset] + bytes(64) + broken_gzip[offset + 64:]
    with pytest.raises(LayerError):
        analyse_image(_corrupt(tmp_path, "damaged.tar", damaged))
    (tmp_path / "notoci").mkdir()
    with pytest.raises(LayerError, match=r"no index\.json"):
        analyse_image(str(tmp_path / "notoci"))


def test_manifest_without_layers_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.tar"
    with tarfile.open(path, "w") as tar:
        data = json.dumps([{"Config": "c.json"}]).encode()
        info = tarfile.TarInfo("manifest.json")
        info.size = len(data)
        import io

        tar.addfile(info, io.BytesIO(data))
    with pytest.raises(LayerError, match="lacks Config or Layers"):
        analyse_image(str(path))


def test_cancel_stops_the_analysis(tmp_path: Path) -> None:
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        analyse_image(str(docker_archive(tmp_path / "c.tar", LAYERS)), cancel=token)
