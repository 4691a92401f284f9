"""Serving the A2A gateway on a free loopback port, and the official SDK client for it."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import uvicorn
from a2a.client import ClientConfig, create_client
from a2a.client.client import Client
from a2a.types import a2a_pb2 as pb
from google.protobuf import json_format

from a2a_temporal import TemporalA2AClient
from a2a_temporal._process import free_port
from a2a_temporal.protocol.gateway import create_gateway_app
from a2a_temporal.settings import GatewayIdentity

TOKEN = "t0ken-for-ann"
IDENTITY = GatewayIdentity(subject="ann", scopes=("vault:read",))


@contextlib.asynccontextmanager
async def gateway(client: TemporalA2AClient, **settings: Any) -> AsyncIterator[str]:
    """Serve the gateway over `client` with uvicorn; yield its base URL."""
    configured = client.settings.model_copy(
        update={"gateway_tokens": {TOKEN: IDENTITY}, **settings}
    )
    async with serving(create_gateway_app(client, configured)) as url:
        yield url


@contextlib.asynccontextmanager
async def serving(app: Any) -> AsyncIterator[str]:
    """Serve an ASGI app with uvicorn on a free loopback port; yield its base URL."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    task = asyncio.create_task(server.serve())
    async with asyncio.timeout(30):
        while not server.started:
            await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@contextlib.asynccontextmanager
async def a2a_client(
    url: str, *, token: str | None = TOKEN, streaming: bool = False
) -> AsyncIterator[Client]:
    """The official a2a-sdk client for one agent of the gateway."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(headers=headers, timeout=60) as http:
        client = await create_client(url, ClientConfig(httpx_client=http, streaming=streaming))
        try:
            yield client
        finally:
            await client.close()


def message(
    *,
    text: str | None = None,
    data: Any = None,
    skill: str | None = None,
    message_id: str | None = None,
    **fields: Any,
) -> pb.Message:
    """A user message: a text part, a data part, and the skill in its metadata."""
    parts = []
    if text is not None:
        parts.append(pb.Part(text=text))
    if data is not None:
        value = json_format.ParseDict(data, pb.Part().data)
        parts.append(pb.Part(data=value))
    message_id = message_id or str(uuid.uuid4())
    result = pb.Message(message_id=message_id, role=pb.Role.ROLE_USER, parts=parts, **fields)
    if skill:
        result.metadata.update({"skill": skill})
    return result


def send_message_body(text: str, skill: str) -> dict[str, Any]:
    """A JSON-RPC `SendMessage` of `text` to `skill`, as a caller without the SDK sends it."""
    return {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "SendMessage",
        "params": {
            "message": {
                "messageId": uuid.uuid4().hex,
                "role": "ROLE_USER",
                "parts": [{"text": text}],
                "metadata": {"skill": skill},
            },
            "configuration": {"blocking": True},
        },
    }


def data_of(part: pb.Part) -> Any:
    return json_format.MessageToDict(part.data)
