"""The Layers screen on real archives and the real engine: picker, table, file tree, cancel, hints→review.

Hand-built `docker save` archives sit inside a real git repository whose Dockerfile made them, so the
layers map to its lines and hint proposals edit it. Engine tests build an image from the busybox base
of tests/layers (skipped without an engine, failing under CI=true). Snapshots: update with
`pytest tests/tui/test_layers_screen.py --snapshot-update`.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, OptionList, Static

from core.dockerfile import parse_dockerfile
from core.layers import analyse_image
from core.layers.model import Hint
from core.layers.propose import NoProposal, propose_for_hint
from tests.layers.archives import E, Img, docker_archive, file, layer_tar, multi_docker_archive
from tests.layers.conftest import WASTE_DOCKERFILE, engine_base, waste_image  # noqa: F401 (fixtures)
from tests.tui.helpers import wait_ready
from tui.app import DevopsApp
from tui.screens.layers import LayersScreen
from tui.screens.review import ReviewScreen
from tui.widgets.layers_files import LayerFilesTree, group_files

MakeRepo = Callable[..., Path]
SnapCompare = Callable[..., bool]

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


DOCKERFILE = (
    "FROM hand-base:1\n"  # 1
    "RUN apt-get update && apt-get install -y curl && pip install flask\n"  # 2
    "COPY app.bin /app/app.bin\n"  # 3
    "RUN chmod 600 /app/app.bin\n"  # 4
    "RUN rm -rf /tmp/build\n"  # 5
)
HISTORY = [
    "/bin/sh -c #(nop) ADD file:base in /",
    "/bin/sh -c apt-get update && apt-get install -y curl && pip install flask",
    "/bin/sh -c #(nop) COPY file:abc in /app/app.bin",
    "/bin/sh -c chmod 600 /app/app.bin",
    "/bin/sh -c rm -rf /tmp/build",
]
LAYERS = [
    layer_tar([E("bin", "d"), file("bin/sh", 1000, 0o755), E("etc", "d"), file("etc/passwd", 10)]),
    layer_tar([E("var/lib/apt/lists", "d"), file("var/lib/apt/lists/deb_Packages", 7000),
               file("root/.cache/pip/http/wheel", 900), file("usr/bin/curl", 3000),
               file("tmp/build/obj.o", 2000), E("usr/bin/curl-config", "l", link="curl")]),
    layer_tar([E("app", "d"), file("app/app.bin", 4000)]),
    layer_tar([E("app", "d"), file("app/app.bin", 4000, 0o600)]),
    layer_tar([E("tmp", "d"), E("tmp/.wh.build")]),
]


def _repo(make_repo: MakeRepo, dockerfile: str = DOCKERFILE) -> Path:
    root = make_repo({"Dockerfile": dockerfile, "README.md": "# app\n"})
    docker_archive(root / "sample.tar", LAYERS, HISTORY)
    return root


class StallingEngine:
    """A Docker engine API on 127.0.0.1 that lists one image, then streams half its `docker save`
    archive and stalls until `release()`: an analysis that stays running until it is cancelled."""

    TAG = "stall:1"

    def __init__(self, archive: bytes) -> None:
        self.archive = archive
        self.released = threading.Event()
        diff_ids = [f"sha256:{i:064x}" for i in range(len(LAYERS))]
        history = [{"CreatedBy": created, "Size": len(layer)} for created, layer in zip(HISTORY, LAYERS,
                                                                                        strict=True)]
        self.answers: dict[str, Any] = {
            "/version": {"ApiVersion": "1.45", "Version": "fake"},
            "/images/json": [{"Id": "sha256:" + "ab" * 32, "RepoTags": [self.TAG], "Created": 1,
                              "Size": len(archive)}],
            f"/images/{self.TAG}/json": {"Id": "sha256:" + "ab" * 32, "RepoTags": [self.TAG],
                                         "RootFS": {"Layers": diff_ids}, "Size": len(archive)},
            f"/images/{self.TAG}/history": list(reversed(history)),
        }
        engine = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = "/" + self.path.split("?")[0].split("/", 2)[-1] if self.path.startswith("/v1.") \
                    else self.path.split("?")[0]
                if path == "/_ping":
                    self._send(b"OK", "text/plain")
                elif path.endswith("/get"):
                    self.send_response(200)
                    self.send_header("Content-Type", "application/x-tar")
                    self.end_headers()
                    self.wfile.write(engine.archive[: len(engine.archive) // 2])
                    self.wfile.flush()
                    engine.released.wait(30)
                elif path in engine.answers:
                    self._send(json.dumps(engine.answers[path]).encode(), "application/json")
                else:
                    self.send_error(404)

            def _send(self, body: bytes, kind: str) -> None:
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"tcp://127.0.0.1:{self.server.server_address[1]}"

    def release(self) -> None:
        self.released.set()

    def close(self) -> None:
        self.release()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def stalling_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[StallingEngine]:
    engine = StallingEngine(docker_archive(tmp_path / "stall.tar", LAYERS, HISTORY).read_bytes())
    monkeypatch.setenv("DOCKER_HOST", engine.url)
    yield engine
    engine.close()


@pytest.fixture
def closed_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """DOCKER_HOST pointing at a unix socket nobody listens on."""
    path = tmp_path / "closed.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(path))
    sock.close()
    monkeypatch.setenv("DOCKER_HOST", f"unix://{path}")
    return path


async def _settle(pilot: Pilot[Any]) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def _open_screen(pilot: Pilot[Any]) -> LayersScreen:
    await wait_ready(pilot)
    await pilot.press("L")
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, LayersScreen)
    return screen


async def _analyse(pilot: Pilot[Any], target: str) -> LayersScreen:
    screen = await _open_screen(pilot)
    target_input = screen.query_one("#layers-target", Input)
    target_input.focus()
    target_input.value = target
    await pilot.press("enter")
    await _settle(pilot)
    return screen


def _table_column(screen: LayersScreen, table_id: str, column: int) -> list[str]:
    table = screen.query_one(table_id, DataTable)
    return [str(table.get_row_at(i)[column]) for i in range(table.row_count)]


# Archives (no engine needed) -----------------------------------------------------------------------


async def test_open_archive_path_fills_the_screen(make_repo: MakeRepo, closed_engine: Path) -> None:
    app = DevopsApp(_repo(make_repo))
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await _analyse(pilot, "sample.tar")
        assert screen.report is not None
        assert screen.query_one("#layers-table", DataTable).row_count == 5
        assert _table_column(screen, "#layers-table", 6) == ["", "2", "3", "4", "5"]  # Dockerfile lines
        assert "(base) ADD file:base in /" in _table_column(screen, "#layers-table", 7)[0]
        title = str(screen.query_one("#layers-title", Static).render())
        assert "sample.tar (docker-archive) · 5 layers" in title and str(app.root) not in title
        waste_paths = _table_column(screen, "#layers-waste", 1)
        assert waste_paths == ["/app/app.bin", "/tmp/build/obj.o"]
        assert "Efficiency" in str(screen.query_one("#layers-gauge").render())
        rules = [h.rule for h in screen.report.hints]
        assert {"apt-leftovers", "package-cache", "copy-up", "cleanup-later"} <= set(rules)
        text = getattr(app, "layer_report_text", "")
        assert "Biggest waste" in text and "apt-leftovers" in text


async def test_select_a_layer_shows_its_files(make_repo: MakeRepo, closed_engine: Path) -> None:
    app = DevopsApp(_repo(make_repo))
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await _analyse(pilot, "sample.tar")
        tree = screen.query_one(LayerFilesTree)
        assert tree.shown_layer == 1  # the first layer after the base
        assert "  var/  7.0 kB · 1 file" in tree.labels()  # no entry of its own: no mark
        table = screen.query_one("#layers-table", DataTable)
        table.focus()
        await pilot.press("down", "down", "down")
        await pilot.pause()
        assert tree.shown_layer == 4
        tmp = next(n for n in tree.root.children if str(n.label).startswith("  tmp/"))
        tmp.expand()
        await pilot.pause()
        assert [str(c.label) for c in tmp.children] == ["D build/  1 file"]
        build = tmp.children[0]
        build.expand()
        await pilot.pause()
        assert [str(c.label) for c in build.children] == ["D obj.o  2.0 kB"]
        await pilot.press("up")
        await pilot.pause()
        assert tree.shown_layer == 3
        for node in tree.root.children:
            node.expand()
        await pilot.pause()
        assert tree.labels()[1:] == ["  app/  4.0 kB · 1 file", "M app.bin  4.0 kB"]


async def test_missing_engine_is_explained_and_archives_still_work(
    make_repo: MakeRepo, closed_engine: Path
) -> None:
    app = DevopsApp(_repo(make_repo))
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await _open_screen(pilot)
        await _settle(pilot)
        message = str(screen.query_one("#layers-engine", Static).render())
        assert "cannot reach the Docker engine" in message and "Archives still work" in message
        assert not screen.query_one("#layers-images", OptionList).display
        screen.analyse("sample.tar")
        await _settle(pilot)
        assert screen.report is not None and len(screen.report.layers) == 5


async def test_preview_then_escape_cancels_a_running_analysis(
    make_repo: MakeRepo, stalling_engine: StallingEngine
) -> None:
    app = DevopsApp(_repo(make_repo))
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await _open_screen(pilot)
        await _wait(pilot, lambda: screen.query_one("#layers-images", OptionList).option_count == 1)
        await pilot.press("enter")  # the engine's only image is highlighted
        table = screen.query_one("#layers-table", DataTable)
        await _wait(pilot, lambda: table.row_count == 5)  # the engine's layer list, before any content
        assert screen.running and screen.report is None
        assert _table_column(screen, "#layers-table", 7)[1].startswith("RUN apt-get update")
        await _wait(pilot, lambda: "Reading stall:1" in screen.status.text)
        await pilot.press("escape")
        await pilot.pause()
        assert not screen.running and screen.report is None
        assert "cancelled" in screen.status.text
        assert isinstance(app.screen, LayersScreen)  # the first escape only cancels
        stalling_engine.release()
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, LayersScreen)


async def _wait(pilot: Pilot[Any], ready: Callable[[], bool], timeout: float = 10.0) -> None:
    waited = 0.0
    while not ready():
        assert waited < timeout, "the screen did not get there in time"
        await pilot.pause(0.05)
        waited += 0.05


async def test_bad_archive_gets_a_message(make_repo: MakeRepo, closed_engine: Path) -> None:
    root = make_repo({"Dockerfile": DOCKERFILE, "broken.tar": b"not a tar at all" * 100})
    app = DevopsApp(root)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await _analyse(pilot, "broken.tar")
        assert screen.report is None
        assert "not an image archive" in screen.status.text


async def test_hint_proposal_opens_review_and_applies(make_repo: MakeRepo, closed_engine: Path) -> None:
    root = _repo(make_repo)
    app = DevopsApp(root)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await _analyse(pilot, "sample.tar")
        assert screen.report is not None
        apt = next(i for i, h in enumerate(screen.report.hints) if h.rule == "apt-leftovers")
        hints = screen.query_one("#layers-hints", OptionList)
        screen.action_show_tab("layers-hints-tab")
        hints.focus()
        hints.highlighted = apt
        await pilot.press("enter")
        await pilot.pause()
        review = app.screen
        assert isinstance(review, ReviewScreen)
        assert review.proposal.paths == ("Dockerfile",)
        await pilot.press("ctrl+s")
        await _settle(pilot)
        assert review.result is not None
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, LayersScreen)
    lines = (root / "Dockerfile").read_text().splitlines()
    assert lines[1].endswith("pip install flask && rm -rf /var/lib/apt/lists/*")
    assert lines[0] == "FROM hand-base:1" and lines[2:] == DOCKERFILE.splitlines()[2:]


async def test_hint_without_edit_shows_its_advice(make_repo: MakeRepo, closed_engine: Path) -> None:
    app = DevopsApp(_repo(make_repo))
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await _analyse(pilot, "sample.tar")
        assert screen.report is not None
        cleanup = next(i for i, h in enumerate(screen.report.hints) if h.rule == "cleanup-later")
        hints = screen.query_one("#layers-hints", OptionList)
        hints.focus()
        hints.highlighted = cleanup
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, LayersScreen)
        notes = [n.message for n in app._notifications]
        assert any("same RUN that creates them" in n and "no automatic edit" in n for n in notes)


# Proposals as plain functions ----------------------------------------------------------------------


def _report_and_hints(root: Path) -> tuple[Any, dict[str, Hint]]:
    report = analyse_image(str(root / "sample.tar"), dockerfile=parse_dockerfile(DOCKERFILE), base_layers=1)
    hints = {("pip" if h.title.startswith("pip") else h.rule): h for h in report.hints}
    return report, hints


def test_pip_and_chmod_proposals(make_repo: MakeRepo) -> None:
    root = _repo(make_repo)
    report, hints = _report_and_hints(root)
    pip = propose_for_hint(root, "Dockerfile", report, hints["pip"]).edits[0].after
    assert pip is not None and b"pip install --no-cache-dir flask" in pip
    chmod = propose_for_hint(root, "Dockerfile", report, hints["copy-up"]).edits[0].after
    assert chmod is not None
    assert chmod.decode().splitlines() == ["FROM hand-base:1", DOCKERFILE.splitlines()[1],
                                           "COPY --chmod=600 app.bin /app/app.bin", "RUN rm -rf /tmp/build"]
    with pytest.raises(NoProposal, match="no automatic edit"):
        propose_for_hint(root, "Dockerfile", report, hints["cleanup-later"])
    with pytest.raises(NoProposal, match="pick the image's Dockerfile"):
        propose_for_hint(root, None, report, hints["pip"])


def test_chmod_that_is_not_plain_only_notes_copy_chmod(make_repo: MakeRepo) -> None:
    dockerfile = DOCKERFILE.replace("RUN chmod 600 /app/app.bin", "RUN chmod 600 /app/app.bin && sync")
    root = _repo(make_repo, dockerfile)
    report, hints = _report_and_hints(root)
    after = propose_for_hint(root, "Dockerfile", report, hints["copy-up"]).edits[0].after
    assert after is not None
    lines = after.decode().splitlines()
    assert lines[2].startswith("# devops-tui: line 4 copies these files up again") and "--chmod" in lines[2]
    assert lines[3:] == dockerfile.splitlines()[2:]


def test_stale_dockerfile_line_is_refused(make_repo: MakeRepo) -> None:
    root = _repo(make_repo)
    report, hints = _report_and_hints(root)
    (root / "Dockerfile").write_text("FROM hand-base:1\nENV A=1\n" + "\n".join(DOCKERFILE.splitlines()[1:]))
    with pytest.raises(NoProposal, match="analyse the image again"):
        propose_for_hint(root, "Dockerfile", report, hints["apt-leftovers"])


def test_group_files_sums_sizes_upwards(make_repo: MakeRepo) -> None:
    root = _repo(make_repo)
    report, _ = _report_and_hints(root)
    folder = group_files(report.layer_files(1))
    assert folder.size == 7000 + 900 + 3000 + 2000 and folder.count == 5
    assert folder.folders["var"].folders["lib"].size == 7000


# Snapshot ------------------------------------------------------------------------------------------


async def _loaded_without_picker(pilot: Pilot[Any]) -> None:
    await _analyse(pilot, "sample.tar")
    await pilot.press("p")
    await pilot.pause()


def test_snapshot_layers_screen(snap_compare: SnapCompare, make_repo: MakeRepo, closed_engine: Path) -> None:
    """Layer table with Dockerfile lines, gauge, layer 1's files; picker hidden (no engine state drawn)."""
    app = DevopsApp(_repo(make_repo))
    assert snap_compare(app, terminal_size=(130, 36), run_before=_loaded_without_picker)


