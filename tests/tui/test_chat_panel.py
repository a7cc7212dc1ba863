"""The agent chat panel in the real app, against the fake Messages API: stream, tools, review, cancel."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input, Markdown

from core.agent.session import HOW_TO_SET_KEY
from core.agent.store import ConversationStore
from tests.agent.fake_api import FakeAnthropic, Status, text, tool
from tests.tui.chat_support import ask, serve_fake_api, wait_for, wait_idle
from tests.tui.helpers import wait_ready
from tui.app import DevopsApp
from tui.screens.review import ReviewScreen
from tui.widgets.chat_items import NoticeLine, ProposalCard, ToolCallLine, UserLine
from tui.widgets.chat_panel import ChatPanel

MakeRepo = Callable[..., Path]


@pytest.fixture
def fake_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAnthropic]:
    yield from serve_fake_api(monkeypatch)


pytestmark = pytest.mark.anyio

SECRET = "q8Zr3vTn0LpX2sWc9Yb4Hd7Kf1Gm6Nj5Ra0Ue3Ti"  # not a documented example value, so it is masked
FILES = {
    "Dockerfile": "FROM alpine:3.19\nRUN echo hi\n",
    "deploy/.env": f"AWS_SECRET_ACCESS_KEY={SECRET}\nREGION=eu-west-1\n",
}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def notices(panel: ChatPanel) -> list[str]:
    return [str(n.render()) for n in panel.query(NoticeLine)]


def tool_results(request: dict[str, Any]) -> list[dict[str, Any]]:
    return [block for message in request["messages"] if isinstance(message["content"], list)
            for block in message["content"] if block.get("type") == "tool_result"]


async def open_chat(app: DevopsApp, pilot: Any) -> ChatPanel:
    await wait_ready(pilot)
    await pilot.press("c")
    panel = app.query_one(ChatPanel)
    assert panel.is_open and panel.display
    assert app.focused is panel.query_one("#chat-input", Input)
    return panel


async def test_answer_streams_as_markdown_with_usage(make_repo: MakeRepo, fake_api: FakeAnthropic) -> None:
    fake_api.script(text("Two files: ", "a **Dockerfile**", "\n\n```dockerfile\nFROM alpine:3.19\n```\n"))
    app = DevopsApp(make_repo(FILES))
    async with app.run_test(size=(160, 48)) as pilot:
        panel = await open_chat(app, pilot)
        await ask(pilot, "what is in this repo?")
        await wait_idle(pilot, panel)
        answer = panel.query_one("#chat-log > Markdown", Markdown)
        assert answer.source == "Two files: a **Dockerfile**\n\n```dockerfile\nFROM alpine:3.19\n```\n"
        assert [str(u.render()) for u in panel.query(UserLine)] == ["› what is in this repo?"]
        assert notices(panel) == ["120 in / 40 out tokens · ~$0.0010"]
        header = str(panel.query_one("#chat-header").render())
        assert "session 120 in / 40 out tokens" in header
        assert panel.query_one("#chat-input", Input).value == ""
    assert fake_api.requests[0]["messages"] == [{"role": "user", "content": "what is in this repo?"}]
    stored = ConversationStore(app.root).load()
    assert [m["role"] for m in stored] == ["user", "assistant"]


async def test_tool_round_trip_ends_in_an_applied_proposal(make_repo: MakeRepo,
                                                          fake_api: FakeAnthropic) -> None:
    root = make_repo(FILES)
    digest = hashlib.sha256((root / "Dockerfile").read_bytes()).hexdigest()
    fake_api.script(
        tool("read_file", {"path": "Dockerfile"}, "toolu_read", lead="Let me look."),
        tool("propose_edit", {"path": "Dockerfile", "file_hash": digest, "title": "Say hello",
                              "rationale": "friendlier", "edits": [{"old_str": "RUN echo hi",
                                                                    "new_str": "RUN echo hello"}]},
             "toolu_edit"),
        text("Applied; the image now says hello."),
    )
    app = DevopsApp(root)
    async with app.run_test(size=(160, 48)) as pilot:
        panel = await open_chat(app, pilot)
        await ask(pilot, "make the Dockerfile friendlier")
        await wait_for(pilot, lambda: bool(panel.query(ProposalCard)), what="the proposal card")
        await pilot.pause()
        lines = list(panel.query(ToolCallLine))
        assert [line.title for line in lines] == ["✓ read_file Dockerfile", "⚙ propose_edit Dockerfile"]
        assert lines[0].collapsed
        card = panel.query_one(ProposalCard)
        assert app.focused is card.query_one(".card-review")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ReviewScreen), what="the review screen")
        await pilot.pause()
        await pilot.press("ctrl+s")
        review = app.screen
        assert isinstance(review, ReviewScreen)
        await wait_for(pilot, lambda: review.result is not None, what="the apply")
        await pilot.press("enter")
        await wait_idle(pilot, panel)
        assert (root / "Dockerfile").read_text() == "FROM alpine:3.19\nRUN echo hello\n"
        assert card.has_class("-applied")
        assert "applied hunk(s) 1 of 1" in str(card.query_one(".card-outcome").render())
        assert lines[1].title == "✓ propose_edit Dockerfile"
        assert app.index is not None
        assert "hello" in app.index.parsed["Dockerfile"].text  # rescanned after the apply
    assert len(fake_api.requests) == 3
    results = tool_results(fake_api.requests[2])
    assert results[-1]["tool_use_id"] == "toolu_edit"
    assert results[-1]["content"] == "applied hunk(s) 1 of 1"


async def test_partly_applied_proposal_names_the_hunks(make_repo: MakeRepo, fake_api: FakeAnthropic) -> None:
    body = "".join(f"line {n:02d}\n" for n in range(1, 31))
    root = make_repo({"deploy.sh": "#!/bin/sh\n" + body})
    digest = hashlib.sha256((root / "deploy.sh").read_bytes()).hexdigest()
    edits = [{"old_str": f"line {n:02d}\n", "new_str": f"LINE {n:02d}\n"} for n in (2, 15, 28)]
    fake_api.script(tool("propose_edit", {"path": "deploy.sh", "file_hash": digest, "title": "Shout",
                                          "edits": edits}),
                    text("Two of three, then."))
    app = DevopsApp(root)
    async with app.run_test(size=(160, 48)) as pilot:
        panel = await open_chat(app, pilot)
        await ask(pilot, "shout three lines")
        await wait_for(pilot, lambda: bool(panel.query(ProposalCard)), what="the proposal card")
        await pilot.pause()
        await pilot.click(".card-review")
        await wait_for(pilot, lambda: isinstance(app.screen, ReviewScreen), what="the review screen")
        await pilot.pause()
        review = app.screen
        assert isinstance(review, ReviewScreen)
        await pilot.press("j", "space", "ctrl+s")
        await wait_for(pilot, lambda: review.result is not None, what="the apply")
        await pilot.press("enter")
        await wait_idle(pilot, panel)
    text_now = (root / "deploy.sh").read_text()
    assert "LINE 02" in text_now and "line 15" in text_now and "LINE 28" in text_now
    told = tool_results(fake_api.requests[1])[-1]["content"]
    assert told == "applied hunk(s) 1, 3 of 3; hunk(s) 2 rejected"


async def test_escape_while_a_proposal_waits_expires_the_card(make_repo: MakeRepo,
                                                             fake_api: FakeAnthropic) -> None:
    root = make_repo(FILES)
    digest = hashlib.sha256((root / "Dockerfile").read_bytes()).hexdigest()
    fake_api.script(tool("propose_edit", {"path": "Dockerfile", "file_hash": digest, "title": "Pin",
                                          "edits": [{"old_str": "alpine:3.19", "new_str": "alpine:3.19.1"}]}))
    app = DevopsApp(root)
    async with app.run_test(size=(160, 48)) as pilot:
        panel = await open_chat(app, pilot)
        await ask(pilot, "pin it")
        await wait_for(pilot, lambda: bool(panel.query(ProposalCard)), what="the proposal card")
        await pilot.pause()
        await pilot.press("escape")
        await wait_idle(pilot, panel)
        card = panel.query_one(ProposalCard)
        assert card.has_class("-decided") and not card.has_class("-applied")
        assert "did not finish" in str(card.query_one(".card-outcome").render())
        await pilot.click(".card-review")  # hidden now: nothing opens
        assert not isinstance(app.screen, ReviewScreen)
    assert (root / "Dockerfile").read_text() == FILES["Dockerfile"]
    assert ConversationStore(root).load() == []


async def test_rejecting_a_proposal_tells_the_model(make_repo: MakeRepo, fake_api: FakeAnthropic) -> None:
    root = make_repo(FILES)
    digest = hashlib.sha256((root / "Dockerfile").read_bytes()).hexdigest()
    fake_api.script(
        tool("propose_edit", {"path": "Dockerfile", "file_hash": digest, "title": "Pin",
                              "edits": [{"old_str": "alpine:3.19", "new_str": "alpine:3.19.1"}]}),
        text("Understood."),
    )
    app = DevopsApp(root)
    async with app.run_test(size=(160, 48)) as pilot:
        panel = await open_chat(app, pilot)
        await ask(pilot, "pin it")
        await wait_for(pilot, lambda: bool(panel.query(ProposalCard)), what="the proposal card")
        await pilot.pause()
        await pilot.click(".card-reject")
        await wait_idle(pilot, panel)
    assert (root / "Dockerfile").read_text() == FILES["Dockerfile"]
    assert tool_results(fake_api.requests[1])[-1]["content"].startswith("rejected: the user declined all 1")


async def test_escape_cancels_an_answer_in_flight(make_repo: MakeRepo, fake_api: FakeAnthropic) -> None:
    slow = text(*[f"word{i} " for i in range(40)])
    slow.delay = 0.1
    fake_api.script(slow, text("fresh answer"))
    app = DevopsApp(make_repo(FILES))
    async with app.run_test(size=(160, 48)) as pilot:
        panel = await open_chat(app, pilot)
        await ask(pilot, "explain slowly")
        await wait_for(pilot, lambda: bool(panel.query("#chat-log > Markdown")), what="the first words")
        await pilot.press("escape")
        await wait_idle(pilot, panel)
        assert "Cancelled; nothing from this answer was kept." in notices(panel)
        assert panel.query_one("#chat-log > Markdown").has_class("-discarded")
        await ask(pilot, "again")
        await wait_idle(pilot, panel)
    assert fake_api.requests[1]["messages"] == [{"role": "user", "content": "again"}]
    assert [m["role"] for m in ConversationStore(app.root).load()] == ["user", "assistant"]


async def test_without_a_key_the_panel_says_how_to_set_one(make_repo: MakeRepo) -> None:
    app = DevopsApp(make_repo(FILES))
    async with app.run_test(size=(160, 48)) as pilot:
        panel = await open_chat(app, pilot)
        assert notices(panel) == [HOW_TO_SET_KEY]
        await ask(pilot, "hello?")
        await pilot.pause()
        shown = notices(panel)  # the how-to once; asking anyway gets a short reminder, not a second copy
        assert shown[0] == HOW_TO_SET_KEY and len(shown) == 2
        assert shown[1].startswith("Not sent: ANTHROPIC_API_KEY")
        assert not panel.busy and panel.session is None
        await pilot.press("escape", "c")  # everything else keeps working
        assert not panel.is_open
        assert app.main_screen.open_file("Dockerfile")


async def test_a_rejected_key_is_shown_as_an_error(make_repo: MakeRepo, fake_api: FakeAnthropic) -> None:
    fake_api.script(Status(401, "authentication_error", "invalid x-api-key"))
    app = DevopsApp(make_repo(FILES))
    async with app.run_test(size=(160, 48)) as pilot:
        panel = await open_chat(app, pilot)
        await ask(pilot, "hello?")
        await wait_idle(pilot, panel)
        error = panel.query_one("NoticeLine.-error", NoticeLine)
        assert str(error.render()).startswith("The API key was rejected (401).")
        assert panel.query_one(UserLine).has_class("-discarded") is False


async def test_retry_and_cut_off_are_visible(make_repo: MakeRepo, fake_api: FakeAnthropic) -> None:
    cut = text("half an ans", "wer that never ends")
    cut.cut_after = 4
    fake_api.script(Status(529, "overloaded_error", "busy", {"retry-after": "0.1"}), cut)
    app = DevopsApp(make_repo(FILES))
    async with app.run_test(size=(160, 48)) as pilot:
        panel = await open_chat(app, pilot)
        await ask(pilot, "hello?")
        await wait_idle(pilot, panel)
        shown = notices(panel)
        assert shown[0] == "The API is overloaded (529); retrying in 0.1s (attempt 2)"
        assert "Nothing from it can be applied" in shown[-1]
        assert panel.query_one("#chat-log > Markdown").has_class("-discarded")
    assert ConversationStore(app.root).load() == []


async def test_no_secret_value_reaches_the_api(make_repo: MakeRepo, fake_api: FakeAnthropic) -> None:
    fake_api.script(tool("read_file", {"path": "deploy/.env"}), text("The key is masked."))
    app = DevopsApp(make_repo(FILES))
    async with app.run_test(size=(160, 48)) as pilot:
        panel = await open_chat(app, pilot)
        await ask(pilot, "what is in deploy/.env?")
        await wait_idle(pilot, panel)
        line = panel.query_one(ToolCallLine)
        shown = str(line.query_one(".tool-result").render())
        assert "AWS_SECRET_ACCESS_KEY=«SECRET_1»" in shown and SECRET not in shown
    assert len(fake_api.requests) == 2
    raw = fake_api.raw_requests()
    assert SECRET not in raw
    assert "«SECRET_1»" in json.dumps(tool_results(fake_api.requests[1]), ensure_ascii=False)
    assert SECRET not in ConversationStore(app.root).path.read_text()


async def test_history_is_shown_again_and_can_be_cleared(make_repo: MakeRepo,
                                                         fake_api: FakeAnthropic) -> None:
    fake_api.script(tool("list_files", {}), text("Here are the files."))
    root = make_repo(FILES)
    first = DevopsApp(root)
    async with first.run_test(size=(160, 48)) as pilot:
        panel = await open_chat(first, pilot)
        await ask(pilot, "list the files")
        await wait_idle(pilot, panel)
    second = DevopsApp(root)
    async with second.run_test(size=(160, 48)) as pilot:
        panel = await open_chat(second, pilot)
        await pilot.pause()
        assert [str(u.render()) for u in panel.query(UserLine)] == ["› list the files"]
        assert [line.title for line in panel.query(ToolCallLine)] == ["✓ list_files"]
        assert [m.source for m in panel.query("#chat-log > Markdown").results(Markdown)] == [
            "Here are the files."]
        await second.run_action("screen.clear_chat")
        await pilot.pause()
        assert not panel.query(UserLine)
        assert notices(panel) == ["Conversation cleared; the agent starts afresh."]
    assert not ConversationStore(root).path.exists()


async def test_narrow_terminal_puts_the_chat_at_the_bottom(make_repo: MakeRepo) -> None:
    app = DevopsApp(make_repo(FILES))
    async with app.run_test(size=(80, 30)) as pilot:
        panel = await open_chat(app, pilot)
        await pilot.pause()
        assert panel.region.width == 80
        assert panel.region.y >= 10


async def test_the_agent_sees_the_apps_findings(make_repo: MakeRepo, fake_api: FakeAnthropic) -> None:
    fake_api.script(tool("get_findings", {"path": "Dockerfile"}), text("One thing to fix."))
    app = DevopsApp(make_repo(FILES))
    async with app.run_test(size=(160, 48)) as pilot:
        panel = await open_chat(app, pilot)
        await wait_for(pilot, lambda: bool(getattr(app, "findings", ())), what="the app's scan")
        expected = {f.rule_id for f in app.findings if f.path == "Dockerfile"}
        assert expected
        await ask(pilot, "what is wrong with the Dockerfile?")
        await wait_idle(pilot, panel)
    told = tool_results(fake_api.requests[1])[-1]["content"]
    assert all(rule in told for rule in expected)
    assert "no findings match" not in told
