"""SIGKILL the A2A gateway under many open streams; restart it on the same port.

Each stream is one caller (its own token) of the official a2a-sdk client:
`SendStreamingMessage` to a skill writing `0 1 2 ...` as text deltas at a
steady rate. Once every stream has text, the gateway process is SIGKILLed and
a new one started on the port; every client resubscribes (`SubscribeToTask`,
retried until the gateway answers) and, as the protocol says, takes the
snapshot as the task's state and applies the updates after it. The text each
client ends with must be every delta once, in order; the text a client had
before the kill must be the start of its snapshot.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from a2a.client.client import Client
from a2a.client.errors import A2AClientError
from a2a.types import a2a_pb2 as pb
from a2a.utils.errors import A2AError, UnsupportedOperationError

from a2a_temporal._process import ManagedProcess, free_port
from a2a_temporal.settings import GatewayIdentity
from a2a_temporal.testing import DevStack
from bench.drill_support import count_deltas, io_worker, wait_until
from bench.drill_table import DrillRow
from tests.gateway_helpers import a2a_client, message

SIZES = {"full": (100, 300, 10.0), "ci": (10, 120, 10.0)}  # streams, deltas, deltas a second
_DISCONNECTED = (httpx.HTTPError, A2AClientError, A2AError)


@dataclass
class Follower:
    """One client's view of its task, built from what the gateway sent it."""

    text: str = ""
    task_id: str = ""
    state: int = 0
    lost_at_resubscribe: int = 0
    resubscribed: float | None = None
    first_after: float | None = None
    done: bool = False
    errors: list[str] = field(default_factory=list)

    def apply(self, event: pb.StreamResponse) -> None:
        """Take one update (or the snapshot) into the view."""
        if event.HasField("task"):
            self.take(event.task)
        elif event.HasField("artifact_update"):
            update = event.artifact_update
            if update.artifact.name == "text":
                self.text = (self.text if update.append else "") + update.artifact.parts[0].text
                if self.resubscribed is not None and self.first_after is None:
                    self.first_after = time.time()
        elif event.HasField("status_update"):
            self.state = event.status_update.status.state

    def take(self, task: pb.Task) -> None:
        """Take a task snapshot as the state; count deltas it dropped that were already shown."""
        self.task_id = task.id
        self.state = task.status.state
        text = next((a.parts[0].text for a in task.artifacts if a.name == "text"), "")
        if not text.startswith(self.text):
            self.lost_at_resubscribe += len(self.text.split())
        self.text = text


async def drill(size: str) -> list[DrillRow]:
    """Run the drill at `size` ("full" or "ci")."""
    streams, deltas, rate = SIZES[size]
    queue = f"gw-kill-{uuid.uuid4().hex[:8]}"
    port = free_port()
    tokens = {f"drill-token-{i}": GatewayIdentity(subject=f"caller-{i}") for i in range(streams)}
    with tempfile.TemporaryDirectory() as tmp:
        async with (
            DevStack(ui=False) as stack,
            io_worker(stack, queue, Path(tmp) / "worker.log"),
        ):

            def gateway(n: int) -> ManagedProcess:
                log = Path(tmp) / f"gateway{n}.log"
                return stack.gateway_process(port, log, task_queue=queue, gateway_tokens=tokens)

            first, second = gateway(1), gateway(2)
            try:
                first.start()
                await first.wait_until_listening(port)
                url = f"http://127.0.0.1:{port}/agents/pacer"
                followers = [Follower() for _ in tokens]
                args = {"n": deltas, "per_second": rate}
                running = [
                    asyncio.create_task(_follow(url, token, args, follower))
                    for token, follower in zip(tokens, followers, strict=True)
                ]
                try:
                    await wait_until(
                        lambda: all(f.text for f in followers), 120, "text on every stream"
                    )
                    assert first.process is not None
                    first.process.kill()
                    killed = time.time()
                    await asyncio.to_thread(first.process.wait)
                    second.start()
                    await asyncio.wait_for(asyncio.gather(*running), 300)
                finally:
                    for task in running:
                        task.cancel()
            finally:
                await first.stop()
                await second.stop()
    return [_row(followers, deltas, rate, killed)]


async def _follow(url: str, token: str, args: dict[str, float], follower: Follower) -> None:
    """Stream the task; after the gateway goes, resubscribe until the task ends."""
    async with a2a_client(url, token=token, streaming=True) as client:
        request = pb.SendMessageRequest(message=message(data=args, skill="paced"))
        try:
            async for event in client.send_message(request):
                follower.apply(event)
        except _DISCONNECTED as exc:
            follower.errors.append(type(exc).__name__)
        while not _ended(follower.state):
            await _resubscribe(client, follower)


async def _resubscribe(client: Client, follower: Follower) -> None:
    """One `SubscribeToTask` (a `GetTask` for a task that ended meanwhile); None if refused."""
    try:
        updates = client.subscribe(pb.SubscribeToTaskRequest(id=follower.task_id))
        follower.take((await anext(updates)).task)
        follower.resubscribed = follower.resubscribed or time.time()
        async for event in updates:
            follower.apply(event)
    except UnsupportedOperationError:  # it ended while nobody followed: its final state
        follower.take(await client.get_task(pb.GetTaskRequest(id=follower.task_id)))
        follower.resubscribed = follower.resubscribed or time.time()
    except _DISCONNECTED:
        await asyncio.sleep(0.05)  # the gateway is not back yet: ask again


def _ended(state: int) -> bool:
    return state in (
        pb.TaskState.TASK_STATE_COMPLETED,
        pb.TaskState.TASK_STATE_FAILED,
        pb.TaskState.TASK_STATE_CANCELED,
        pb.TaskState.TASK_STATE_REJECTED,
    )


def _row(followers: list[Follower], deltas: int, rate: float, killed: float) -> DrillRow:
    counts = [count_deltas(f.text, deltas) for f in followers]
    resumed = [f.resubscribed for f in followers if f.resubscribed is not None]
    first = [f.first_after for f in followers if f.first_after is not None]
    return DrillRow(
        fault=f"gateway SIGKILLed under {len(followers)} open streams, restarted on its port",
        tasks=len(followers),
        completed=sum(f.state == pb.TaskState.TASK_STATE_COMPLETED for f in followers),
        lost_events=sum(lost for lost, _ in counts) + sum(f.lost_at_resubscribe for f in followers),
        duplicated_events=sum(duplicated for _, duplicated in counts),
        missing_artifacts=0,
        repeated_side_effects=0,
        recovery_seconds=min(first) - killed if first else None,
        note=f"SIGKILL to the first text delta on a resubscribed stream; all {len(resumed)} "
        f"resubscribed within {max(resumed) - killed:.1f} s; {deltas} deltas a task at "
        f"{rate:g}/s, one token a stream; events = text deltas (the text artifact)",
    )
