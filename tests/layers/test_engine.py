"""Real images from a real engine: exact waste, read from the engine, a `docker save` archive and an
OCI layout made by skopeo, and all three must agree."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from core.dockerfile import parse_dockerfile
from core.layers import LayerError, LayerReport, WasteCause, analyse_image
from core.layers.engine import EnginePreview, engine_client, inspect_engine_image, list_engine_images
from tests.layers.conftest import docker

pytestmark = pytest.mark.docker

EXPECTED_EVENTS = {
    ("/data/big", 50000, 1, 2, WasteCause.DELETED),
    ("/cache/a", 20000, 3, 4, WasteCause.DELETED),
    ("/cache/b", 10000, 3, 4, WasteCause.DELETED),
    ("/app/app.bin", 40000, 5, 6, WasteCause.COPY_UP_CHMOD),
    ("/etc/conf", 4, 7, 8, WasteCause.OVERWRITTEN),
}
WASTED = 50000 + 30000 + 40000 + 4


def _fingerprint(report: LayerReport) -> tuple[object, ...]:
    layers = tuple(
        (layer.instruction, layer.content_bytes, layer.files_added, layer.files_modified, layer.files_removed,
         layer.bytes_removed, layer.obsolete_later_bytes, layer.hid_bytes, layer.dockerfile_line)
        for layer in report.layers
    )
    events = sorted((e.path, e.bytes, e.written_by, e.hidden_by, e.cause) for e in report.events)
    return layers, tuple(events), report.content_bytes, report.visible_bytes


def test_waste_is_exact_from_engine_archive_and_oci(waste_image: tuple[str, Path], tmp_path: Path) -> None:
    tag, dockerfile_path = waste_image
    dockerfile = parse_dockerfile(dockerfile_path.read_text())
    from_engine = analyse_image(tag, dockerfile=dockerfile, dive=True)
    assert from_engine.source == "engine"
    events = {(e.path, e.bytes, e.written_by, e.hidden_by, e.cause) for e in from_engine.events}
    assert events == EXPECTED_EVENTS
    assert from_engine.wasted_bytes == WASTED
    assert from_engine.base_known and from_engine.base_layers == 1  # FROM image found in the engine
    assert [layer.dockerfile_line for layer in from_engine.layers] == [None, *range(2, 11)]
    assert from_engine.layers[6].instruction == "RUN chmod 600 /app/app.bin"
    assert from_engine.user_wasted_percent == pytest.approx(WASTED / from_engine.user_content_bytes)
    # dive misses the rm -rf'd directory and counts the surviving /etc/conf and /app/app.bin copies
    assert from_engine.dive is not None
    assert from_engine.dive.wasted_bytes == 50000 + 80000 + 4 + 7
    rules = {h.rule: h for h in from_engine.hints}
    assert rules["copy-up"].layer == 6 and rules["copy-up"].dockerfile_line == 7
    assert rules["apt-leftovers"].bytes == 7000 and rules["apt-leftovers"].dockerfile_line == 10

    archive = tmp_path / "waste.tar"
    docker("save", "-o", str(archive), tag)
    from_archive = analyse_image(str(archive), dockerfile=dockerfile, base_layers=1)
    assert _fingerprint(from_archive) == _fingerprint(from_engine)

    if shutil.which("skopeo") is None:
        pytest.skip("skopeo is not installed")
    layout = tmp_path / "oci"
    subprocess.run(["skopeo", "copy", "--quiet", f"docker-archive:{archive}", f"oci:{layout}:latest"],
                   check=True, capture_output=True)
    from_oci = analyse_image(str(layout), dockerfile=dockerfile, base_layers=1)
    assert from_oci.source == "oci-dir"
    assert _fingerprint(from_oci) == _fingerprint(from_engine)


def test_opaque_marker_or_whiteout_frees_the_directory(waste_image: tuple[str, Path]) -> None:
    report = analyse_image(waste_image[0])
    layer = report.layers[4]  # RUN rm -rf /cache && mkdir /cache
    assert (layer.files_removed, layer.bytes_removed, layer.hid_bytes) == (2, 30000, 30000)


def test_multistage_image_has_no_waste(multistage_image: str) -> None:
    report = analyse_image(multistage_image)
    assert len(report.layers) == 2
    assert report.wasted_bytes == 0 and report.efficiency == 1.0
    assert report.layers[1].content_bytes == len("built\n")
    assert report.layers[1].instruction.startswith("COPY ")


def test_engine_preview_lists_layers_before_content(waste_image: tuple[str, Path]) -> None:
    api = engine_client()
    preview = inspect_engine_image(api, waste_image[0])
    assert len(preview.diff_ids) == 10
    assert any(name == waste_image[0] for name, _id, _size in list_engine_images(api))
    seen: list[EnginePreview] = []
    report = analyse_image(waste_image[0], on_preview=seen.append)
    assert seen == [preview] and len(report.layers) == len(preview.diff_ids)


def test_unknown_image_is_a_clear_error(engine_base: str) -> None:
    with pytest.raises(LayerError, match="not in the local Docker engine"):
        analyse_image("dtui-test-does-not-exist:0")
