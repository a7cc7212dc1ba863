"""With every kind of planted secret in a repository and a conversation that reads every file, searches
it, and asks for findings and duplicates, no secret byte appears in any request the server records."""

from __future__ import annotations

import asyncio

from core.agent.events import ToolCallFinished
from core.agent.session import AgentSession
from core.agent.tools import RepoTools
from core.discovery import build_index
from core.dupes.scan import find_clones
from core.scan import scan_index
from tests.agent.fake_api import FakeAnthropic, text, tool
from tests.secrets.planted import PLANTED, fragments, planted_files


def test_no_planted_secret_reaches_the_api(make_repo, fake_api: FakeAnthropic):
    assert len(PLANTED) >= 30
    files = planted_files()
    root = make_repo(files)
    index = build_index(root)
    findings = scan_index(index)
    clusters = find_clones(index, min_lines=2)
    script = [tool("list_files", {"infra_only": False}, "t0")]
    script += [tool("read_file", {"path": path}, f"r{n}") for n, path in enumerate(sorted(files))]
    script += [
        tool("search", {"pattern": "(token|key|secret|password|AKIA|ghp_|xox)"}, "s1"),
        tool("search", {"pattern": "BEGIN"}, "s2"),
        tool("get_findings", {}, "f1"),
        tool("get_duplicates", {}, "d1"),
        text("I read everything; the secrets should move to a secret store."),
    ]
    fake_api.script(*script)
    tools = RepoTools(index, findings=lambda: findings, duplicates=lambda: clusters)
    session = AgentSession(tools, backoff_base=0.01, max_tool_rounds=len(script))
    # the user pastes one of the secrets into the chat, too
    pasted = PLANTED[0][1]
    events: list[object] = []
    asyncio.run(session.ask(f"is {pasted} a real key? read every file", events.append))
    results = [e for e in events if isinstance(e, ToolCallFinished)]
    assert len(results) == len(script) - 1 and not any(r.is_error for r in results)
    assert any("«SECRET_" in r.result for r in results)  # the model saw placeholders instead
    sent = fake_api.raw_requests()
    assert len(fake_api.requests) == len(script)
    leaked = [detector for detector, value, _ in PLANTED for part in fragments(value) if part in sent]
    assert leaked == []
