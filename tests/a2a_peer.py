"""Remote A2A agents written with the official a2a-sdk's executor API (not our code).

`PeerServer` serves three of them with the SDK's own `DefaultRequestHandler`:
`streamer` streams text and completes, `asker` asks for input and completes
with the answer, `gate` works until the test opens its gate (or it is cancelled).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator

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
from starlette.applications import Starlette

from a2a_temporal._process import free_port


class PeerExecutor(AgentExecutor):
    """The three behaviours, chosen by the agent's name."""

    def __init__(self, kind: str, server: PeerServer) -> None:
        self.kind = kind
        self.server = server

    async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
        message = context.message
        assert message is not None and context.task_id and context.context_id
        self.server.messages[(self.kind, context.context_id)] += 1
        updater = TaskUpdater(event_queue, context.task_id, context.context_id)
        if context.current_task is None:
            await event_queue.enqueue_event(
                pb.Task(
                    id=context.task_id,
                    context_id=context.context_id,
                    status=pb.TaskStatus(state=pb.TaskState.TASK_STATE_SUBMITTED),
                    history=[message],
                )
            )
        await updater.start_work(updater.new_agent_message([pb.Part(text=f"{self.kind} working")]))
        if self.kind == "streamer":
            for index, word in enumerate(["remote ", "text ", "streamed"]):
                await updater.add_artifact(
                    [pb.Part(text=word)], artifact_id="answer", name="answer", append=index > 0
                )
                await asyncio.sleep(0.05)
            await updater.complete()
        elif self.kind == "asker":
            if context.current_task is None or not self.server.asked.get(context.context_id):
                self.server.asked[context.context_id] = True
                await updater.requires_input(
                    updater.new_agent_message([pb.Part(text="which colour?")])
                )
                return
            answer = get_message_text(message)
            await updater.add_artifact([pb.Part(text=f"you said {answer}")], name="answer")
            await updater.complete()
        else:
            self.server.started.set()
            await self.server.gate.wait()
            await updater.add_artifact([pb.Part(text="gate opened")], name="answer")
            await updater.complete()

    async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
        self.server.cancelled.append(context.task_id or "")
        updater = TaskUpdater(event_queue, context.task_id or "", context.context_id or "")
        await updater.cancel()


class PeerServer:
    """The peers on a free loopback port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.messages: Counter[tuple[str, str]] = Counter()
        self.asked: dict[str, bool] = {}
        self.cancelled: list[str] = []
        self.started = asyncio.Event()
        self.gate = asyncio.Event()

    def url(self, kind: str) -> str:
        return f"http://127.0.0.1:{self.port}/{kind}"

    def app(self) -> Starlette:
        routes = []
        for kind in ("streamer", "asker", "gate"):
            card = pb.AgentCard(
                name=kind,
                description=f"a peer that {kind}s",
                version="1.0.0",
                capabilities=pb.AgentCapabilities(streaming=True),
                default_input_modes=["text/plain"],
                default_output_modes=["text/plain"],
                skills=[pb.AgentSkill(id=kind, name=kind, description=kind, tags=[kind])],
                supported_interfaces=[
                    pb.AgentInterface(
                        url=self.url(kind), protocol_binding="JSONRPC", protocol_version="1.0"
                    )
                ],
            )
            handler = DefaultRequestHandler(
                agent_executor=PeerExecutor(kind, self),
                task_store=InMemoryTaskStore(),
                agent_card=card,
            )
            routes += create_agent_card_routes(
                card, card_url=f"/{kind}/.well-known/agent-card.json"
            )
            routes += create_jsonrpc_routes(handler, f"/{kind}")
        return Starlette(routes=routes)

    @contextlib.asynccontextmanager
    async def serving(self) -> AsyncIterator[PeerServer]:
        server = uvicorn.Server(
            uvicorn.Config(self.app(), host="127.0.0.1", port=self.port, log_level="warning")
        )
        task = asyncio.create_task(server.serve())
        async with asyncio.timeout(30):
            while not server.started:
                await asyncio.sleep(0.02)
        try:
            yield self
        finally:
            server.should_exit = True
            await task
