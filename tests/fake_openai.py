"""A small fake OpenAI-compatible server for tests: the real HTTP path, on 127.0.0.1 only.

``POST /v1/chat/completions`` answers with the next scripted reply (the last one repeats);
every request is recorded (path, headers, JSON body), so a test can check what the model was
sent: the tools, the system prompt, the user's words, the key. Standard library only
(``http.server`` in a thread, a random free port).

    with FakeOpenAI([tool_reply("contact_create", {"name": "Lena"})]) as fake:
        os.environ["HERO_MODEL_API_BASE"] = fake.url   # http://127.0.0.1:PORT/v1
        ...
        fake.requests[0]["body"]["tools"]
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    """One scripted answer: an HTTP status, a JSON body, and how long to wait first."""

    body: dict
    status: int = 200
    delay: float = 0.0


def completion(message: dict, finish_reason: str) -> dict:
    return {
        "id": f"chatcmpl-fake-{time.monotonic_ns()}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": "fake-model",
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
    }


def tool_reply(*calls: tuple[str, dict] | str, args: dict | None = None, content: str | None = None,
               delay: float = 0.0) -> Reply:
    """A reply calling tools: ``tool_reply("contact_create", args={...})`` or
    ``tool_reply(("contact_search", {...}), ("contact_tag", {...}))``."""
    pairs = [(calls[0], args or {})] if calls and isinstance(calls[0], str) else list(calls)
    tool_calls = [{"id": f"call_{i + 1}", "type": "function",
                   "function": {"name": name, "arguments": json.dumps(a)}} for i, (name, a) in enumerate(pairs)]
    message = {"role": "assistant", "content": content, "tool_calls": tool_calls}
    return Reply(completion(message, "tool_calls"), delay=delay)


def text_reply(text: str, delay: float = 0.0) -> Reply:
    """A plain answer, no tool call."""
    return Reply(completion({"role": "assistant", "content": text}, "stop"), delay=delay)


def error_reply(status: int, message: str, kind: str = "invalid_request_error", code: str | None = None) -> Reply:
    """An OpenAI-style error (401 bad key, 404 unknown model, ...)."""
    return Reply({"error": {"message": message, "type": kind, "param": None, "code": code}}, status=status)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # a handler still sleeping does not hold up stop()
    fake: "FakeOpenAI"


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def _send(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError:
            pass  # the client gave up (a timeout test)

    def do_GET(self) -> None:
        if self.path.rstrip("/").endswith("/models"):
            self._send(200, {"object": "list", "data": [{"id": "fake-model", "object": "model", "owned_by": "test"}]})
        else:
            self._send(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})

    def do_POST(self) -> None:
        fake = self.server.fake
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = {"_raw": raw.decode(errors="replace")}
        with fake.lock:
            fake.requests.append({"path": self.path, "headers": dict(self.headers.items()), "body": body})
            reply = fake.script[min(fake.served, len(fake.script) - 1)] if fake.script else text_reply("ok")
            fake.served += 1
        if not self.path.rstrip("/").endswith("/chat/completions"):
            self._send(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})
            return
        if fake.api_key is not None and self.headers.get("Authorization") != f"Bearer {fake.api_key}":
            self._send(401, error_reply(401, "Incorrect API key provided.", code="invalid_api_key").body)
            return
        if reply.delay and fake.stopping.wait(reply.delay):
            return
        self._send(reply.status, reply.body)


@dataclass
class FakeOpenAI:
    """The server: ``script`` is the list of replies, in order; ``api_key`` (if set) is required."""

    script: list[Reply] = field(default_factory=list)
    api_key: str | None = None
    requests: list[dict] = field(default_factory=list)
    served: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    stopping: threading.Event = field(default_factory=threading.Event)
    _server: _Server | None = None
    _thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        assert self._server is not None, "not started"
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        """The api_base: ``http://127.0.0.1:PORT/v1``."""
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> "FakeOpenAI":
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fake-openai", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(5)

    def __enter__(self) -> "FakeOpenAI":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # --- what the model was sent ---------------------------------------------------------

    def bodies(self) -> list[dict]:
        return [r["body"] for r in self.requests if r["path"].rstrip("/").endswith("/chat/completions")]

    def tool_names(self, i: int = 0) -> list[str]:
        return [t["function"]["name"] for t in self.bodies()[i].get("tools", [])]

    def message(self, role: str, i: int = 0) -> str:
        """The text of every message of ``role`` in request ``i``, joined."""
        return "\n".join(str(m.get("content") or "") for m in self.bodies()[i]["messages"] if m.get("role") == role)
