"""JSON media types as A2A v1.0 asks: `application/json` in and out of both bindings.

The SDK labels HTTP+JSON responses `application/a2a+json` (the spec's section
11.1 says `application/json`) and answers a JSON-RPC request sent as another
media type with a parse error rather than `ContentTypeNotSupportedError`.
"""

from __future__ import annotations

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["JsonMediaTypes"]

_JSON = "application/json"
_ACCEPTED = (_JSON, "application/a2a+json")
_CONTENT_TYPE_NOT_SUPPORTED = -32005


class JsonMediaTypes:
    """Refuses JSON-RPC requests that are not JSON; labels JSON responses `application/json`."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one request."""
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        if _is_json_rpc(scope):
            media_type = Headers(scope=scope).get("content-type", "").split(";")[0].strip()
            if media_type.lower() not in _ACCEPTED:
                await _refuse(media_type, scope, receive, send)
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
