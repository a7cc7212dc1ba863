"""The fake Messages API, started per test on 127.0.0.1, with the SDK pointed at it by environment."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.agent.fake_api import FakeAnthropic


def serve_fake_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAnthropic]:
    """The server for one test; a plain generator, so the TUI tests build their fixture from it too."""
    server = FakeAnthropic()
    server.start()
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-key-not-real")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", server.base_url)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def fake_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAnthropic]:
    yield from serve_fake_api(monkeypatch)
