"""The A2A gateway: the Agent2Agent protocol over our workflows, holding no task state.

Every registered agent is served under `/agents/<name>`: its card at
`/agents/<name>/.well-known/agent-card.json`, JSON-RPC (v1.0, and v0.3
method names) at `/agents/<name>` and HTTP+JSON under `/agents/<name>/`.
`/agents` lists them. A skill whose input model declares `a2a_message_id`
receives the A2A message's id in it. A2A task ids are workflow ids; `GetTask`, `ListTasks`
and streams are answered from Temporal, so gateways can be restarted or run
side by side behind a load balancer.
"""

from __future__ import annotations

import re

import structlog
from a2a.extensions.common import HTTP_EXTENSION_HEADER, get_requested_extensions
from a2a.server.context import ServerCallContext
from a2a.server.routes import (
    ServerCallContextBuilder,
    create_jsonrpc_routes,
    create_rest_routes,
)
from google.protobuf.json_format import MessageToDict
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send
from temporalio.runtime import Runtime

from a2a_temporal.core.agent import AgentCard
from a2a_temporal.protocol.guard import CALLER_SCOPE_KEY, GatewayGuard
from a2a_temporal.protocol.handler import CALLER_KEY, AgentRequestHandler
from a2a_temporal.protocol.media_types import JsonMediaTypes, cacheable_json
from a2a_temporal.protocol.numbers import IntegralNumbers, restore_numbers
from a2a_temporal.protocol.request_telemetry import RequestTelemetry
from a2a_temporal.protocol.tasks import ArtifactParts, TaskReader
from a2a_temporal.settings import AgentSettings
from a2a_temporal.temporal.client import TemporalA2AClient
from a2a_temporal.temporal.readiness import Readiness, unready

__all__ = ["Gateway", "create_gateway_app"]

_log = structlog.get_logger("a2a_temporal.gateway")
AGENT_CARD_PATH = "/.well-known/agent-card.json"
_CREDENTIAL_HEADERS = ("authorization", "x-api-key", "cookie")
_AGENT_PATH = re.compile(r"^/agents/([^/]+)(/.*)?$")


def create_gateway_app(
    client: TemporalA2AClient, settings: AgentSettings | None = None
) -> Starlette:
    """An ASGI app serving every agent in the registry over A2A.

    Args:
        client: Where tasks are started and read (its plugin's registry lists the agents).
        settings: Tokens, public URL and artifact limits; the client's when None.
    """
    return Gateway(client, settings or client.settings).app()


