"""A client waiting on many tasks gets every result, whatever the server's poller limit."""

from __future__ import annotations

import asyncio
import uuid

import structlog

from a2a_temporal.testing import DevStack
from tests.agents import Slow, Splitter

# Long polls the dev server takes at once per namespace; the worker's own polls count too.
POLLER_LIMIT = 30
# Tasks that outlast the SDK's own retries (about 10 s), waited on by more polls than that.
TASKS = 90
SLEEP = 15.0


async def test_every_result_comes_back_when_the_server_throttles_long_polls() -> None:
    """More result waits than the server takes, for longer than the SDK retries: none is lost."""
    async with (
        DevStack(ui=False, dynamic_config={"frontend.namespaceCount": POLLER_LIMIT}) as stack,
        stack.worker([Slow()], task_queue=f"throttled-{uuid.uuid4()}") as client,
    ):
        with structlog.testing.capture_logs() as logs:
            results = await asyncio.gather(
                *(client.call("slow", "sleep", args={"seconds": SLEEP}) for _ in range(TASKS))
            )
    assert [result.output for result in results] == ["woke"] * TASKS
    throttled = [log for log in logs if log["event"] == "read_retrying"]
    assert throttled, "the server never refused a long poll: the test proves nothing"
    assert "namespace concurrent poller limit exceeded" in throttled[0]["error"]


async def test_waits_beyond_the_long_poll_bound_learn_results_from_visibility(
    stack: DevStack,
) -> None:
    """Two long tasks hold both long-poll slots; forty short ones still return at once."""
    queue = f"shared-polls-{uuid.uuid4()}"
    async with stack.worker([Slow(), Splitter()], task_queue=queue, result_long_polls=2) as client:
        sleepers = [await client.start("slow", "sleep", args={"seconds": 300}) for _ in range(2)]
        holding = [asyncio.ensure_future(sleeper.result()) for sleeper in sleepers]
        await asyncio.sleep(0)  # both waits take their slots
        results = await asyncio.wait_for(
            asyncio.gather(
                *(client.call("splitter", "upper", args={"text": f"w{i}"}) for i in range(40))
            ),
            timeout=60,
        )
        assert [result.output for result in results] == [f"W{i}" for i in range(40)]
        assert not any(wait.done() for wait in holding), "the long tasks' waits hold their slots"
        for sleeper in sleepers:
            await sleeper.cancel()
        ended = await asyncio.gather(*holding)
    assert [result.status for result in ended] == ["canceled", "canceled"]