async def test_archive_with_several_images_offers_each_in_the_picker(
        make_repo: MakeRepo, closed_engine: Path) -> None:
    root = make_repo({"Dockerfile": DOCKERFILE})
    base = layer_tar([file("bin/sh", 10)])
    web = Img(("web:1",), (base, layer_tar([file("srv/web", 300)])))
    worker = Img(("worker:2",), (base, layer_tar([file("srv/a", 5)]), layer_tar([E(".wh.bin")])))
    multi_docker_archive(root / "both.tar", [web, worker])
    app = DevopsApp(root)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await _analyse(pilot, "both.tar")
        assert screen.report is not None and len(screen.report.layers) == 2  # the first image, with a note
        assert any("2 images" in note for note in screen.report.notes)
        images = screen.query_one("#layers-images", OptionList)
        await _wait(pilot, lambda: images.option_count == 3)
        prompts = [str(images.get_option_at_index(i).prompt) for i in range(images.option_count)]
        assert prompts[0] == "In both.tar:" and images.get_option_at_index(0).disabled
        assert prompts[1].strip().startswith("web:1") and prompts[2].strip().startswith("worker:2")
        images.focus()
        images.highlighted = 2
        await pilot.press("enter")
        await _settle(pilot)
        report = screen.report
        assert report is not None and len(report.layers) == 3 and report.wasted_bytes == 10
        title = str(screen.query_one("#layers-title", Static).render())
        assert title.startswith("both.tar › worker:2 (docker-archive) · 3 layers")


