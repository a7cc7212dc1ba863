"""Shared helpers for the TUI tests: the sample repository and a wait for discovery to finish."""

from __future__ import annotations

from textual.pilot import Pilot

from tui.app import DevopsApp

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
