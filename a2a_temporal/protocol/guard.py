"""What the gateway checks before the A2A SDK sees a request: size, credentials, rate, streams.

An ASGI middleware in front of every agent's endpoints (agent cards and the
agent list stay public). In this order, so that the cheapest refusal comes
first and no refused request costs a parse:

1. a body larger than `gateway_max_body_bytes` is refused with 413, from its
   `Content-Length` before anything is read, or while reading it;
2. a request without credentials, or with a token the gateway does not know,
   is refused with 401 and `WWW-Authenticate` (unless anonymous callers are
   allowed, and then only when it carries no credentials);
3. a caller over `gateway_requests_per_second` (a token bucket of
   `gateway_request_burst`) is refused with 429 and `Retry-After`;
4. a caller already holding `gateway_max_streams` streams open is refused
   with 429; a body whose JSON nests too deeply to parse gets the protocol's
   parse error; a JSON-RPC call of a v1.0 method without the `A2A-Version`
   header (which the SDK reads as v0.3) gets the protocol's version error,
   saying which header to send.

The caller's identity travels on in the ASGI scope; the token goes no further.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from a2a_temporal.protocol.request_telemetry import name_method
from a2a_temporal.settings import AgentSettings, GatewayIdentity

__all__ = ["ANONYMOUS", "CALLER_SCOPE_KEY", "GatewayGuard"]

CALLER_SCOPE_KEY = "a2a_temporal.caller"
ANONYMOUS = GatewayIdentity(subject="anonymous")
_PUBLIC = re.compile(r"^(/agents/?|/agents/[^/]+/\.well-known/agent-card\.json|/livez|/readyz)$")
_STREAMING_METHODS = frozenset(
    {"SendStreamingMessage", "SubscribeToTask", "message/stream", "tasks/resubscribe"}
)
_STREAMING_PATH = re.compile(r"(/message:stream|:subscribe)$")
_JSONRPC_PATH = re.compile(r"^/agents/[^/]+/?$")
_BUCKETS_MAX = 100_000


@dataclass
class _Caller:
    """One caller's token bucket and open streams."""

    tokens: float
    updated: float
    streams: int = 0


@dataclass
class _Callers:
    """Every caller seen lately, by key (a token's digest, or an address when anonymous)."""

    rate: float
    burst: int
    by_key: dict[str, _Caller] = field(default_factory=dict)

    def take(self, key: str, now: float) -> float:
        """Take one request from the key's bucket; how long to wait first when it is empty."""
        caller = self.by_key.get(key)
        if caller is None:
            if len(self.by_key) >= _BUCKETS_MAX:
                self.by_key = {k: c for k, c in self.by_key.items() if c.streams}
            caller = self.by_key[key] = _Caller(tokens=float(self.burst), updated=now)
        caller.tokens = min(float(self.burst), caller.tokens + (now - caller.updated) * self.rate)
        caller.updated = now
        if caller.tokens < 1.0:
            return (1.0 - caller.tokens) / self.rate
        caller.tokens -= 1.0
        return 0.0