# The engine --------------------------------------------------------------------------------------


@pytest.mark.docker
async def test_engine_image_from_the_picker(
    make_repo: MakeRepo, waste_image: tuple[str, Path]  # noqa: F811
) -> None:
    tag, _context = waste_image
    app = DevopsApp(make_repo({"Dockerfile": WASTE_DOCKERFILE}))
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await _open_screen(pilot)
        await _settle(pilot)
        images = screen.query_one("#layers-images", OptionList)
        names = [str(images.get_option_at_index(i).prompt).split("  ")[0] for i in range(images.option_count)]
        assert tag in names
        images.focus()
        images.highlighted = names.index(tag)
        await pilot.press("enter")
        await _settle(pilot)
        report = screen.report
        assert report is not None and report.source == "engine" and report.base_known
        assert screen.query_one("#layers-table", DataTable).row_count == len(report.layers) == 10
        apt = next(i for i, h in enumerate(report.hints) if h.rule == "apt-leftovers")
        assert report.hints[apt].dockerfile_line == 10
        hints = screen.query_one("#layers-hints", OptionList)
        hints.focus()
        hints.highlighted = apt
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ReviewScreen)
        after = app.screen.proposal.edits[0].after
        assert after is not None and after.decode().splitlines()[9].endswith("&& rm -rf /var/lib/apt/lists/*")
