"""Shared helpers for the TUI tests: the sample repository, waits for discovery and the scans to finish,
opening a tab, and reading what the screen shows."""

from __future__ import annotations

import html
import re
from typing import Any, TypeVar

from textual.pilot import Pilot
from textual.widget import Widget

from tui.app import DevopsApp

PanelT = TypeVar("PanelT", bound=Widget)

#: One file of each tree group, in nested folders, with a line worth marking.
SAMPLE_FILES: dict[str, str] = {
    "services/api/Dockerfile": "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN pip install -r req.txt\n"
    "USER app\nCMD [\"python\", \"app.py\"]\n",
    "docker-compose.yml": "services:\n  api:\n    build: services/api\n    ports:\n      - \"8080:8080\"\n",
    ".github/workflows/ci.yml": "on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n"
    "      - uses: actions/checkout@v4\n      - run: make test\n",
    ".gitlab-ci.yml": "stages: [test]\ntest:\n  script: make test\n",
    "k8s/deploy.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\n"
    "spec:\n  replicas: 2\n",
    ".env": "DATABASE_URL=postgres://app:hunter2@db/app\n# local only\nDEBUG=true\n",
    "scripts/deploy.sh": "#!/bin/sh\nset -eu\necho deploying \"$1\"\n",
    "README.md": "# sample\n",
}
#: Changes made after the commit, so every git badge appears.
DIRTY = {"docker-compose.yml": SAMPLE_FILES["docker-compose.yml"] + "    restart: always\n"}
UNTRACKED = {"Dockerfile.worker": "FROM alpine:3.19\nRUN adduser -D app\nUSER app\n"}
STAGED = {"k8s/service.yaml": "apiVersion: v1\nkind: Service\nmetadata:\n  name: api\n"}


async def wait_ready(pilot: Pilot[None], timeout: float = 10.0) -> None:
    """Wait until discovery and the scans it starts have finished and the screen shows their result."""
    app = pilot.app
    assert isinstance(app, DevopsApp)
    waited = 0.0
    while waited < timeout:
        await app.workers.wait_for_complete()
        await pilot.pause()
        status = app.main_screen.status
        scans_done = getattr(app, "scans_current", True)  # the scans IndexBuilt started are done too
        if not status.has_class("-busy") and status.text and scans_done:
            await pilot.pause()
            return
        await pilot.pause(0.05)
        waited += 0.05
    raise AssertionError(f"discovery did not finish within {timeout}s: {app.main_screen.status.text!r}")


async def wait_scanned(pilot: Pilot[None], timeout: float = 15.0) -> DevopsApp:
    """Wait until discovery, the security scan and the duplication scan have all finished."""
    app = pilot.app
    assert isinstance(app, DevopsApp)
    await wait_ready(pilot, timeout)
    waited = 0.0
    while waited < timeout:
        await app.workers.wait_for_complete()
        await pilot.pause()
        if app.scans_current and app.index is not None:
            await pilot.pause()
            return app
        await pilot.pause(0.05)
        waited += 0.05
    raise AssertionError(f"scans did not finish within {timeout}s: {app.main_screen.status.text!r}")


async def settle(pilot: Pilot[None]) -> None:
    """Let workers finish and their messages be handled."""
    app = pilot.app
    for _ in range(3):
        await app.workers.wait_for_complete()
        await pilot.pause()


def screen_text(app: DevopsApp) -> str:
    """Every character drawn on the screen, in order, from the SVG screenshot."""
    svg = app.export_screenshot()
    fragments = re.findall(r"<text[^>]*>(.*?)</text>", svg, flags=re.S)
    return html.unescape("".join(fragments)).replace("\xa0", " ")


def notices(app: DevopsApp) -> list[str]:
    return [n.message for n in app._notifications]


async def open_panel(pilot: Pilot[Any], key: str, panel_type: type[PanelT]) -> PanelT:
    """Press the key that opens a tab of the main screen and return the tab's panel."""
    app = pilot.app
    assert isinstance(app, DevopsApp)
    await pilot.press(key)
    await pilot.pause()
    return app.main_screen.query_one(panel_type)
