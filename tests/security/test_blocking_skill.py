"""A skill that blocks its worker's event loop: the heartbeat timeout catches it, and says so."""

from __future__ import annotations

import time
from typing import ClassVar

from a2a_temporal import A2AAgent, NoAuth, RunContext, skill
from a2a_temporal.testing import DevStack
from tests.temporal_helpers import running


class Blocker(A2AAgent):
    """Blocks the event loop on its first attempt (a sync HTTP call, say), then behaves."""

    name = "blocker"
    attempts: ClassVar[list[str]] = []

    @skill(retries=0)
    async def block_once(self, ctx: RunContext[NoAuth]) -> int:
        """Sleeps without awaiting the first time."""
        Blocker.attempts.append(ctx.task_id)
        if len(Blocker.attempts) == 1:
            time.sleep(4)  # noqa: ASYNC251 - the point: nothing else on the loop runs meanwhile
        return len(Blocker.attempts)


async def test_a_blocked_event_loop_is_caught_by_the_heartbeat_and_retried(
    stack: DevStack,
) -> None:
    Blocker.attempts.clear()
    async with running(stack, [Blocker()], heartbeat_timeout="PT2S") as client:
        handle = await client.start("blocker", "block_once")
        events = [e async for e in handle.events()]
        result = await handle.result()
    assert (result.status, result.output) == ("completed", 2), "retried despite retries=0"
    [retry] = [e.payload for e in events if e.kind == "retry"]
    assert retry["reason"] == "worker lost: no heartbeat for 2s"
