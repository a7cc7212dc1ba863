"""Snapshots of the chat panel alone (a host app, so other features do not move the picture).

Update with `pytest tests/tui/test_chat_snapshot.py --snapshot-update`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.agent.fake_api import FakeAnthropic, text, tool
from tests.tui.chat_support import ChatHost, ask, serve_fake_api, wait_for, wait_idle
from tui.widgets.chat_items import ProposalCard

SnapCompare = Callable[..., bool]
MakeRepo = Callable[..., Path]


@pytest.fixture
def fake_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAnthropic]:
    yield from serve_fake_api(monkeypatch)

FILES = {"Dockerfile": "FROM alpine:3.19\nRUN echo hi\n",
         "compose.yml": "services:\n  web:\n    image: nginx\n"}
ANSWER = (
    "The repository has **one Dockerfile** and a compose file.\n\n",
    "Pin the base image by digest:\n\n",
    "```dockerfile\nFROM alpine:3.19@sha256:abc123\nRUN echo hi\n```\n\n",
    "- `compose.yml` runs `nginx` *unpinned*\n",
)


async def streamed_answer(pilot: Pilot[Any]) -> None:
    panel = await ask(pilot, "what should I pin?")
    await wait_idle(pilot, panel)
    pilot.app.set_focus(None)  # no cursor in the picture
    await pilot.pause()


async def waiting_for_review(pilot: Pilot[Any]) -> None:
    panel = await ask(pilot, "pin the base image")
    await wait_for(pilot, lambda: bool(panel.query(ProposalCard)), what="the proposal card")
    await pilot.pause(0.2)


def test_streamed_answer(snap_compare: SnapCompare, make_repo: MakeRepo, fake_api: FakeAnthropic) -> None:
    """Markdown with a highlighted code block, the question above it, usage and cost under it."""
    fake_api.script(text(*ANSWER))
    assert snap_compare(ChatHost(make_repo(FILES)), terminal_size=(90, 30), run_before=streamed_answer)


def test_proposal_card(snap_compare: SnapCompare, make_repo: MakeRepo, fake_api: FakeAnthropic) -> None:
    """A finished tool line, the running propose_edit line and the card waiting for a review."""
    root = make_repo(FILES)
    digest = hashlib.sha256((root / "Dockerfile").read_bytes()).hexdigest()
    fake_api.script(
        tool("read_file", {"path": "Dockerfile"}, "toolu_a", lead="Reading the Dockerfile first."),
        tool("propose_edit", {"path": "Dockerfile", "file_hash": digest, "title": "Pin alpine to 3.19.1",
                              "rationale": "A moving tag rebuilds differently over time.",
                              "edits": [{"old_str": "alpine:3.19", "new_str": "alpine:3.19.1"}]}, "toolu_b"),
    )
    assert snap_compare(ChatHost(root), terminal_size=(90, 30), run_before=waiting_for_review)
