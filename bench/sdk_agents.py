"""The trivial agent written with the official a2a-sdk alone (its executor API, in-memory store).

Serves `upper` at `/upper`: it upper-cases the `text` field of the message's
data part (or its text) and completes with that as a text artifact, the same
work as the `trivial.noop` skill. Run it with `python -m bench.sdk_agents --port N`.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import uvicorn
from a2a.helpers import get_message_text
from a2a.server.agent_execution.agent_executor import AgentExecutor
from a2a.server.agent_execution.context import RequestContext
from a2a.server.events.event_queue import EventQueue
from a2a.server.request_handlers import DefaultRequestHandler
from a2a.server.routes import create_agent_card_routes, create_jsonrpc_routes
from a2a.server.tasks.inmemory_task_store import InMemoryTaskStore
from a2a.server.tasks.task_updater import TaskUpdater
from a2a.types import a2a_pb2 as pb
from google.protobuf import json_format
from starlette.applications import Starlette

from a2a_temporal._process import ManagedProcess, free_port


class UpperExecutor(AgentExecutor):
    """Upper-cases the message and completes."""

    async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
        message = context.message
        if message is None or not context.task_id or not context.context_id:
            raise ValueError("execute needs a message with its task and context ids")
        data = next((p.data for p in message.parts if p.HasField("data")), None)
        text = json_format.MessageToDict(data).get("text", "") if data else ""
        updater = TaskUpdater(event_queue, context.task_id, context.context_id)
        await event_queue.enqueue_event(
            pb.Task(
                id=context.task_id,
                context_id=context.context_id,
                status=pb.TaskStatus(state=pb.TaskState.TASK_STATE_SUBMITTED),
                history=[message],
            )
        )
        await updater.add_artifact(
            [pb.Part(text=(text or get_message_text(message)).upper())], name="result"
        )
        await updater.complete()

    async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
        await TaskUpdater(event_queue, context.task_id or "", context.context_id or "").cancel()


def app(port: int) -> Starlette:
    url = f"http://127.0.0.1:{port}/upper"
    card = pb.AgentCard(
        name="upper",
        description="upper-cases text",
        version="1.0.0",
        capabilities=pb.AgentCapabilities(streaming=True),
        default_input_modes=["text/plain", "application/json"],
        default_output_modes=["text/plain"],
        skills=[pb.AgentSkill(id="upper", name="upper", description="upper-case", tags=["bench"])],
        supported_interfaces=[
            pb.AgentInterface(url=url, protocol_binding="JSONRPC", protocol_version="1.0")
        ],
    )
    handler = DefaultRequestHandler(
        agent_executor=UpperExecutor(), task_store=InMemoryTaskStore(), agent_card=card
    )
    routes = create_agent_card_routes(card, card_url="/upper/.well-known/agent-card.json")
    return Starlette(routes=[*routes, *create_jsonrpc_routes(handler, "/upper")])


@contextlib.asynccontextmanager
async def serving(log_dir: Path) -> AsyncIterator[str]:
    """Run the SDK server in its own process; yield the agent's URL."""
    port = free_port()
    argv = [sys.executable, "-m", "bench.sdk_agents", "--port", str(port)]
    process = ManagedProcess("a2a-sdk server", argv, log_dir / "sdk-server.log")
    process.start()
    try:
        await process.wait_until_listening(port)
        yield f"http://127.0.0.1:{port}/upper"
    finally:
        await process.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    port = parser.parse_args().port
    uvicorn.run(app(port), host="127.0.0.1", port=port, log_level="warning")
