"""The app indexes a repository the way the headless commands do: the project's settings apply, and a
broken settings file is reported without stopping the repository from opening."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.tui.helpers import notices, wait_ready
from tui.app import DevopsApp

pytestmark = pytest.mark.anyio

FILES = {
    "Dockerfile": "FROM alpine:3.19\nUSER app\n",
    "vendor/thirdparty/Dockerfile": "FROM alpine:latest\n",
}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_excluded_paths_are_neither_shown_nor_scanned(make_repo: Callable[..., Path]) -> None:
    root = make_repo({**FILES, ".devops-tui.toml": 'exclude = ["vendor/*"]\n'})
    app = DevopsApp(root)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_ready(pilot)
        assert app.index is not None
        assert "vendor/thirdparty/Dockerfile" not in app.index.files
        assert "Dockerfile" in app.index.files
        assert not [f for f in app.findings if f.path.startswith("vendor/")]


async def test_broken_settings_are_reported_and_the_repository_still_opens(
        make_repo: Callable[..., Path]) -> None:
    root = make_repo({**FILES, ".devops-tui.toml": "exclude = 'vendor/*'\n"})
    app = DevopsApp(root)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_ready(pilot)
        assert app.index is not None and "vendor/thirdparty/Dockerfile" in app.index.files
        assert any("configuration ignored" in n and "exclude must be a list" in n for n in notices(app))
        # The scans go on with the defaults: the unpinned base image in vendor/ is found, nothing failed.
        assert any(f.path == "vendor/thirdparty/Dockerfile" for f in app.findings)
        assert "failed" not in str(app.main_screen.query_one("#status-text").render())
