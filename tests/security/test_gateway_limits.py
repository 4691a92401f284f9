"""Finding 6: the gateway refuses what would cost it before any work is spent on it.

An oversized body is refused from its `Content-Length` before a byte of it is
read (no token needed to be refused), and a chunked one once it passes the
limit; missing and unknown tokens get 401 with `WWW-Authenticate`; a caller
over its rate gets 429 with `Retry-After`, and one holding its share of
streams cannot open more, while other callers go on unaffected.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import httpx

from a2a_temporal.testing import DevStack
from tests.agents import Approver
from tests.security.gateway_calls import TOKENS, rpc, send_params, tenant_gateway
from tests.temporal_helpers import running

MIB = 2**20


async def _raw(base: str, head: str, body_chunks: int = 0) -> str:
    """Send `head` (and `body_chunks` MiB chunks, chunked) on a socket; the status line."""
    host, port = base.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(head.encode())
        for _ in range(body_chunks):
            writer.write(f"{MIB:x}\r\n".encode() + b" " * MIB + b"\r\n")
            with contextlib.suppress(ConnectionError):
                await writer.drain()
        status = await asyncio.wait_for(reader.readline(), 30)
        return status.decode().strip()
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


async def test_oversized_bodies_are_refused_before_reading_and_before_authentication(
    stack: DevStack,
) -> None:
    async with (
        running(stack, [Approver()]) as client,
        tenant_gateway(client, gateway_max_body_bytes=MIB) as base,
    ):
        declared = await _raw(
            base,
            "POST /agents/approver HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {300 * MIB}\r\n\r\n",
        )
        chunked = await _raw(
            base,
            "POST /agents/approver HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Authorization: Bearer {TOKENS['ann']}\r\nTransfer-Encoding: chunked\r\n\r\n",
            body_chunks=3,
        )
    assert declared.startswith("HTTP/1.1 413 "), "refused though no body byte was sent"
    assert chunked.startswith("HTTP/1.1 413 "), "refused once past the limit"


async def test_missing_and_unknown_tokens_get_401_with_www_authenticate(stack: DevStack) -> None:
    async with (
        running(stack, [Approver()]) as client,
        tenant_gateway(client) as base,
        httpx.AsyncClient(timeout=30) as http,
    ):
        url = f"{base}/agents/approver"
        body = {"jsonrpc": "2.0", "id": 1, "method": "ListTasks", "params": {}}
        missing = await http.post(url, json=body)
        unknown = await http.post(url, json=body, headers={"Authorization": "Bearer nope"})
        card = await http.get(f"{url}/.well-known/agent-card.json")
    assert missing.status_code == unknown.status_code == 401
    assert missing.headers["www-authenticate"] == 'Bearer realm="a2a-temporal"'
    assert unknown.headers["www-authenticate"].endswith('error="invalid_token"')
    assert "authentication required" in missing.json()["error"]["message"]
    assert "not known to this gateway" in unknown.json()["error"]["message"]
    assert card.status_code == 200, "agent cards stay public"


async def test_a_caller_over_its_rate_gets_429_and_others_go_on(stack: DevStack) -> None:
    async with (
        running(stack, [Approver()]) as client,
        tenant_gateway(client, gateway_requests_per_second=0.5, gateway_request_burst=3) as base,
        httpx.AsyncClient(timeout=30) as http,
    ):
        url = f"{base}/agents/approver"
        body = {"jsonrpc": "2.0", "id": 1, "method": "ListTasks", "params": {}}
        ann = {"Authorization": f"Bearer {TOKENS['ann']}"}
        statuses = [(await http.post(url, json=body, headers=ann)).status_code for _ in range(4)]
        limited = await http.post(url, json=body, headers=ann)
        bob = await http.post(url, json=body, headers={"Authorization": f"Bearer {TOKENS['bob']}"})
    assert statuses == [200, 200, 200, 429]
    assert int(limited.headers["retry-after"]) >= 1
    assert bob.status_code == 200, "another caller has its own budget"


@contextlib.asynccontextmanager
async def _subscribed(
    http: httpx.AsyncClient, url: str, task_id: str, who: str
) -> AsyncIterator[int]:
    """Hold a `SubscribeToTask` stream open; yield its HTTP status."""
    body = {"jsonrpc": "2.0", "id": 1, "method": "SubscribeToTask", "params": {"id": task_id}}
    headers = {"Authorization": f"Bearer {TOKENS[who]}", "A2A-Version": "1.0"}
    async with http.stream("POST", url, json=body, headers=headers) as response:
        yield response.status_code


async def test_a_caller_holds_at_most_its_share_of_streams(stack: DevStack) -> None:
    async with (
        running(stack, [Approver()]) as client,
        tenant_gateway(client, gateway_max_streams=2) as base,
        httpx.AsyncClient(timeout=60) as http,
    ):
        url = f"{base}/agents/approver"
        ann_task = await _started(http, url, "ann")
        bob_task = await _started(http, url, "bob")
        async with (
            _subscribed(http, url, ann_task, "ann") as first,
            _subscribed(http, url, ann_task, "ann") as second,
            _subscribed(http, url, ann_task, "ann") as third,
            _subscribed(http, url, bob_task, "bob") as bobs,
        ):
            held = (first, second, third, bobs)
        after = await rpc(http, url, "ListTasks", {}, "ann")
        for task_id in (ann_task, bob_task):
            await client.get_task(task_id).cancel()
    assert held == (200, 200, 429, 200)
    assert "result" in after, "closed streams are given back"


async def _started(http: httpx.AsyncClient, url: str, who: str) -> str:
    params = send_params(data={"text": "plan"}, skill="review")
    return str((await rpc(http, url, "SendMessage", params, who))["result"]["task"]["id"])
