"""JSON media types as A2A v1.0 asks: `application/json` in and out of both bindings.

A POST in another media type is refused: JSON-RPC with
`ContentTypeNotSupportedError`, HTTP+JSON with 415.

The SDK labels HTTP+JSON responses `application/a2a+json` (the spec's section
11.1 says `application/json`) and answers a JSON-RPC request sent as another
media type with a parse error rather than `ContentTypeNotSupportedError`.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["JsonMediaTypes", "cacheable_json"]

_JSON = "application/json"
_ACCEPTED = (_JSON, "application/a2a+json")
_CONTENT_TYPE_NOT_SUPPORTED = -32005
_CARD_MAX_AGE = 60


class JsonMediaTypes:
    """Refuses JSON-RPC requests that are not JSON; labels JSON responses `application/json`."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one request."""
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        if scope.get("method") == "POST":
            headers = Headers(scope=scope)
            media_type = headers.get("content-type", "").split(";")[0].strip()
            rpc = _is_json_rpc(scope)
            bodiless = not media_type and headers.get("content-length", "0") == "0"
            if media_type.lower() not in _ACCEPTED and (rpc or not bodiless):
                await (_refuse if rpc else _refuse_rest)(media_type, scope, receive, send)
                return

        async def relabel(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if headers.get("content-type", "").startswith("application/a2a+json"):
                    headers["content-type"] = _JSON
            await send(message)

        await self._app(scope, receive, relabel)


def _is_json_rpc(scope: Scope) -> bool:
    """JSON-RPC requests are POSTs to the agent's root (HTTP+JSON ones have a path)."""
    path = str(scope.get("path", ""))
    return scope.get("method") == "POST" and path.removeprefix(scope.get("root_path", "")) == "/"


async def _refuse(media_type: str, scope: Scope, receive: Receive, send: Send) -> None:
    error = {
        "code": _CONTENT_TYPE_NOT_SUPPORTED,
        "message": f"JSON-RPC requests must be sent as {_JSON}, not {media_type or 'untyped'}",
    }
    response = JSONResponse({"jsonrpc": "2.0", "id": None, "error": error})
    await response(scope, receive, send)


async def _refuse_rest(media_type: str, scope: Scope, receive: Receive, send: Send) -> None:
    """HTTP+JSON: 415, in the binding's error shape (`google.rpc.Status`)."""
    error = {
        "code": 415,
        "status": "INVALID_ARGUMENT",
        "message": f"requests must be sent as {_JSON}, not {media_type or 'untyped'}",
    }
    await JSONResponse({"error": error}, status_code=415)(scope, receive, send)


def cacheable_json(request: Request, content: Any) -> Response:
    """`content` as JSON that HTTP caches may keep a minute, with an `ETag` (304 when matched).

    Agent cards change only when a worker registers other agents or skills;
    A2A clients should cache them (`Cache-Control`, `ETag`; spec section 8.6).
    """
    body = json.dumps(content, separators=(",", ":"), sort_keys=True).encode()
    tag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {"Cache-Control": f"public, max-age={_CARD_MAX_AGE}", "ETag": tag}
    if tag in {t.strip() for t in request.headers.get("if-none-match", "").split(",")}:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=_JSON, headers=headers)
