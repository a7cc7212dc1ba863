"""`devops-tui ask "QUESTION"`: one agent turn, streamed to stdout; proposals become patch files.

Nothing is applied unless `--apply` is given, and then only through the patch engine (path gate and
freshness checks). Exit codes: 0 answered; 1 the turn failed (API error, cut-off stream); 2 it could not
start (no API key, no such folder).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from dataclasses import asdict
from pathlib import Path

from core.agent.events import (
    AgentEvent,
    AgentFailed,
    ProposalOffered,
    Retrying,
    ReviewOutcome,
    TextDelta,
    ToolCallFinished,
    ToolCallStarted,
    TurnFinished,
)
from core.agent.session import AgentSession, MissingApiKey
from core.agent.store import ConversationStore
from core.agent.tools import RepoTools
from core.config import ConfigError, load_config
from core.discovery import DiscoveryError, build_index
from core.dupes.scan import find_clones
from core.patching import ApplyRefused, Proposal, apply_proposal
from core.patching.diff import file_diffs, unified_text
from core.rulesel import scan_config
from core.scan import scan_index


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("question", help="what to ask, in plain words")
    parser.add_argument("--repo", type=Path, default=Path("."), help="repository (default: .)")
    parser.add_argument("--json", action="store_true", help="one JSON object per event on stdout")
    parser.add_argument("--apply", action="store_true",
                        help="apply each proposal (path gate and freshness checks still apply)")
    parser.add_argument("--patch-dir", type=Path, default=Path("devops-tui-patches"),
                        help="where proposals are written as patch files (default: ./devops-tui-patches)")
    parser.add_argument("--model", help="Anthropic model (default: DEVOPS_TUI_MODEL or the config)")
    parser.add_argument("--new", action="store_true", help="start a new conversation for this repository")


class _Writer:
    """Renders agent events for a terminal or as JSON lines."""

    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json
        self.failed: AgentFailed | None = None

    def __call__(self, event: AgentEvent) -> None:
        if self.as_json:
            payload: dict[str, object] = {"event": type(event).__name__}
            if isinstance(event, ProposalOffered):
                payload.update({"call_id": event.call_id, "title": event.proposal.title,
                                "paths": list(event.proposal.paths)})
            else:
                payload.update(asdict(event))
            print(json.dumps(payload), flush=True)
        elif isinstance(event, TextDelta):
            sys.stdout.write(event.text)
            sys.stdout.flush()
        elif isinstance(event, ToolCallStarted):
            print(f"\n  ⚙ {event.summary}", file=sys.stderr)
        elif isinstance(event, ToolCallFinished) and event.is_error:
            print(f"  ✗ {event.result.splitlines()[0][:160]}", file=sys.stderr)
        elif isinstance(event, Retrying):
            wait = f"retrying in {event.delay:.1f}s (attempt {event.attempt})"
            print(f"  … {event.reason}; {wait}", file=sys.stderr)
        elif isinstance(event, TurnFinished):
            print(f"\n\n[{event.usage.input_tokens} in / {event.usage.output_tokens} out tokens, "
                  f"~${event.cost_usd:.4f}; session ~${event.session_cost_usd:.4f}]", file=sys.stderr)
        if isinstance(event, AgentFailed):
            self.failed = event
            if not self.as_json:
                print(f"\n\ndevops-tui ask: {event.message}", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    root = args.repo
    try:
        config = load_config(root)
        index = build_index(root, config=config)
    except (ConfigError, DiscoveryError) as exc:
        print(f"devops-tui ask: {exc}", file=sys.stderr)
        return 2
    findings = scan_index(index, scan_config(config))
    clusters = find_clones(index)
    written: list[Path] = []

    async def review(proposal: Proposal) -> ReviewOutcome:
        hunks = sum(len(d.hunks) for d in file_diffs(proposal, index.root))
        if args.apply:
            try:
                result = apply_proposal(index.root, proposal)
            except ApplyRefused as exc:
                return ReviewOutcome(total_hunks=hunks, message=f"not applied: {exc}")
            return ReviewOutcome(list(range(1, hunks + 1)), hunks, f"applied all {hunks} hunk(s) ({result})")
        args.patch_dir.mkdir(parents=True, exist_ok=True)
        target = args.patch_dir / f"proposal-{len(written) + 1:02d}.patch"
        header = f"# {proposal.title}\n# {proposal.rationale}\n"
        target.write_text(header + unified_text(proposal, index.root), encoding="utf-8")
        written.append(target)
        print(f"\n  ✎ proposal written to {target} (not applied)", file=sys.stderr)
        return ReviewOutcome(total_hunks=hunks, message=f"written as patch file {target.name} for the user "
                                                        "to review; not applied (headless mode)")

    tools = RepoTools(index, findings=lambda: findings, duplicates=lambda: clusters, reviewer=review)
    store = ConversationStore(index.root)
    try:
        session = AgentSession(tools, model=args.model or config.model, store=store)
    except MissingApiKey as exc:
        print(f"devops-tui ask: {exc}", file=sys.stderr)
        return 2
    if args.new:
        session.clear()
    writer = _Writer(args.json)
    asyncio.run(session.ask(args.question, writer))
    if not args.json:
        print()
    return 1 if writer.failed else 0
