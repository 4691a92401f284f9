"""A local server speaking the OpenAI chat completions streaming protocol.

It stands in for a hosted LLM endpoint (these machines reach no such service):
real HTTP and server-sent events on loopback, with answers scripted by prompt.
Given tools, it first calls the first one with the prompt, then answers with
what the tool returned.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

API_KEY = "sk-test-4f1c9e"
SLOW_PROMPT = "write forever"


@dataclass
class Requests:
    """What the server received, and whether a streaming client hung up."""

    bodies: list[dict[str, Any]] = field(default_factory=list)
    authorizations: list[str] = field(default_factory=list)
    hung_up: threading.Event = field(default_factory=threading.Event)


def reply_pieces(prompt: str) -> list[str]:
    """The pieces the server streams for `prompt`."""
    return [f"{word} " for word in f"You asked: {prompt}".split()]


@contextmanager
def completions_server() -> Iterator[tuple[str, Requests]]:
    """Serve on a free loopback port; yield the base URL and the request log."""
    seen = Requests()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            seen.bodies.append(body)
            seen.authorizations.append(self.headers.get("Authorization", ""))
            if self.path != "/v1/chat/completions":
                self._json(404, {"error": {"message": f"no route {self.path}"}})
            elif self.headers.get("Authorization") != f"Bearer {API_KEY}":
                self._json(401, {"error": {"message": "Incorrect API key provided"}})
            else:
                self._stream(body)

        def _json(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _stream(self, body: dict[str, Any]) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            last = body["messages"][-1]
            prompt = last.get("content") or ""
            try:
                if body.get("tools") and last["role"] == "user":
                    self._tool_call(body["tools"][0]["function"], prompt)
                    return
                if last["role"] == "tool":
                    prompt = f"the tool said {prompt}"
                if prompt == SLOW_PROMPT:
                    while True:
                        self._event({"choices": [{"delta": {"content": "more "}}]})
                        time.sleep(0.05)
                pieces = reply_pieces(prompt)
                for piece in pieces:
                    self._event({"model": "scripted-1", "choices": [{"delta": {"content": piece}}]})
                self._event({"choices": [{"delta": {}, "finish_reason": "stop"}]})
                if (body.get("stream_options") or {}).get("include_usage"):
                    usage = {"prompt_tokens": len(prompt.split()), "completion_tokens": len(pieces)}
                    self._event({"choices": [], "usage": usage})
                self.wfile.write(b"data: [DONE]\n\n")
            except (BrokenPipeError, ConnectionResetError):
                seen.hung_up.set()

        def _tool_call(self, function: dict[str, Any], prompt: str) -> None:
            """Ask for the first tool, its first parameter set to the prompt."""
            parameter = next(iter(function["parameters"]["properties"]))
            call = {
                "index": 0,
                "id": "call_1",
                "type": "function",
                "function": {
                    "name": function["name"],
                    "arguments": json.dumps({parameter: prompt}),
                },
            }
            self._event({"model": "scripted-1", "choices": [{"delta": {"tool_calls": [call]}}]})
            self._event({"choices": [{"delta": {}, "finish_reason": "tool_calls"}]})
            self.wfile.write(b"data: [DONE]\n\n")

        def _event(self, chunk: dict[str, Any]) -> None:
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.flush()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