class GatewayGuard:
    """Refuses oversized, unauthenticated, too frequent and too many streaming requests.

    Args:
        app: The gateway's app.
        settings: Tokens, anonymous access and the limits.
    """

    def __init__(self, app: ASGIApp, settings: AgentSettings) -> None:
        self._app = app
        self._tokens = {
            hashlib.sha256(token.encode()).hexdigest(): identity
            for token, identity in settings.gateway_tokens.items()
        }
        self._anonymous = settings.gateway_allow_anonymous
        self._max_body = settings.gateway_max_body_bytes
        self._max_streams = settings.gateway_max_streams
        self._callers = _Callers(
            settings.gateway_requests_per_second, settings.gateway_request_burst
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the request; pass it on with its caller in the scope, or refuse it."""
        if scope["type"] != "http" or _PUBLIC.match(scope.get("path", "")):
            await self._app(scope, receive, send)
            return
        headers = _headers(scope)
        length = headers.get("content-length", "")
        if length and (not length.isdigit() or int(length) > self._max_body):
            await _refuse(send, 413, f"the request body is over {self._max_body} bytes")
            return
        found = self._caller(headers, scope)
        if isinstance(found, str):
            await _refuse(
                send,
                401,
                found,
                {"www-authenticate": 'Bearer realm="a2a-temporal", error="invalid_token"'}
                if "not known" in found
                else {"www-authenticate": 'Bearer realm="a2a-temporal"'},
            )
            return
        key, identity = found
        wait = self._callers.take(key, time.monotonic())
        if wait > 0:
            await _refuse(
                send,
                429,
                "too many requests from this caller",
                {"retry-after": str(max(1, math.ceil(wait)))},
            )
            return
        body = await _read_body(receive, self._max_body)
        if body is None:
            await _refuse(send, 413, f"the request body is over {self._max_body} bytes")
            return
        caller = self._callers.by_key[key]
        try:
            call = _jsonrpc_call(scope, body)
        except RecursionError:
            await _refuse_parse(send, scope)
            return
        method = call.get("method")
        name_method(scope, method)
        if isinstance(method, str) and "/" not in method and not headers.get("a2a-version"):
            await _refuse_unversioned(send, method, call.get("id"))
            return
        streaming = method in _STREAMING_METHODS or bool(
            _STREAMING_PATH.search(scope.get("path", ""))
        )
        if streaming and caller.streams >= self._max_streams:
            await _refuse(send, 429, f"this caller already holds {self._max_streams} streams open")
            return
        inner = dict(scope)
        inner.setdefault("state", {})
        inner[CALLER_SCOPE_KEY] = identity
        if streaming:
            caller.streams += 1
        try:
            await self._app(inner, _replay(body, receive), send)
        finally:
            if streaming:
                caller.streams -= 1

    def _caller(self, headers: dict[str, str], scope: Scope) -> tuple[str, GatewayIdentity] | str:
        """The caller's key and identity, or why it is refused."""
        token = headers.get("x-api-key")
        authorization = headers.get("authorization", "")
        if token is None and authorization[:7].lower() == "bearer ":
            token = authorization[7:].strip()
        if token:
            digest = hashlib.sha256(token.encode()).hexdigest()
            identity = self._tokens.get(digest)
            if identity is None:
                return "the token is not known to this gateway; check the one you were given"
            return f"token:{digest}", identity
        if authorization:
            return "send the token as `Authorization: Bearer <token>` or `X-API-Key: <token>`"
        if self._anonymous:
            client = scope.get("client") or ("unknown", 0)
            return f"address:{client[0]}", ANONYMOUS
        return (
            "authentication required: send `Authorization: Bearer <token>` or `X-API-Key: <token>`"
        )


def _headers(scope: Scope) -> dict[str, str]:
    return {
        name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]
    }


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole body, or None once it is over `limit` bytes."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Callable[[], Awaitable[MutableMapping[str, Any]]]:
    """A `receive` that gives the body read already, then what the client sends next."""
    sent = False

    async def replayed() -> MutableMapping[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


def _jsonrpc_call(scope: Scope, body: bytes) -> dict[str, Any]:
    """The JSON-RPC call a request to an agent's endpoint makes (empty for anything else)."""
    if not _JSONRPC_PATH.match(scope.get("path", "")) or not body.lstrip().startswith(b"{"):
        return {}
    try:
        call = json.loads(body)
    except ValueError:
        return {}
    return call if isinstance(call, dict) else {}


async def _refuse_unversioned(send: Send, method: str, request_id: Any) -> None:
    """Answer a v1.0 method called without `A2A-Version` with the version error, saying why."""
    message = (
        f"{method} is an A2A 1.0 method: send the header 'A2A-Version: 1.0' "
        "(a request without it is read as A2A 0.3)"
    )
    if not isinstance(request_id, str | int) or isinstance(request_id, bool):
        request_id = None
    error = {"jsonrpc": "2.0", "id": request_id, "error": {"code": -32009, "message": message}}
    await _reply(send, 200, error)


async def _refuse_parse(send: Send, scope: Scope) -> None:
    """Refuse a body nested too deeply to parse: a JSON-RPC parse error, or HTTP 400."""
    message = "the body's JSON nests deeper than the gateway parses"
    if _JSONRPC_PATH.match(scope.get("path", "")):
        error = {"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": message}}
        await _reply(send, 200, error)
    else:
        await _refuse(send, 400, message)


async def _refuse(
    send: Send, status: int, message: str, headers: dict[str, str] | None = None
) -> None:
    await _reply(send, status, {"error": {"code": status, "message": message}}, headers)


async def _reply(
    send: Send, status: int, content: Any, headers: dict[str, str] | None = None
) -> None:
    body = json.dumps(content).encode()
    raw = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *((name.encode(), value.encode()) for name, value in (headers or {}).items()),
    ]
    start: Message = {"type": "http.response.start", "status": status, "headers": raw}
    await send(start)
    await send({"type": "http.response.body", "body": body})
