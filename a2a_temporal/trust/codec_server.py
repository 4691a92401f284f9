"""A Temporal codec server: lets the Temporal UI show an operator decrypted payloads.

It speaks the UI's codec protocol (`POST /decode` and `POST /encode` with a
JSON `{"payloads": [...]}` body), answers CORS only for the UI's origin, and
serves only requests carrying the token: as `Authorization: Bearer <token>`
(scripts), or as the cookie an operator's browser gets by signing in once at
`/login` (a form that POSTs the token, so it never sits in a URL or an access
log; the UI sends the cookie when its codec setting "include cross-origin
credentials" is on). Needs the server parts of the `a2a` extra (Starlette,
uvicorn).
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, Sequence
from urllib.parse import parse_qs

from google.protobuf import json_format
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route
from temporalio.api.common.v1 import Payload, Payloads
from temporalio.converter import PayloadCodec

__all__ = ["COOKIE", "MAX_BODY", "create_codec_app"]

COOKIE = "a2a_codec"
MAX_BODY = 8 * 2**20
_MAX_LOGIN_BODY = 4096
_LOGIN_FORM = """<!doctype html>
<title>a2a-temporal codec server</title>
<form method="post" action="/login">
<label>Codec server token <input type="password" name="token" autofocus></label>
<button>Sign in</button>
</form>
"""

Coding = Callable[[Sequence[Payload]], Awaitable[list[Payload]]]


def create_codec_app(codec: PayloadCodec, *, token: str, ui_origin: str) -> Starlette:
    """The codec server's ASGI app.

    Args:
        codec: Decodes and encodes payloads (e.g. `AesGcmCodec`).
        token: The bearer token a request must carry.
        ui_origin: The Temporal UI's origin (e.g. `http://localhost:8233`), the only
            one CORS lets in.
    """
    if not token:
        raise ValueError("the codec server needs a token: it hands out decrypted payloads")
    expected = token.encode()

    def allowed(request: Request) -> bool:
        header = request.headers.get("authorization", "").removeprefix("Bearer ")
        cookie = request.cookies.get(COOKIE, "")
        return any(hmac.compare_digest(given.encode(), expected) for given in (header, cookie))

    async def login_form(request: Request) -> Response:
        if "token" in request.query_params:
            return JSONResponse(
                {"error": "send the token in a POST body or header, not in the URL"}, 400
            )
        return HTMLResponse(_LOGIN_FORM)

    async def login(request: Request) -> Response:
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > _MAX_LOGIN_BODY:
                return JSONResponse({"error": f"body over {_MAX_LOGIN_BODY} bytes"}, 413)
        header = request.headers.get("authorization", "").removeprefix("Bearer ")
        form = parse_qs(body.decode("utf-8", "replace")).get("token", [""])
        given = header or form[0]
        if not hmac.compare_digest(given.encode(), expected):
            return JSONResponse({"error": "wrong token"}, 401)
        response = JSONResponse({"ok": f"this browser may now decode payloads for {ui_origin}"})
        response.set_cookie(COOKIE, token, httponly=True, samesite="strict")
        return response

    def route(coding: Coding) -> Callable[[Request], Awaitable[Response]]:
        async def handle(request: Request) -> Response:
            if not allowed(request):
                return JSONResponse({"error": "send Authorization: Bearer <token>"}, 401)
            raw = await request.body()
            if len(raw) > MAX_BODY:
                return JSONResponse({"error": f"body over {MAX_BODY} bytes"}, 413)
            try:
                body = json_format.Parse(raw, Payloads())
            except json_format.ParseError as exc:
                return JSONResponse({"error": f"expected {{'payloads': [...]}}: {exc}"}, 400)
            try:
                result = Payloads(payloads=await coding(list(body.payloads)))
            except ValueError as exc:
                return JSONResponse({"error": str(exc)}, 422)
            return Response(json_format.MessageToJson(result), media_type="application/json")

        return handle

    return Starlette(
        routes=[
            Route("/login", login_form, methods=["GET"]),
            Route("/login", login, methods=["POST"]),
            Route("/decode", route(codec.decode), methods=["POST"]),
            Route("/encode", route(codec.encode), methods=["POST"]),
        ],
        middleware=[
            Middleware(
                CORSMiddleware,
                allow_origins=[ui_origin],
                allow_methods=["POST"],
                allow_headers=["authorization", "content-type", "x-namespace"],
                allow_credentials=True,
            )
        ],
    )
