"""The official a2a-sdk client as the benchmarks use it."""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
from a2a.client import ClientConfig, create_client
from a2a.client.client import Client
from a2a.types import a2a_pb2 as pb
from google.protobuf import json_format

TOKEN = "bench-token"
COMPLETED = pb.TaskState.TASK_STATE_COMPLETED


@contextlib.asynccontextmanager
async def sdk_client(url: str, *, streaming: bool = False) -> AsyncIterator[Client]:
    """The official a2a-sdk client for the agent at `url` (with the bench token)."""
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(headers=headers, timeout=120) as http:
        client = await create_client(url, ClientConfig(httpx_client=http, streaming=streaming))
        try:
            yield client
        finally:
            await client.close()


def request(skill: str, data: dict[str, Any]) -> pb.SendMessageRequest:
    message = pb.Message(message_id=str(uuid.uuid4()), role=pb.Role.ROLE_USER)
    message.parts.add().data.CopyFrom(json_format.ParseDict(data, pb.Part().data))
    message.metadata.update({"skill": skill})
    return pb.SendMessageRequest(message=message)


async def send_until_completed(client: Client, skill: str, data: dict[str, Any]) -> float:
    """One blocking send; return its wall time (asserting the task completed)."""
    started = time.perf_counter()
    [response] = [r async for r in client.send_message(request(skill, data))]
    elapsed = time.perf_counter() - started
    assert response.task.status.state == COMPLETED, response
    return elapsed
