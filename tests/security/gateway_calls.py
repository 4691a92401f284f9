"""Raw A2A JSON-RPC calls to the gateway as three tenants, for the exposure tests."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
from a2a.types import a2a_pb2 as pb
from google.protobuf import json_format

from a2a_temporal import TemporalA2AClient
from a2a_temporal.protocol.gateway import create_gateway_app
from a2a_temporal.settings import GatewayIdentity
from tests.gateway_helpers import message, serving

TOKENS = {
    "ann": "token-of-ann",
    "bob": "token-of-bob",
    "admin": "token-of-admin",
}
IDENTITIES = {
    TOKENS["ann"]: GatewayIdentity(subject="ann"),
    TOKENS["bob"]: GatewayIdentity(subject="bob"),
    TOKENS["admin"]: GatewayIdentity(subject="ops", scopes=("tasks:admin",)),
}
TASK_NOT_FOUND = -32001


@contextlib.asynccontextmanager
async def tenant_gateway(client: TemporalA2AClient, **settings: Any) -> AsyncIterator[str]:
    """The gateway over `client` with the three tenants' tokens; yields its base URL."""
    configured = client.settings.model_copy(update={"gateway_tokens": IDENTITIES, **settings})
    async with serving(create_gateway_app(client, configured)) as url:
        yield url


async def rpc(
    http: httpx.AsyncClient, url: str, method: str, params: Any, who: str | None
) -> dict[str, Any]:
    """One JSON-RPC call as `who` (a tenant, or None for no token); the reply's JSON.

    A streaming method's reply is its first event.
    """
    headers = {"A2A-Version": "1.0"}
    if who:
        headers["Authorization"] = f"Bearer {TOKENS[who]}"
    body = {"jsonrpc": "2.0", "id": str(uuid.uuid4()), "method": method, "params": params}
    async with http.stream("POST", url, json=body, headers=headers) as response:
        if response.headers.get("content-type", "").startswith("text/event-stream"):
            async for line in response.aiter_lines():
                if line.startswith("data:"):
                    reply: dict[str, Any] = json.loads(line.removeprefix("data:"))
                    return reply
            return {}
        await response.aread()
        if response.status_code != 200:
            return {"http_status": response.status_code, **response.json()}
        found: dict[str, Any] = response.json()
        return found


def send_params(
    *, data: Any = None, text: str | None = None, skill: str | None = None, task_id: str = ""
) -> dict[str, Any]:
    """`SendMessage` params (returning at once) with a data or text part."""
    request = pb.SendMessageRequest(
        message=message(data=data, text=text, skill=skill, task_id=task_id),
        configuration=pb.SendMessageConfiguration(return_immediately=True),
    )
    params: dict[str, Any] = json_format.MessageToDict(request)
    return params
