"""Archives and OCI layouts holding several images: the default, choosing one by name or id, clear errors
for a choice that matches none, `--list`; hand-built and from a real `docker save a b` and skopeo."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from core.layers import LayerError, analyse_image
from core.layers.archive_images import normalise_ref
from core.layers.sources import list_images
from tests.layers.archives import Img, file, layer_tar, multi_docker_archive, multi_oci_archive, multi_oci_dir
from tests.layers.conftest import docker

BASE = layer_tar([file("bin/sh", 1000)])
A = Img(("registry.example.com/team/a:1",), (BASE, layer_tar([file("a", 10)])), ("ADD base", "RUN make a"))
B = Img(("b:latest", "b:2"), (BASE, layer_tar([file("b", 200)]), layer_tar([file("b2", 3000)])))
C = Img((), (BASE, layer_tar([file("c", 40000)])))


def _config_hex(archive: Path, index: int) -> str:
    with tarfile.open(archive) as tar:
        member = tar.extractfile("manifest.json")
        assert member is not None
        return str(json.load(member)[index]["Config"]).removesuffix(".json").rsplit("/", 1)[-1]


def test_reference_normalisation() -> None:
    assert normalise_ref("b") == "b:latest"
    assert normalise_ref("docker.io/library/b:2") == "b:2"
    assert normalise_ref("docker.io/user/b") == "user/b:latest"
    assert normalise_ref("localhost:5000/b") == "localhost:5000/b:latest"
    assert normalise_ref("b@sha256:abc") == "b@sha256:abc"


def test_docker_archive_default_is_first_with_a_note(tmp_path: Path) -> None:
    archive = multi_docker_archive(tmp_path / "x.tar", [A, B, C])
    report = analyse_image(str(archive))
    assert report.content_bytes == 1010
    [note] = [n for n in report.notes if "images" in n]
    assert "holds 3 images" in note and "analysed registry.example.com/team/a:1" in note
    assert "b:latest" in note and "sha256:" in note and "pick one by name or an id prefix" in note
    assert report.images[0].label == "registry.example.com/team/a:1" and len(report.images) == 3


@pytest.mark.parametrize("wanted", ["b:2", "b", "b:latest", "docker.io/library/b:2"])
def test_docker_archive_choose_by_tag(tmp_path: Path, wanted: str) -> None:
    report = analyse_image(str(multi_docker_archive(tmp_path / "x.tar", [A, B, C])), image=wanted)
    assert (len(report.layers), report.content_bytes) == (3, 1000 + 200 + 3000)
    assert any("analysed b:latest, one of the 3 images" in n for n in report.notes)


def test_docker_archive_choose_by_id_prefix_and_full_name(tmp_path: Path) -> None:
    archive = multi_docker_archive(tmp_path / "x.tar", [A, B, C])
    config = _config_hex(archive, 2)
    assert analyse_image(str(archive), image=config[:12]).content_bytes == 41000
    assert analyse_image(str(archive), image=f"sha256:{config}").content_bytes == 41000
    assert analyse_image(str(archive), image="registry.example.com/team/a:1").content_bytes == 1010


def test_a_choice_that_matches_none_lists_the_images(tmp_path: Path) -> None:
    archive = multi_docker_archive(tmp_path / "x.tar", [A, B, C])
    with pytest.raises(LayerError, match=r"holds no image 'a:1'; it holds registry.example.com/team/a:1, "
                                         r"b:latest, sha256:[0-9a-f]{12}$"):
        analyse_image(str(archive), image="a:1")  # the registry is part of the name
    with pytest.raises(LayerError, match="holds no image 'abc'"):
        analyse_image(str(archive), image="abc")  # too short for an id, not a tag either
    single = multi_docker_archive(tmp_path / "one.tar", [B])
    with pytest.raises(LayerError, match="holds no image 'c:1'; it holds b:latest"):
        analyse_image(str(single), image="c:1")


def test_a_choice_matching_several_is_an_error(tmp_path: Path) -> None:
    twin = Img(("b:2",), (BASE,))
    archive = multi_docker_archive(tmp_path / "x.tar", [B, twin])
    with pytest.raises(LayerError, match="'b:2' matches 2 images"):
        analyse_image(str(archive), image="b:2")


def test_single_image_archive_has_no_note(tmp_path: Path) -> None:
    report = analyse_image(str(multi_docker_archive(tmp_path / "x.tar", [B])))
    assert not [n for n in report.notes if "images" in n]


def test_docker25_oci_archive_by_name_and_manifest_digest(tmp_path: Path) -> None:
    archive = multi_oci_archive(tmp_path / "x.tar", [A, B])
    assert analyse_image(str(archive)).content_bytes == 1010
    report = analyse_image(str(archive), image="b:2")
    assert report.source == "oci-archive" and report.content_bytes == 4200
    images = list_images(archive)
    assert [i.names for i in images] == [A.names, B.names]
    manifest_digest = images[1].ids[1]  # after the config digest
    assert analyse_image(str(archive), image=manifest_digest[7:19]).content_bytes == 4200


def test_oci_index_without_manifest_json(tmp_path: Path) -> None:
    archive = multi_oci_archive(tmp_path / "x.tar", [A, B], docker_manifest=False)
    images = list_images(archive)
    assert [i.label for i in images] == ["registry.example.com/team/a:1", "b:latest"]
    assert set(images[1].names) == {"b:latest", "latest", "b:2", "2"}  # one descriptor per name
    assert analyse_image(str(archive), image="b").content_bytes == 4200
    report = analyse_image(str(archive))
    assert report.content_bytes == 1010 and any("holds 2 images" in n for n in report.notes)


def test_oci_dir_with_tags(tmp_path: Path) -> None:
    root = tmp_path / "layout"
    root.mkdir()
    multi_oci_dir(root, [Img(("v1",), A.layers), Img(("v2",), B.layers)])
    assert analyse_image(str(root), image="v2").content_bytes == 4200
    with pytest.raises(LayerError, match="holds no image 'v3'; it holds v1, v2"):
        analyse_image(str(root), image="v3")
    assert [i.label for i in list_images(root)] == ["v1", "v2"]


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    return subprocess.run([sys.executable, "-m", "tui.cli", "layers", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def test_cli_list_and_image(tmp_path: Path) -> None:
    archive = multi_docker_archive(tmp_path / "x.tar", [A, B, C])
    listed = _cli(str(archive), "--list", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert "holds 3 images" in listed.stdout and "b:latest" in listed.stdout and "(also b:2)" in listed.stdout
    assert "3 layers" in listed.stdout and "--image" in listed.stdout
    default = _cli(str(archive), cwd=tmp_path)  # the text report says how to pick another image
    assert default.returncode == 0
    assert "3 images in this archive: --list shows them, --image NAME" in default.stdout
    as_json = json.loads(_cli(str(archive), "--list", "--json", cwd=tmp_path).stdout)
    assert [i["layers"] for i in as_json] == [2, 3, 2]
    chosen = _cli(str(archive), "--image", "b:2", "--json", cwd=tmp_path)
    assert chosen.returncode == 0 and json.loads(chosen.stdout)["content_bytes"] == 4200
    wrong = _cli(str(archive), "--image", "zzz", cwd=tmp_path)
    assert wrong.returncode == 2 and "holds no image 'zzz'" in wrong.stderr
    assert "Traceback" not in wrong.stderr
    missing = _cli(str(tmp_path / "nope.tar"), "--list", cwd=tmp_path)
    assert missing.returncode == 2 and "--list needs an archive" in missing.stderr


@pytest.mark.docker
def test_real_docker_save_of_two_images(engine_base: str, multistage_image: str, tmp_path: Path) -> None:
    archive = tmp_path / "two.tar"
    docker("save", "-o", str(archive), engine_base, multistage_image)
    alone = analyse_image(multistage_image)
    chosen = analyse_image(str(archive), image=multistage_image)
    assert [(layer.digest, layer.content_bytes) for layer in chosen.layers] == \
        [(layer.digest, layer.content_bytes) for layer in alone.layers]
    image_id = docker("image", "inspect", "--format", "{{.Id}}", multistage_image).strip()
    assert analyse_image(str(archive), image=image_id[7:17]).content_bytes == alone.content_bytes
    default = analyse_image(str(archive))
    assert any("holds 2 images" in n for n in default.notes) and len(default.images) == 2
    assert len(chosen.images) == 2  # a chosen image's report still names the archive's others
    assert {i.label for i in list_images(archive)} == {engine_base, multistage_image}

    if shutil.which("skopeo") is None:
        pytest.skip("skopeo is not installed")
    layout = tmp_path / "oci"
    for tag, image in (("base", engine_base), ("multi", multistage_image)):
        single = tmp_path / f"{tag}.tar"
        docker("save", "-o", str(single), image)
        subprocess.run(["skopeo", "copy", "--quiet", f"docker-archive:{single}", f"oci:{layout}:{tag}"],
                       check=True, capture_output=True)
    from_oci = analyse_image(str(layout), image="multi")
    assert from_oci.content_bytes == alone.content_bytes and len(from_oci.layers) == len(alone.layers)
    with pytest.raises(LayerError, match="it holds base, multi"):
        analyse_image(str(layout), image="other")
