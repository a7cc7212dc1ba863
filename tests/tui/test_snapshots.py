"""Snapshots of the main and help screens; update with `pytest tests/tui --snapshot-update`.

Repositories are built in fixed-name folders (repo0, folder) and only repo-relative paths are drawn,
so the pictures do not change between runs.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from tests.tui.helpers import DIRTY, SAMPLE_FILES, STAGED, UNTRACKED, wait_ready
from tui.app import DevopsApp

SnapCompare = Callable[..., bool]
MakeRepo = Callable[..., Path]


def sample(make_repo: MakeRepo) -> DevopsApp:
    return DevopsApp(make_repo(SAMPLE_FILES, dirty=DIRTY, untracked=UNTRACKED, staged=STAGED))


async def ready(pilot: Pilot[Any]) -> None:
    await wait_ready(pilot)


async def open_dockerfile(pilot: Pilot[Any]) -> None:
    await wait_ready(pilot)
    app = pilot.app
    assert isinstance(app, DevopsApp)
    app.main_screen.open_file("services/api/Dockerfile", line=4)
    await pilot.pause()


class TestMainScreen:
    def test_several_kinds(self, snap_compare: SnapCompare, make_repo: MakeRepo) -> None:
        """Tree grouped by kind with M/?/A badges, a Dockerfile open with line 4 marked."""
        assert snap_compare(sample(make_repo), terminal_size=(120, 34), run_before=open_dockerfile)

    def test_no_infra_files(self, snap_compare: SnapCompare, make_repo: MakeRepo) -> None:
        """The empty state lists the files devops-tui recognises."""
        app = DevopsApp(make_repo({"README.md": "# docs\n", "src/app.py": "print(1)\n"}))
        assert snap_compare(app, terminal_size=(100, 30), run_before=ready)

    def test_not_a_git_repository(
        self, snap_compare: SnapCompare, make_folder: Callable[[dict[str, str]], Path]
    ) -> None:
        """Header and status say 'not a git repository'; no git badges."""
        files = {"Dockerfile": "FROM alpine:3.19\n", "deploy.sh": "#!/bin/sh\necho hi\n"}
        app = DevopsApp(make_folder(files))
        assert snap_compare(app, terminal_size=(100, 24), run_before=ready)

    def test_narrow_80x24(self, snap_compare: SnapCompare, make_repo: MakeRepo) -> None:
        """At 80 columns the tree keeps 28 columns and the file view the rest."""
        assert snap_compare(sample(make_repo), terminal_size=(80, 24), run_before=open_dockerfile)

    def test_wide_200x60(self, snap_compare: SnapCompare, make_repo: MakeRepo) -> None:
        """At 200 columns the tree shows full folder names."""
        assert snap_compare(sample(make_repo), terminal_size=(200, 60), run_before=open_dockerfile)

    def test_tree_hidden(self, snap_compare: SnapCompare, make_repo: MakeRepo) -> None:
        """`t` gives the file view the full width."""
        app = sample(make_repo)
        assert snap_compare(app, terminal_size=(80, 24), press=["t"], run_before=open_dockerfile)


class TestHelpScreen:
    def test_help(self, snap_compare: SnapCompare, make_repo: MakeRepo) -> None:
        """The help modal over the main screen."""

        async def open_help(pilot: Pilot[Any]) -> None:
            await wait_ready(pilot)
            await pilot.press("question_mark")
            await pilot.pause()

        assert snap_compare(sample(make_repo), terminal_size=(100, 40), run_before=open_help)
