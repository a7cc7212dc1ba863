"""What an agent turn reports while it runs; any front end (TUI panel, `ask` CLI) renders these."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.patching import Proposal


@dataclass(frozen=True, slots=True)
class TextDelta:
    text: str


@dataclass(frozen=True, slots=True)
class ToolCallStarted:
    call_id: str
    name: str
    summary: str  # e.g. "read_file services/api/Dockerfile"


@dataclass(frozen=True, slots=True)
class ToolCallFinished:
    call_id: str
    name: str
    result: str  # what the model was told (already masked)
    is_error: bool = False


@dataclass(frozen=True, slots=True)
class ProposalOffered:
    call_id: str
    proposal: Proposal


@dataclass(frozen=True, slots=True)
class Retrying:
    attempt: int
    delay: float
    reason: str


@dataclass(frozen=True, slots=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.cache_creation_input_tokens + other.cache_creation_input_tokens,
            self.cache_read_input_tokens + other.cache_read_input_tokens,
        )


@dataclass(frozen=True, slots=True)
class TurnFinished:
    usage: Usage
    cost_usd: float
    session_usage: Usage
    session_cost_usd: float
    rounds: int
    stop_reason: str | None


@dataclass(frozen=True, slots=True)
class AgentFailed:
    """The turn ended without a complete answer; `kind` lets the UI choose a hint."""

    message: str
    kind: str  # auth, rate-limit, overloaded, connection, timeout, stream-error, cut-off, tool-rounds, ...


@dataclass(frozen=True, slots=True)
class Cancelled:
    pass


AgentEvent = (TextDelta | ToolCallStarted | ToolCallFinished | ProposalOffered | Retrying | TurnFinished
              | AgentFailed | Cancelled)


@dataclass(slots=True)
class ReviewOutcome:
    """What the user did with a proposal, reported back to the model as the tool result."""

    applied_hunks: list[int] = field(default_factory=list)
    total_hunks: int = 0
    message: str = ""

    def describe(self) -> str:
        if self.message:
            return self.message
        if not self.applied_hunks:
            return f"rejected: the user applied none of the {self.total_hunks} hunk(s)"
        rejected = [h for h in range(1, self.total_hunks + 1) if h not in self.applied_hunks]
        applied = ", ".join(map(str, self.applied_hunks))
        text = f"applied hunk(s) {applied} of {self.total_hunks}"
        if rejected:
            text += f"; hunk(s) {', '.join(map(str, rejected))} rejected"
        return text