class Gateway:
    """Routes A2A requests for any registered agent to a per-agent request handler."""

    def __init__(self, client: TemporalA2AClient, settings: AgentSettings) -> None:
        self.client = client
        self.settings = settings
        self.reader = TaskReader(
            client.temporal,
            ArtifactParts(client.store, settings),
        )
        self._agents: dict[str, ASGIApp] = {}
        runtime = client.temporal.service_client.config.runtime or Runtime.default()
        self._meter = runtime.metric_meter
        self.draining = False
        self._readiness = Readiness(
            lambda: unready(client.temporal, client.store, settings.s3_endpoint)
        )

    def app(self) -> Starlette:
        """The ASGI app."""
        return Starlette(
            routes=[
                Route("/agents", self._index, methods=["GET"]),
                Route("/livez", self._live, methods=["GET"]),
                Route("/readyz", self._ready, methods=["GET"]),
            ],
            middleware=[
                Middleware(RequestTelemetry, meter=self._meter),
                Middleware(GatewayGuard, settings=self.settings),
                Middleware(_AgentPaths, gateway=self),
            ],
        )

    async def cards(self) -> list[AgentCard]:
        """Every live agent's card (this process's own first)."""
        return await self.client.discovery.cards()

    async def card(self, name: str) -> AgentCard | None:
        """One agent's card, or None."""
        return next((c for c in await self.cards() if c.name == name), None)

    def url_of(self, request: Request, agent: str) -> str:
        """Where clients reach an agent (`request` is one to the gateway's root)."""
        base = self.settings.gateway_public_url or str(request.base_url)
        return f"{base.rstrip('/')}/agents/{agent}"

    def _agent_url(self, request: Request, agent: str) -> str:
        """Where clients reach an agent (`request` is one to that agent's app)."""
        if self.settings.gateway_public_url:
            return f"{self.settings.gateway_public_url.rstrip('/')}/agents/{agent}"
        return str(request.base_url).rstrip("/")

    def drain(self) -> None:
        """Say `/readyz` 503 from now on: the gateway is stopping."""
        self.draining = True

    async def _live(self, request: Request) -> Response:
        return PlainTextResponse("live")

    async def _ready(self, request: Request) -> Response:
        if self.draining:
            return PlainTextResponse("draining: the gateway is stopping", status_code=503)
        reasons = await self._readiness.reasons()
        if reasons:  # the probe is public: the reasons go to the log, not to the caller
            _log.warning("gateway not ready", reasons=reasons)
            return PlainTextResponse("not ready: see the gateway's log", status_code=503)
        return PlainTextResponse("ready")

    async def _index(self, request: Request) -> Response:
        return JSONResponse(
            [
                {
                    "name": card.name,
                    "description": card.description,
                    "url": self.url_of(request, card.name),
                    "card": f"{self.url_of(request, card.name)}/.well-known/agent-card.json",
                }
                for card in await self.cards()
            ]
        )

    async def serve_agent(self, name: str, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer a request for agent `name` (its path already stripped of `/agents/<name>`)."""
        card = await self.card(name)
        if card is None:
            known = ", ".join(c.name for c in await self.cards()) or "none"
            response = JSONResponse(
                {"error": f"no agent {name!r} is registered (agents: {known})"}, status_code=404
            )
            await response(scope, receive, send)
            return
        app = self._agents.get(name)
        if app is None:
            app = self._agents[name] = self._agent_app(name)
        await app(scope, receive, send)

    def _agent_app(self, name: str) -> ASGIApp:
        handler = AgentRequestHandler(self, name)
        builder = _ContextBuilder()

        async def card(request: Request) -> Response:
            found = await self.card(name)
            if found is None:
                return JSONResponse({"error": f"no agent {name!r}"}, status_code=404)
            url = self._agent_url(request, name)
            card = restore_numbers(MessageToDict(handler.a2a_card(found, url)))
            return cacheable_json(request, card)

        routes = [
            Route(AGENT_CARD_PATH, card, methods=["GET"]),
            *create_jsonrpc_routes(handler, "/", context_builder=builder, enable_v0_3_compat=True),
            *create_rest_routes(handler, path_prefix="", context_builder=builder),
        ]
        return IntegralNumbers(JsonMediaTypes(Starlette(routes=routes)))


class _AgentPaths:
    """Sends `/agents/<name>` and everything under it to that agent's app."""

    def __init__(self, app: ASGIApp, gateway: Gateway) -> None:
        self._app = app
        self._gateway = gateway

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        match = _AGENT_PATH.match(scope.get("path", "")) if scope["type"] == "http" else None
        if match is None:
            await self._app(scope, receive, send)
            return
        name = match.group(1)
        prefix = f"{scope.get('root_path', '')}/agents/{name}"
        inner = dict(scope)
        inner["root_path"] = prefix
        if not match.group(2):
            inner["path"] = f"{prefix}/"  # Starlette routes `path` minus `root_path`
            inner["raw_path"] = inner["path"].encode()
        await self._gateway.serve_agent(name, inner, receive, send)


class _ContextBuilder(ServerCallContextBuilder):
    """Hands the SDK the caller `GatewayGuard` found; tokens and cookies go no further."""

    def build(self, request: Request) -> ServerCallContext:
        headers = {
            name: value
            for name, value in request.headers.items()
            if name.lower() not in _CREDENTIAL_HEADERS
        }
        return ServerCallContext(
            state={CALLER_KEY: request.scope.get(CALLER_SCOPE_KEY), "headers": headers},
            requested_extensions=get_requested_extensions(
                request.headers.getlist(HTTP_EXTENSION_HEADER)
            ),
        )
