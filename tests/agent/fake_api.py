"""A fake Anthropic Messages API on 127.0.0.1: real HTTP, real server-sent events, scripted replies.

Each POST /v1/messages takes the next item of the script. A `Reply` streams SSE frames (each with its
`event:` line); `Status` answers an HTTP error; a reply with `cut_after` closes the connection after that
many frames (no `message_stop`); `error_after` sends an `event: error` frame mid-stream. Every request
(headers and JSON body) is recorded for assertions.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    blocks: list[dict[str, Any]]  # {"type": "text", "text": ...} or {"type": "tool_use", "name", "input"}
    stop_reason: str = "end_turn"
    cut_after: int | None = None
    error_after: int | None = None
    error_type: str = "overloaded_error"
    delay: float = 0.0
    usage: tuple[int, int] = (120, 40)


@dataclass
class Status:
    code: int
    error_type: str = "api_error"
    message: str = "scripted failure"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Hang:
    seconds: float


def text(*chunks: str) -> Reply:
    return Reply([{"type": "text", "text": "".join(chunks), "chunks": list(chunks)}])


def tool(name: str, payload: dict[str, Any], call_id: str = "toolu_01", lead: str = "") -> Reply:
    blocks: list[dict[str, Any]] = []
    if lead:
        blocks.append({"type": "text", "text": lead, "chunks": [lead]})
    blocks.append({"type": "tool_use", "id": call_id, "name": name, "input": payload})
    return Reply(blocks, stop_reason="tool_use")


def _frames(reply: Reply, message_id: str) -> list[tuple[str, dict[str, Any]]]:
    frames: list[tuple[str, dict[str, Any]]] = [("message_start", {
        "type": "message_start",
        "message": {"id": message_id, "type": "message", "role": "assistant", "model": "fake",
                    "content": [], "stop_reason": None, "stop_sequence": None,
                    "usage": {"input_tokens": reply.usage[0], "output_tokens": 1,
                              "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}},
    })]
    for index, block in enumerate(reply.blocks):
        if block["type"] == "text":
            frames.append(("content_block_start", {"type": "content_block_start", "index": index,
                                                   "content_block": {"type": "text", "text": ""}}))
            for chunk in block.get("chunks", [block["text"]]):
                frames.append(("content_block_delta", {"type": "content_block_delta", "index": index,
                                                       "delta": {"type": "text_delta", "text": chunk}}))
        else:
            frames.append(("content_block_start", {"type": "content_block_start", "index": index,
                                                   "content_block": {"type": "tool_use", "id": block["id"],
                                                                     "name": block["name"], "input": {}}}))
            raw = json.dumps(block["input"])
            step = max(1, len(raw) // 3)
            for start in range(0, len(raw), step):
                frames.append(("content_block_delta", {
                    "type": "content_block_delta", "index": index,
                    "delta": {"type": "input_json_delta", "partial_json": raw[start:start + step]}}))
        frames.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
    frames.append(("message_delta", {"type": "message_delta",
                                     "delta": {"stop_reason": reply.stop_reason, "stop_sequence": None},
                                     "usage": {"output_tokens": reply.usage[1]}}))
    frames.append(("message_stop", {"type": "message_stop"}))
    return frames


class FakeAnthropic:
    """Start with `start()`; point the SDK at `base_url`; queue replies with `script(...)`."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self._script: deque[Reply | Status | Hang] = deque()
        self._server: ThreadingHTTPServer | None = None
        self._counter = 0
        self.lock = threading.Lock()

    def script(self, *items: Reply | Status | Hang) -> None:
        self._script.extend(items)

    @property
    def pending(self) -> int:
        return len(self._script)

    @property
    def base_url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def raw_requests(self) -> str:
        """Everything the client sent, as one string (for 'no secret byte left' assertions)."""
        bodies = "\n".join(json.dumps(r) for r in self.requests)
        return bodies + "\n".join(json.dumps(h) for h in self.headers)

    def start(self) -> None:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                body = json.loads(self.rfile.read(length) or b"{}")
                with fake.lock:
                    fake.requests.append(body)
                    fake.headers.append({k.lower(): v for k, v in self.headers.items()})
                    item = fake._script.popleft() if fake._script else Status(500, message="script empty")
                    fake._counter += 1
                    message_id = f"msg_{fake._counter:04d}"
                if self.path.split("?")[0] != "/v1/messages":
                    return self._status(Status(404, "not_found_error", f"no route {self.path}"))
                if not (self.headers.get("x-api-key") or self.headers.get("authorization")):
                    return self._status(Status(401, "authentication_error", "no key"))
                if isinstance(item, Status):
                    return self._status(item)
                if isinstance(item, Hang):
                    time.sleep(item.seconds)
                    return self._status(Status(500, message="hung"))
                self._stream(item, message_id)

            def _status(self, status: Status) -> None:
                payload = json.dumps({"type": "error", "error": {"type": status.error_type,
                                                                  "message": status.message}}).encode()
                self.send_response(status.code)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                for key, value in status.headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(payload)

            def _stream(self, reply: Reply, message_id: str) -> None:
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.send_header("cache-control", "no-cache")
                self.send_header("connection", "close")
                self.end_headers()
                for number, (event, data) in enumerate(_frames(reply, message_id)):
                    if reply.cut_after is not None and number >= reply.cut_after:
                        break
                    if reply.error_after is not None and number == reply.error_after:
                        error = {"type": "error",
                                 "error": {"type": reply.error_type, "message": "mid-stream"}}
                        self.wfile.write(f"event: error\ndata: {json.dumps(error)}\n\n".encode())
                        self.wfile.flush()
                        break
                    self.wfile.write(f"event: {event}\ndata: {json.dumps(data)}\n\n".encode())
                    self.wfile.flush()
                    if reply.delay:
                        time.sleep(reply.delay)
                self.close_connection = True

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
