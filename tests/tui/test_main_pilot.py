"""Drive the real app with Pilot on real git repositories: keys, mouse, palette, help, empty states."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from rich.text import Text
from textual.message import Message

from core.models import Severity
from tests.tui.helpers import DIRTY, SAMPLE_FILES, STAGED, UNTRACKED, wait_ready
from tui.app import DevopsApp
from tui.messages import DiscoveryFailed, DiscoveryStarted, FileOpened, IndexBuilt
from tui.screens.help import HelpScreen
from tui.screens.main import MainScreen
from tui.widgets.empty_state import EmptyState
from tui.widgets.file_view import MASK, FileView
from tui.widgets.infra_tree import EXPAND_LIMIT, FileEntry, GroupEntry, InfraTree

MakeRepo = Callable[..., Path]

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def sample_repo(make_repo: MakeRepo) -> Path:
    return make_repo(SAMPLE_FILES, dirty=DIRTY, untracked=UNTRACKED, staged=STAGED)


def tree_paths(app: DevopsApp) -> list[str]:
    tree = app.query_one(InfraTree)
    return [
        leaf.data.path
        for group in tree.root.children
        for leaf in group.children
        if isinstance(leaf.data, FileEntry)
    ]


async def test_tree_groups_files_in_order_with_git_badges(make_repo: MakeRepo) -> None:
    app = DevopsApp(sample_repo(make_repo))
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_ready(pilot)
        tree = app.query_one(InfraTree)
        groups = [g.data.name for g in tree.root.children if isinstance(g.data, GroupEntry)]
        assert groups == ["Docker", "Compose", "GitHub Actions", "GitLab CI", "Kubernetes", "Env", "Scripts"]
        assert "README.md" not in tree_paths(app)
        labels = {p: tree.node_for(p).label.plain for p in tree_paths(app)}  # type: ignore[union-attr]
        assert labels["docker-compose.yml"].startswith("M ")
        assert labels["Dockerfile.worker"].startswith("? ")
        assert labels["k8s/service.yaml"].startswith("A ")
        # a clean file has no git badge; the scan's finding count sits between name and folder
        assert labels["services/api/Dockerfile"].startswith("  Dockerfile ")
        assert labels["services/api/Dockerfile"].endswith("  services/api")
        assert app.title.startswith("repo")
        assert app.sub_title == "⎇ main"


async def test_keys_navigate_and_open_a_file(make_repo: MakeRepo) -> None:
    app = DevopsApp(sample_repo(make_repo))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_ready(pilot)
        assert app.focused is app.query_one(InfraTree)
        # Line 0 is the Docker group; its files sort by path: Dockerfile.worker, services/api/Dockerfile.
        await pilot.press("down", "down", "enter")
        view = app.query_one(FileView)
        assert view.path == "services/api/Dockerfile"
        assert "RUN pip install -r req.txt" in view.visible_text()
        assert view.line_count == 6
        assert not app.query_one("#file-empty").display


async def test_mouse_click_opens_a_file(make_repo: MakeRepo) -> None:
    app = DevopsApp(sample_repo(make_repo))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_ready(pilot)
        tree = app.query_one(InfraTree)
        line = tree.node_for("docker-compose.yml").line  # type: ignore[union-attr]
        assert await pilot.click(InfraTree, offset=(6, line))
        await pilot.pause()
        view = app.query_one(FileView)
        assert view.path == "docker-compose.yml"
        assert "restart: always" in view.visible_text()


async def test_palette_runs_commands_and_opens_files(make_repo: MakeRepo) -> None:
    app = DevopsApp(sample_repo(make_repo))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_ready(pilot)
        await pilot.press("ctrl+p")
        await pilot.press(*"toggle tree")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        assert app.screen.has_class("-tree-hidden")
        assert not app.query_one("#sidebar").display

        await pilot.press("ctrl+p")
        await pilot.press(*"open deploy.sh")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert app.query_one(FileView).path == "scripts/deploy.sh"


async def test_help_opens_lists_keys_and_closes(make_repo: MakeRepo) -> None:
    app = DevopsApp(sample_repo(make_repo))
    async with app.run_test(size=(100, 40)) as pilot:
        await wait_ready(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        keys = str(app.screen.query_one("#help-keys").render())
        for text in ("Tree", "Rescan", "Quit", "Command palette"):
            assert text in keys
        assert [line.split()[0] for line in keys.splitlines()].count("^p") == 1
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)


async def test_toggle_tree_moves_focus_and_back(make_repo: MakeRepo) -> None:
    app = DevopsApp(sample_repo(make_repo))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_ready(pilot)
        sidebar = app.query_one("#sidebar")
        assert sidebar.display and sidebar.size.width > 0
        await pilot.press("t")
        await pilot.pause()
        assert not sidebar.display
        assert isinstance(app.focused, FileView)
        assert app.query_one("#workspace").size.width == 80
        await pilot.press("t")
        await pilot.pause()
        assert sidebar.display


async def test_not_a_git_repository_says_so(make_folder: Callable[[dict[str, str]], Path]) -> None:
    app = DevopsApp(make_folder({"Dockerfile": "FROM alpine:3.19\n", "notes.txt": "x\n"}))
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_ready(pilot)
        assert app.sub_title == "not a git repository"
        assert "not a git repository" in app.main_screen.status.text
        assert tree_paths(app) == ["Dockerfile"]
        label = app.query_one(InfraTree).node_for("Dockerfile").label.plain  # type: ignore[union-attr]
        assert label.split()[0] == "Dockerfile"  # no git badge in front (a finding count may follow)


async def test_empty_repository_explains_what_is_recognised(make_repo: MakeRepo) -> None:
    app = DevopsApp(make_repo({"README.md": "# nothing to see\n", "src/main.py": "print(1)\n"}))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_ready(pilot)
        empty = app.query_one("#file-empty", EmptyState)
        assert empty.display
        assert "No infrastructure files found" in empty.text
        for name in ("Dockerfile", ".gitlab-ci.yml", "apiVersion", ".env"):
            assert name in empty.text
        assert app.main_screen.status.text.startswith("0 infrastructure files")
        assert not app.query_one("#sidebar").display


async def test_skipped_files_are_counted_and_explained(make_repo: MakeRepo) -> None:
    repo = make_repo({"Dockerfile": "FROM alpine:3.19\n", "values.yml": b"a: 1\0\x01\x02"})
    app = DevopsApp(repo)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_ready(pilot)
        assert "1 skipped" in app.main_screen.status.text
        await pilot.press("s")
        await pilot.pause()
        tree = app.query_one(InfraTree)
        assert tree.cursor_node is not None and tree.cursor_node.data == GroupEntry("Skipped")
        await pilot.press("down", "enter")
        await pilot.pause()
        empty = app.query_one("#file-empty", EmptyState)
        assert "values.yml" in empty.text and "binary" in empty.text


async def test_env_values_are_masked_until_revealed(make_repo: MakeRepo) -> None:
    app = DevopsApp(sample_repo(make_repo))
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_ready(pilot)
        assert app.main_screen.open_file(".env")
        await pilot.pause()
        view = app.query_one(FileView)
        assert "hunter2" not in view.visible_text()
        assert f"DATABASE_URL={MASK}" in view.visible_text()
        assert "# local only" in view.visible_text()
        await pilot.press("f", "v")
        await pilot.pause()
        assert "hunter2" in view.visible_text()
        # Opening another file and coming back masks again.
        app.main_screen.open_file("docker-compose.yml")
        app.main_screen.open_file(".env")
        await pilot.pause()
        assert "hunter2" not in view.visible_text()


async def test_open_file_marks_and_scrolls_to_a_line(make_repo: MakeRepo) -> None:
    long_script = "#!/bin/sh\n" + "".join(f"echo line {n}\n" for n in range(2, 301))
    app = DevopsApp(make_repo({"scripts/long.sh": long_script}))
    opened: list[Message] = []
    async with app.run_test(size=(100, 30), message_hook=opened.append) as pilot:
        await wait_ready(pilot)
        assert app.main_screen.open_file("scripts/long.sh", line=250)
        await pilot.pause()
        view = app.query_one(FileView)
        assert view.marked_line == 250
        assert view.scroll_offset.y < 249 < view.scroll_offset.y + view.size.height
        assert any(isinstance(m, FileOpened) and m.line == 250 for m in opened)
        assert not app.main_screen.open_file("missing.yml")


async def test_finding_counts_render_on_files_and_groups(make_repo: MakeRepo) -> None:
    app = DevopsApp(sample_repo(make_repo))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_ready(pilot)
        tree = app.query_one(InfraTree)
        counts = {"services/api/Dockerfile": (3, Severity.HIGH), "Dockerfile.worker": (1, Severity.LOW)}
        tree.set_counts(counts)
        await pilot.pause()
        node = tree.node_for("services/api/Dockerfile")
        assert node is not None and isinstance(node.label, Text)
        assert " 3 " in node.label.plain
        assert "bold red" in str(node.label.spans[-2].style)
        docker = tree.root.children[0]
        assert str(docker.label) == "Docker (2)  4 "
        tree.set_counts({})
        assert " 3 " not in str(tree.node_for("services/api/Dockerfile").label)  # type: ignore[union-attr]


async def test_discovery_messages_and_rescan_reuse_parses(make_repo: MakeRepo) -> None:
    repo = sample_repo(make_repo)
    seen: list[Message] = []
    app = DevopsApp(repo)
    async with app.run_test(size=(120, 40), message_hook=seen.append) as pilot:
        await wait_ready(pilot)
        # The hook sees a message at the screen and again where it bubbles to the app.
        built = [m for m in seen if isinstance(m, IndexBuilt)]
        assert len({id(m) for m in built}) == 1 and built[0].index is app.index
        assert len(built) == 2
        first = next(m for m in seen if isinstance(m, DiscoveryStarted | IndexBuilt))
        assert isinstance(first, DiscoveryStarted)
        (repo / "deploy").mkdir()
        (repo / "deploy" / "Dockerfile").write_text("FROM alpine:3.19\n")
        misses = app.parse_cache.misses
        await pilot.press("r")
        await wait_ready(pilot)
        assert "deploy/Dockerfile" in tree_paths(app)
        assert app.parse_cache.hits >= len(SAMPLE_FILES)
        assert app.parse_cache.misses - misses <= 2


async def test_discovery_failure_is_shown_not_raised(tmp_path: Path) -> None:
    seen: list[Message] = []
    app = DevopsApp(tmp_path / "gone")
    async with app.run_test(size=(100, 30), message_hook=seen.append) as pilot:
        await wait_ready(pilot)
        assert any(isinstance(m, DiscoveryFailed) for m in seen)
        assert "Discovery failed" in app.main_screen.status.text
        assert "no such file or directory" in app.query_one("#file-empty", EmptyState).text


async def test_large_group_starts_collapsed_and_fills_on_expand(make_repo: MakeRepo) -> None:
    scripts = {f"svc{n:03}/run.sh": f"#!/bin/sh\necho {n}\n" for n in range(EXPAND_LIMIT + 5)}
    app = DevopsApp(make_repo({**scripts, "Dockerfile": "FROM alpine:3.19\n"}))
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_ready(pilot)
        tree = app.query_one(InfraTree)
        assert tree.file_count == EXPAND_LIMIT + 6
        group = next(n for n in tree.root.children if n.data == GroupEntry("Scripts"))
        assert not group.is_expanded and not group.children
        assert str(group.label) == f"Scripts ({EXPAND_LIMIT + 5})"
        tree.set_counts({"svc007/run.sh": (2, Severity.MEDIUM)})
        assert str(group.label).endswith(" 2 ")
        tree.move_cursor(group)
        await pilot.press("space")
        await pilot.pause()
        assert group.is_expanded and len(group.children) == EXPAND_LIMIT + 5
        assert " 2 " in str(tree.node_for("svc007/run.sh").label)
