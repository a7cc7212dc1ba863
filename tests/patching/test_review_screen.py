"""The review screen hosted in a tiny App: Pilot toggles hunks and applies; a snapshot fixes its look."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Static

from core.patching import list_entries
from tests.patching.review_host import COMPOSE, FILES, LINES, ReviewHost, sample_proposal
from tui.screens.review import HunkView, ReviewScreen

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_toggle_a_hunk_off_apply_and_check_bytes(make_repo: Callable[..., Path]) -> None:
    root = make_repo(FILES)
    app = ReviewHost(root, sample_proposal(root))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ReviewScreen)
        views = list(screen.query(HunkView))
        assert [(v.path, v.hunk.index) for v in views] == [
            ("notes.txt", 0), ("notes.txt", 1), ("docker-compose.yml", 0), (".env.example", 0)]
        assert app.focused is views[0]
        await pilot.press("j", "space")  # reject the second notes.txt hunk
        assert not views[1].accepted and views[1].has_class("-rejected")
        views[3].scroll_visible(animate=False, immediate=True)
        await pilot.pause()
        assert await pilot.click(views[3])  # a click rejects the new file
        assert not views[3].accepted
        assert screen.accepted() == {"notes.txt": {0}, "docker-compose.yml": {0}, ".env.example": set()}
        await pilot.press("ctrl+s")
        await app.workers.wait_for_complete()
        await pilot.pause()
        result_text = str(screen.query_one("#review-result", Static).render())
        assert "applied 2 of 4 hunks in 2 files" in result_text
        await pilot.press("escape")
        await pilot.pause()
    expected = list(LINES)
    expected[1] = "FIRST CHANGE\n"
    assert (root / "notes.txt").read_text() == "".join(expected)
    assert (root / "docker-compose.yml").read_text() == COMPOSE.replace("latest", "1.25").replace(
        "hunter2xyzzy", "${DB_PASSWORD}")
    assert not (root / ".env.example").exists()
    assert len(app.dismissed) == 1 and app.dismissed[0] is not None
    assert app.dismissed[0].summary == "applied 2 of 4 hunks in 2 files"
    assert len(list_entries(root)) == 1


async def test_stale_and_invalid_shown_in_place_and_override(make_repo: Callable[..., Path]) -> None:
    root = make_repo(FILES)
    proposal = sample_proposal(root)
    (root / "notes.txt").write_text("edited meanwhile\n")
    app = ReviewHost(root, proposal)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ReviewScreen)
        problems = str(screen.query_one("#problems-0", Static).render())
        assert "notes.txt changed since the proposal was made; regenerate it" in problems
        await pilot.press("ctrl+s")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "nothing was written" in str(screen.query_one("#review-result", Static).render())
        await pilot.press("o")  # not overridable: a stale file is never forced
        await app.workers.wait_for_complete()
        await pilot.press("escape")
        await pilot.pause()
    assert app.dismissed == [None]
    assert (root / "docker-compose.yml").read_text() == COMPOSE
    assert list_entries(root) == []


async def test_commit_checkbox_commits(make_repo: Callable[..., Path]) -> None:
    import git

    root = make_repo(FILES)
    app = ReviewHost(root, sample_proposal(root))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("c", "ctrl+s")
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("enter")  # the focused Close button dismisses
        await pilot.pause()
    result = app.dismissed[0]
    assert result is not None and result.commit_sha
    repo = git.Repo(root)
    try:
        assert set(repo.head.commit.stats.files) == {"notes.txt", "docker-compose.yml", ".env.example"}
    finally:
        repo.close()


def test_review_screen_snapshot(snap_compare: Any, make_repo: Callable[..., Path]) -> None:
    root = make_repo(FILES)
    app = ReviewHost(root, sample_proposal(root))

    async def reject_second(pilot: Any) -> None:
        await pilot.pause()
        await pilot.press("j", "space")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(110, 40), run_before=reject_second)


async def test_commit_box_follows_the_project_setting(make_repo: Callable[..., Path]) -> None:
    from textual.widgets import Checkbox

    for setting, expected in (("", False), ("commit-after-apply = true\n", True)):
        files = dict(FILES)
        if setting:
            files[".devops-tui.toml"] = setting
        root = make_repo(files)
        app = ReviewHost(root, sample_proposal(root))
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            assert app.screen.query_one("#review-commit", Checkbox).value is expected
