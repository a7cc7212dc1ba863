"""One chat with the agent: streamed turns, tool rounds, retries, cost — through the official SDK.

Contract: `AgentSession.ask(text, emit)` runs one user turn to completion and reports everything through
`emit` (see `core.agent.events`); it never raises for API trouble. Retries (429, 529, 5xx, connection
errors, timeouts) are ours, not the SDK's, so each wait is visible (`Retrying`). A stream that ends
without `message_stop` — the SDK raises nothing then — is reported as cut off, and nothing from it
(text or tool calls) is kept or offered. A failed or cancelled turn leaves the stored conversation as
it was before the turn, so the next request is always a valid message list.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from typing import Any

import anthropic
from anthropic import AsyncAnthropic

from core.agent.events import (
    AgentEvent,
    AgentFailed,
    Cancelled,
    ProposalOffered,
    Retrying,
    TextDelta,
    ToolCallFinished,
    ToolCallStarted,
    TurnFinished,
    Usage,
)
from core.agent.pricing import estimate_cost
from core.agent.settings import HOW_TO_SET_KEY, MissingApiKey, resolve_model
from core.agent.store import ConversationStore
from core.agent.tools import RepoTools, tool_definitions
from prompts import load

RETRYABLE_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504, 529})


class _CutOff(Exception):
    pass


class AgentSession:
    def __init__(
        self,
        tools: RepoTools,
        *,
        model: str | None = None,
        api_key: str | None = None,
        base_url: str | None = None,
        store: ConversationStore | None = None,
        max_tool_rounds: int = 8,
        max_tokens: int = 4096,
        timeout: float = 120.0,
        max_attempts: int = 4,
        backoff_base: float = 1.0,
    ) -> None:
        key = api_key or os.environ.get("ANTHROPIC_API_KEY")
        if not key:
            raise MissingApiKey(HOW_TO_SET_KEY)
        self.tools = tools
        self.model = resolve_model(model)
        # A client per turn, closed when the turn ends: an SDK client outliving its event loop would try
        # to close its connections on whatever loop runs next (a Textual app, the next test).
        self._client_args: dict[str, Any] = {
            "api_key": key,
            "base_url": base_url or os.environ.get("ANTHROPIC_BASE_URL") or None,
            "max_retries": 0,
            "timeout": timeout,
        }
        self._client: AsyncAnthropic | None = None
        self.store = store
        self.messages: list[dict[str, Any]] = store.load() if store else []
        self.max_tool_rounds = max_tool_rounds
        self.max_tokens = max_tokens
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.session_usage = Usage()
        self.session_cost = 0.0
        self._system = [{"type": "text", "text": load("system.md"), "cache_control": {"type": "ephemeral"}}]
        definitions = tool_definitions()
        definitions[-1] = {**definitions[-1], "cache_control": {"type": "ephemeral"}}
        self._tools = definitions

    def clear(self) -> None:
        self.messages = []
        if self.store:
            self.store.clear()

    async def ask(self, text: str, emit: Callable[[AgentEvent], None]) -> None:
        """Run one user turn (streaming, tool rounds) and report through `emit`."""
        async with AsyncAnthropic(**self._client_args) as client:
            self._client = client
            try:
                await self._turn(text, emit)
            finally:
                self._client = None

    async def _turn(self, text: str, emit: Callable[[AgentEvent], None]) -> None:
        checkpoint = len(self.messages)
        self.messages.append({"role": "user", "content": self.tools.mask(text)})
        usage = Usage()
        rounds = 0
        stop_reason: str | None = None
        try:
            while True:
                message, turn_usage = await self._stream_with_retries(emit)
                usage = usage + turn_usage
                stop_reason = message.stop_reason
                content = [block.model_dump(exclude_none=True) for block in message.content]
                self.messages.append({"role": "assistant", "content": content})
                calls = [b for b in message.content if b.type == "tool_use"]
                if stop_reason != "tool_use" or not calls:
                    break
                rounds += 1
                if rounds > self.max_tool_rounds:
                    self.messages.append({"role": "user", "content": [
                        {"type": "tool_result", "tool_use_id": c.id, "is_error": True,
                         "content": "not run: the tool-round limit for this turn was reached"}
                        for c in calls]})
                    emit(AgentFailed(f"stopped after {self.max_tool_rounds} tool rounds in one turn; "
                                     "ask again to continue", "tool-rounds"))
                    break
                results = []
                for call in calls:
                    args = call.input if isinstance(call.input, dict) else {}
                    emit(ToolCallStarted(call.id, call.name, self.tools.summary(call.name, args)))
                    result = await self.tools.call(call.name, args)
                    if result.proposal is not None:
                        emit(ProposalOffered(call.id, result.proposal))
                    emit(ToolCallFinished(call.id, call.name, result.content, result.is_error))
                    results.append({"type": "tool_result", "tool_use_id": call.id,
                                    "content": result.content, "is_error": result.is_error})
                self.messages.append({"role": "user", "content": results})
        except asyncio.CancelledError:
            del self.messages[checkpoint:]
            emit(Cancelled())
            raise
        except _CutOff:
            del self.messages[checkpoint:]
            emit(AgentFailed("The answer was cut off: the connection ended before the message was complete. "
                             "Nothing from it can be applied; ask again.", "cut-off"))
            return
        except _Failed as failed:
            del self.messages[checkpoint:]
            emit(failed.event)
            return
        cost = estimate_cost(self.model, usage)
        self.session_usage = self.session_usage + usage
        self.session_cost += cost
        if self.store:
            self.store.save(self.messages)
        emit(TurnFinished(usage, cost, self.session_usage, self.session_cost, rounds, stop_reason))

    async def _stream_with_retries(self, emit: Callable[[AgentEvent], None]) -> tuple[Any, Usage]:
        attempt = 0
        while True:
            attempt += 1
            streamed = [False]
            try:
                return await self._stream_once(emit, streamed)
            except anthropic.AuthenticationError:
                rejected = AgentFailed("The API key was rejected (401). " + HOW_TO_SET_KEY, "auth")
                raise _Failed(rejected) from None
            except anthropic.PermissionDeniedError as exc:
                raise _Failed(AgentFailed(f"Access denied (403): {_detail(exc)}", "auth")) from None
            except anthropic.NotFoundError as exc:
                raise _Failed(AgentFailed(f"Not found (404): {_detail(exc)} — is the model name "
                                          f"{self.model!r} right?", "not-found")) from None
            except anthropic.BadRequestError as exc:
                raise _Failed(AgentFailed(f"The API refused the request (400): {_detail(exc)}",
                                          "bad-request")) from None
            except (anthropic.APIStatusError, anthropic.APIConnectionError) as exc:
                kind, reason, retryable = _classify(exc)
                if streamed[0]:
                    raise _Failed(AgentFailed(f"The answer was interrupted: {reason}. Nothing from it can be "
                                              "applied; ask again.", "stream-error")) from None
                if not retryable or attempt >= self.max_attempts:
                    tries = f" after {attempt} attempts" if attempt > 1 else ""
                    raise _Failed(AgentFailed(f"{reason}{tries}. Try again in a moment.", kind)) from None
                delay = _retry_after(exc) or self.backoff_base * 2 ** (attempt - 1)
                delay = min(delay, 30.0)
                emit(Retrying(attempt, delay, reason))
                await asyncio.sleep(delay)

    async def _stream_once(
        self, emit: Callable[[AgentEvent], None], streamed: list[bool]
    ) -> tuple[Any, Usage]:
        saw_stop = False
        assert self._client is not None, "streams only run inside ask()"
        async with self._client.messages.stream(
            model=self.model,
            max_tokens=self.max_tokens,
            system=self._system,  # type: ignore[arg-type]
            tools=self._tools,  # type: ignore[arg-type]
            messages=self.messages,  # type: ignore[arg-type]
        ) as stream:
            async for event in stream:
                if event.type == "text":
                    streamed[0] = True
                    emit(TextDelta(event.text))
                elif event.type == "message_stop":
                    saw_stop = True
            if not saw_stop:
                raise _CutOff()
            message = await stream.get_final_message()
        u = message.usage
        usage = Usage(u.input_tokens or 0, u.output_tokens or 0, u.cache_creation_input_tokens or 0,
                      u.cache_read_input_tokens or 0)
        return message, usage


class _Failed(Exception):
    def __init__(self, event: AgentFailed) -> None:
        super().__init__(event.message)
        self.event = event


def _detail(exc: anthropic.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])
    return str(exc.message)


def _classify(exc: Exception) -> tuple[str, str, bool]:
    if isinstance(exc, anthropic.APITimeoutError):
        return "timeout", "The request timed out", True
    if isinstance(exc, anthropic.APIConnectionError):
        return "connection", f"Could not reach the API ({exc.__cause__ or exc})", True
    assert isinstance(exc, anthropic.APIStatusError)
    body = exc.body if isinstance(exc.body, dict) else {}
    error = body.get("error") if isinstance(body.get("error"), dict) else {}
    error_type = str(error.get("type", "")) if isinstance(error, dict) else ""
    status = exc.status_code
    if status == 529 or error_type == "overloaded_error":
        return "overloaded", "The API is overloaded (529)", True
    if status == 429 or error_type == "rate_limit_error":
        return "rate-limit", "Rate limited by the API (429)", True
    if status in RETRYABLE_STATUS or status >= 500 or error_type == "api_error":
        return "server", f"The API failed ({status if status != 200 else error_type}): {_detail(exc)}", True
    return "api", f"The API returned an error ({status}): {_detail(exc)}", False


def _retry_after(exc: Exception) -> float | None:
    response = getattr(exc, "response", None)
    if response is None:
        return None
    value = response.headers.get("retry-after")
    try:
        return float(value) if value else None
    except ValueError:
        return None
