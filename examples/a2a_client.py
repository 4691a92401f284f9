"""Call an agent served by `a2a-temporal serve` with the official a2a-sdk client.

python -m examples.a2a_client http://127.0.0.1:8080/agents/planner dev-token
"""

from __future__ import annotations

import asyncio
import sys

import httpx
from a2a.client import ClientConfig, create_client
from a2a.types import Message, Part, Role, SendMessageRequest, TaskState


async def main(url: str, token: str) -> None:
    http = httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=60)
    client = await create_client(url, ClientConfig(httpx_client=http, streaming=False))
    message = Message(role=Role.ROLE_USER, message_id="m-1", parts=[Part(text=".")])
    async for response in client.send_message(SendMessageRequest(message=message)):
        task = response.task
        print(TaskState.Name(task.status.state), [artifact.name for artifact in task.artifacts])
    await client.close()
    await http.aclose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
