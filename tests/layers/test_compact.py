"""The compact encodings behave like the plain objects they replace: layer content stored as parallel
arrays, waste events built without the dataclass __init__, hard-link identities given on demand."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import pytest

from core.layers import WasteCause, WasteEvent, analyse_image
from core.layers.content import MetaInterner, read_layer
from core.layers.hints import _HINTED_ROOTS, hinted_files
from core.layers.replay import Dir, walk_files
from core.layers.streams import FileStream
from tests.layers.archives import E, docker_archive, file, layer_tar


def test_layer_content_round_trips_paths_kinds_and_links() -> None:
    tar = layer_tar([E("./usr", "d"), E("./usr/bin/", "d"), file("./usr/bin/tool", 30, 0o755),
                     file("/top", 5, uid=7), E("usr/bin/ln", "l", link="tool"), E("usr/h", "h", link="top"),
                     E("usr/.wh.old"), E("usr/bin/.wh..wh..opq")])
    content = read_layer(FileStream(io.BytesIO(tar)), "k", "layer", MetaInterner())
    assert list(content.entries()) == [
        ("usr", "d", 0, (0o755, 0, 0), ""),
        ("usr/bin", "d", 0, (0o755, 0, 0), ""),
        ("usr/bin/tool", "f", 30, (0o755, 0, 0), ""),
        ("top", "f", 5, (0o644, 7, 0), ""),
        ("usr/bin/ln", "l", 0, (0o644, 0, 0), "tool"),
        ("usr/h", "h", 0, (0o644, 0, 0), "top"),
    ]
    assert (content.whiteouts, content.opaques) == (["usr/old"], ["usr/bin"])
    assert content.path(2) == "/usr/bin/tool" and content.content_bytes == 35
    assert content.dirs.count("/usr/bin/") == 1  # each directory string is stored once


def test_events_are_real_frozen_waste_events(tmp_path: Path) -> None:
    base = layer_tar([file("a", 10), file("b", 20, 0o600), file("c", 30)])
    middle = layer_tar([E(".wh.a"), file("b", 20, 0o644), E("h", "h", link="c")])
    top = layer_tar([E(".wh.c")])
    report = analyse_image(str(docker_archive(tmp_path / "img.tar", [base, middle, top])))
    events = sorted(report.events, key=lambda e: e.path)
    assert events == [WasteEvent("/a", 10, 0, 1, WasteCause.DELETED),
                      WasteEvent("/b", 20, 0, 1, WasteCause.COPY_UP_CHMOD)]
    assert len(set(events)) == 2  # hashable, equal by value
    with pytest.raises(dataclasses.FrozenInstanceError):
        events[0].bytes = 1  # type: ignore[misc]
    assert dataclasses.asdict(events[0])["path"] == "/a"
    assert report.visible_bytes == 20 + 30  # /c is gone but its hard link /h still holds its bytes
    changed = {(f.path, f.change.value) for f in report.layer_files(1)}
    assert changed == {("/a", "D"), ("/b", "M"), ("/h", "A")}
    assert [(f.path, f.change.value) for f in report.layer_files(2)] == [("/c", "D")]


def test_each_copy_up_cause_is_named(tmp_path: Path) -> None:
    base = layer_tar([E("d", "d"), file("d/mode", 10), file("d/owner", 20), file("d/touch", 30),
                      file("d/grown", 40), file("d/empty", 0)])
    top = layer_tar([file("d/mode", 10, 0o600), file("d/owner", 20, uid=1000), file("d/touch", 30),
                     file("d/grown", 41), file("d/empty", 0, 0o600)])
    report = analyse_image(str(docker_archive(tmp_path / "img.tar", [base, top])))
    assert {e.path: (e.bytes, e.cause) for e in report.events} == {
        "/d/mode": (10, WasteCause.COPY_UP_CHMOD),
        "/d/owner": (20, WasteCause.COPY_UP_CHOWN),
        "/d/touch": (30, WasteCause.COPY_UP_TOUCH),
        "/d/grown": (40, WasteCause.OVERWRITTEN),
    }
    assert (report.layers[1].files_modified, report.layers[1].bytes_modified) == (5, 10 + 20 + 30 + 41)


def test_hinted_files_hold_every_path_a_hint_may_match(tmp_path: Path) -> None:
    paths = ["usr/bin/gcc", "var/lib/apt/lists/x_Packages", "app/.git/config", "app/repo.git/HEAD",
             "opt/tool", "home/me/.cache/pip/wheel", "root/.npm/_cacache/a", "top", "srv/usr/bin/gcc"]
    tar = layer_tar([file(p, 3) for p in paths])
    report = analyse_image(str(docker_archive(tmp_path / "img.tar", [layer_tar([file("base", 1)]), tar])))
    assert isinstance(report.tree, Dir)
    every = {path for path, _node in walk_files(report.tree)}
    wanted = {path for path in every if path.startswith(_HINTED_ROOTS) or ".git/" in path}
    hinted = {path for path, _node in hinted_files(report.tree)}
    assert wanted <= hinted and "/opt/tool" not in hinted and "/srv/usr/bin/gcc" not in hinted
    assert len(wanted) == 6
    rules = {hint.rule for hint in report.hints}
    assert {"build-tools", "apt-leftovers", "package-cache"} <= rules
