"""Planted secrets of every detector kind never appear on screen: not in the file view of any file that
holds them, not in the findings table or the rule panel, not in the duplicates view."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.secrets.planted import PLANTED, fragments, planted_files
from tests.tui.helpers import wait_ready
from tui.app import DevopsApp

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _screen_text(app: DevopsApp) -> str:
    """What the terminal shows, as plain text (an SVG export splits and escapes it)."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def _leaks(screen_text: str) -> list[str]:
    return [detector for detector, value, _ in PLANTED for part in fragments(value) if part in screen_text]


async def test_no_planted_secret_on_any_screen(make_repo: Callable[..., Path]) -> None:
    files = planted_files()
    root = make_repo(files)
    app = DevopsApp(root)
    async with app.run_test(size=(220, 160)) as pilot:
        await wait_ready(pilot)
        shown: list[str] = []
        for path in sorted(files):
            app.main_screen.open_file(path, None)
            await pilot.pause(0.2)
            shown.append(_screen_text(app))
        opened = "\n".join(shown)
        assert "«" in opened or "…[sha256:" in opened  # the values were there, masked
        for key in ("F", "D"):
            await pilot.press(key)
            await pilot.pause(0.3)
            shown.append(_screen_text(app))
    assert _leaks("\n".join(shown)) == []
