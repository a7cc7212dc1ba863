"""The duplicates tab driven with Pilot on real repositories: ranked groups, copies with their varying
values highlighted and secrets masked, tree badges, and "propose abstraction" through the review
screen (or the reason none is offered)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.secrets.planted import PLANTED
from tests.tui.helpers import notices, open_panel, screen_text, settle, wait_scanned
from tui.app import DevopsApp
from tui.screens.review import ReviewScreen
from tui.widgets.dupes_panel import VARYING_STYLE, CopyView, DupesPanel
from tui.widgets.infra_tree import InfraTree

MakeRepo = Callable[..., Path]
SnapCompare = Callable[..., bool]

pytestmark = pytest.mark.anyio

GITHUB_PAT = next(value for detector, value, _ in PLANTED if detector == "github-pat")


def workflow(name: str, version: str, requirements: str) -> str:
    return f"""name: {name}
on: push
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - name: Set up Python
        uses: actions/setup-python@v5
        with:
          python-version: "{version}"
          cache: pip
      - name: Install
        run: |
          python -m pip install --upgrade pip
          pip install -r {requirements}
      - run: pytest -q
"""


#: Three copy-pasted workflows (a job group and a step group) and an .env copied from .env.example.
DUPES_FILES: dict[str, str] = {
    ".github/workflows/admin.yml": workflow("admin", "3.12", "admin/requirements.txt"),
    ".github/workflows/api.yml": workflow("api", "3.12", "api/requirements.txt"),
    ".github/workflows/web.yml": workflow("web", "3.11", "web/requirements.txt"),
    ".env": "DB_HOST=db\nDB_PORT=5432\nDB_USER=app\nDB_NAME=app\nLOG_LEVEL=debug\n"
    f"GITHUB_TOKEN={GITHUB_PAT}\n",
    ".env.example": "DB_HOST=db\nDB_PORT=5432\nDB_USER=app\nDB_NAME=app\nLOG_LEVEL=info\nGITHUB_TOKEN=\n",
}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def panel_of(app: DevopsApp) -> DupesPanel:
    return app.main_screen.query_one(DupesPanel)


async def choose(pilot: Pilot[Any], category: str) -> None:
    """Open the duplicates tab and highlight the group of `category`."""
    panel = await open_panel(pilot, "D", DupesPanel)
    categories = [c.category for c in panel.clusters]
    assert category in categories, categories
    panel.query_one("#dupes-list").highlighted = categories.index(category)  # type: ignore[attr-defined]
    await pilot.pause()


async def test_groups_ranked_with_copies_highlighted_and_tree_badges(make_repo: MakeRepo) -> None:
    app = DevopsApp(make_repo(DUPES_FILES))
    async with app.run_test(size=(140, 44)) as pilot:
        await wait_scanned(pilot)
        panel = panel_of(app)
        saved = [c.lines_saved for c in panel.clusters]
        assert saved == sorted(saved, reverse=True) and len(saved) == len(app.clusters) >= 3
        await choose(pilot, "gha-steps")
        copies = list(panel.query(CopyView))
        assert [c.occurrence.path for c in copies] == [
            ".github/workflows/admin.yml", ".github/workflows/api.yml", ".github/workflows/web.yml"]
        web = copies[2].body
        highlighted = {web.plain[s.start:s.end] for s in web.spans if str(s.style) == VARYING_STYLE}
        assert highlighted == {"3.11", "web/requirements.txt"}
        tree = app.query_one(InfraTree)
        label = tree.node_for(".github/workflows/web.yml").label.plain  # type: ignore[union-attr]
        assert "⧉" in label
        await pilot.press("tab")
        assert isinstance(app.focused, CopyView)
        await pilot.press("enter")
        await pilot.pause()
        view = app.main_screen.file_view
        assert (view.path, view.marked_line) == (".github/workflows/admin.yml", 7)


async def test_env_copies_are_shown_masked(make_repo: MakeRepo) -> None:
    app = DevopsApp(make_repo(DUPES_FILES))
    async with app.run_test(size=(140, 44)) as pilot:
        await wait_scanned(pilot)
        await choose(pilot, "env-keys")
        shown = screen_text(app)
        assert "DB_HOST=" in shown and "GITHUB_TOKEN=" in shown
        assert GITHUB_PAT[4:-4] not in shown and "5432" not in shown


async def test_propose_abstraction_applies_and_the_group_disappears(make_repo: MakeRepo) -> None:
    root = make_repo(DUPES_FILES)
    app = DevopsApp(root)
    async with app.run_test(size=(140, 44)) as pilot:
        await wait_scanned(pilot)
        await choose(pilot, "gha-steps")
        await pilot.press("p")
        await settle(pilot)
        review = app.screen
        assert isinstance(review, ReviewScreen)
        created = [p for p in review.proposal.paths if p.endswith("action.yml")]
        assert len(created) == 1
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press("escape")
        await wait_scanned(pilot)
        assert (root / created[0]).is_file()
        assert "uses: ./" + created[0].rsplit("/", 1)[0] in (root / ".github/workflows/web.yml").read_text()
        assert "gha-steps" not in [c.category for c in app.clusters]


async def test_group_without_an_automatic_abstraction_says_why(make_repo: MakeRepo) -> None:
    root = make_repo(DUPES_FILES)
    app = DevopsApp(root)
    async with app.run_test(size=(140, 44)) as pilot:
        await wait_scanned(pilot)
        await choose(pilot, "env-keys")
        await pilot.press("p")
        await settle(pilot)
        assert not isinstance(app.screen, ReviewScreen)
        assert any(n.startswith("No abstraction offered") for n in notices(app))
        assert (root / ".github/workflows/web.yml").read_text() == DUPES_FILES[".github/workflows/web.yml"]


class TestDuplicatesView:
    def test_duplicates_view(self, snap_compare: SnapCompare, make_repo: MakeRepo) -> None:
        """Groups ranked by lines saved; the step group's three copies, 3.11 and web/… highlighted."""

        async def run_before(pilot: Pilot[Any]) -> None:
            await wait_scanned(pilot)
            await choose(pilot, "gha-steps")

        assert snap_compare(DevopsApp(make_repo(DUPES_FILES)), terminal_size=(130, 44), run_before=run_before)
