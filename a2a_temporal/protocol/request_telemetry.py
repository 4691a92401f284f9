"""The gateway's requests as metrics and spans: by A2A method and HTTP status.

The outermost middleware, so refusals (401, 413, 429) count too. Each
request is a server span continuing the caller's W3C `traceparent` (only
that: a caller's baggage is dropped); the tasks it starts are its children. A JSON-RPC
call's method is only known once its body is read: the guard reads it and
names the method with `name_method`. Method labels come from a closed set,
whatever a caller sends, so a caller cannot grow the metric's series.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send
from temporalio.common import MetricMeter

from a2a_temporal.temporal import metrics
from a2a_temporal.temporal.tracing import server_span

__all__ = ["RequestTelemetry", "name_method"]

_NOTE_KEY = "a2a_temporal.method"
_JSONRPC_METHODS = frozenset(
    {
        "SendMessage",
        "SendStreamingMessage",
        "GetTask",
        "ListTasks",
        "CancelTask",
        "SubscribeToTask",
        "CreateTaskPushNotificationConfig",
        "GetTaskPushNotificationConfig",
        "ListTaskPushNotificationConfigs",
        "DeleteTaskPushNotificationConfig",
        "GetExtendedAgentCard",
        "message/send",
        "message/stream",
        "tasks/get",
        "tasks/cancel",
        "tasks/resubscribe",
        "tasks/pushNotificationConfig/set",
        "tasks/pushNotificationConfig/get",
        "tasks/pushNotificationConfig/list",
        "tasks/pushNotificationConfig/delete",
        "agent/getAuthenticatedExtendedCard",
    }
)
_CONFIGS = re.compile(r"/tasks/[^/]+/pushNotificationConfigs$")
_CONFIG = re.compile(r"/tasks/[^/]+/pushNotificationConfigs/[^/]+$")
_REST_METHODS = [
    (re.compile(r"/\.well-known/agent-card\.json$"), "GET", "AgentCard"),
    (re.compile(r"/message:send$"), "POST", "SendMessage"),
    (re.compile(r"/message:stream$"), "POST", "SendStreamingMessage"),
    (re.compile(r"/tasks/[^/]+:cancel$"), "POST", "CancelTask"),
    (re.compile(r"/tasks/[^/]+:subscribe$"), "", "SubscribeToTask"),
    (_CONFIGS, "POST", "CreateTaskPushNotificationConfig"),
    (_CONFIGS, "GET", "ListTaskPushNotificationConfigs"),
    (_CONFIG, "GET", "GetTaskPushNotificationConfig"),
    (_CONFIG, "DELETE", "DeleteTaskPushNotificationConfig"),
    (re.compile(r"/tasks/[^/:]+$"), "GET", "GetTask"),
    (re.compile(r"/tasks$"), "GET", "ListTasks"),
    (re.compile(r"/(extendedAgentCard|card)$"), "GET", "GetExtendedAgentCard"),
    (re.compile(r"^/agents/?$"), "GET", "ListAgents"),
    (re.compile(r"^/(livez|readyz)$"), "GET", "Health"),
]  # fmt: skip


@dataclass
class _Noted:
    method: str = ""


def name_method(scope: Scope, method: object) -> None:
    """Say which JSON-RPC method the request calls (anything unknown is `other`)."""
    noted = scope.get(_NOTE_KEY)
    if isinstance(noted, _Noted):
        noted.method = method if isinstance(method, str) and method in _JSONRPC_METHODS else ""


class RequestTelemetry:
    """Counts and traces every HTTP request, once it is answered (or the client goes away).

    Args:
        app: The gateway's app, guard included.
        meter: Where the counts go (the gateway's Temporal runtime's meter).
    """

    def __init__(self, app: ASGIApp, meter: MetricMeter) -> None:
        self._app = app
        self._meter = meter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on in a span; count it by method and status."""
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        noted = _Noted()
        status = 0

        async def counted_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        with server_span("A2A request", _headers(scope)) as span:
            try:
                await self._app({**scope, _NOTE_KEY: noted}, receive, counted_send)
            finally:
                method = noted.method or _rest_method(scope) or "other"
                span.update_name(f"A2A {method}")
                span.set_attribute("http.response.status_code", status)
                metrics.count(
                    self._meter,
                    metrics.GATEWAY_REQUESTS,
                    method=method,
                    status=str(status) if status else "none",
                )


def _headers(scope: Scope) -> dict[str, str]:
    return {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}


def _rest_method(scope: Scope) -> str:
    path, verb = scope.get("path", ""), scope.get("method", "")
    for pattern, wanted, name in _REST_METHODS:
        if (not wanted or wanted == verb) and pattern.search(path):
            return name
    return ""
