"""Two retry budgets: the skill's own `retries`, and the runtime's `infra_retries`."""

from __future__ import annotations

import asyncio
import os
import signal
import uuid
from pathlib import Path

from a2a_temporal import AgentEvent
from a2a_temporal._process import ManagedProcess
from a2a_temporal.testing import DevStack
from tests.agents import Unreliable
from tests.tcp_proxy import FlakyProxy
from tests.temporal_helpers import running


async def _wait_for(path: Path, process: ManagedProcess, limit: float = 60.0) -> None:
    async with asyncio.timeout(limit):
        while not path.exists():
            process.check_alive()
            await asyncio.sleep(0.05)


async def test_a_lost_worker_is_retried_even_when_the_skill_takes_no_retries(
    stack: DevStack, tmp_path: Path
) -> None:
    queue = f"lost-{uuid.uuid4().hex[:8]}"
    workers = [
        stack.worker_process(
            "tests.agents:CRASH_AGENTS",
            tmp_path / f"w{n}.log",
            task_queue=queue,
            heartbeat_timeout="PT2S",
        )
        for n in (1, 2)
    ]
    try:
        workers[0].start()
        await stack.wait_for_agents(["crasher"], queue)
        client = await stack.client(task_queue=queue)
        handle = await client.start("crasher", "park_once", args={"path": str(tmp_path)})
        await _wait_for(tmp_path / "parked", workers[0])
        assert workers[0].process is not None
        workers[0].process.kill()
        workers[0].process.wait()
        (tmp_path / "killed").write_text("yes")
        workers[1].start()
        result = await handle.result(timeout=60)
        events = [e async for e in handle.events()]
    finally:
        for worker in workers:
            await worker.stop()
    assert (result.status, result.output) == ("completed", "resumed")
    assert events == [
        AgentEvent("retry", {"attempt": 2, "reason": "worker lost: no heartbeat for 2s"})
    ]


async def test_skill_errors_and_runtime_errors_spend_separate_budgets(stack: DevStack) -> None:
    key = uuid.uuid4().hex
    async with running(stack, [Unreliable()], infra_retries=2, infra_backoff="PT0.1S") as client:
        own_bug = await client.call("unreliable", "raise_once", args={"key": f"{key}-bug"})
        blip = await client.call("unreliable", "infra_once", args={"key": f"{key}-blip"})
        handle = await client.start("unreliable", "infra_always", args={"key": f"{key}-down"})
        down = await handle.result()
        down_events = [e async for e in handle.events()]
    assert (own_bug.status, own_bug.error) == ("failed", "ValueError: the skill's own bug")
    assert Unreliable.attempts[f"{key}-bug"] == 1, "retries=0: the skill's error is final"
    assert (blip.status, blip.output) == ("completed", 2), "a runtime error is retried anyway"
    assert (down.status, down.error) == ("failed", "the object store is down (after 3 attempts)")
    assert Unreliable.attempts[f"{key}-down"] == 3
    assert [e.payload["attempt"] for e in down_events] == [2, 3]
    assert {e.payload["reason"] for e in down_events} == {"the object store is down"}


async def test_an_object_store_that_is_briefly_down_costs_no_skill_retry(
    stack: DevStack,
) -> None:
    key = uuid.uuid4().hex
    proxy = FlakyProxy(int(stack.s3_endpoint.rsplit(":", 1)[1]))
    await proxy.up()
    try:
        async with running(
            stack,
            [Unreliable()],
            s3_endpoint=f"http://127.0.0.1:{proxy.port}",
            infra_backoff="PT1S",
        ) as client:
            await proxy.down()
            handle = await client.start("unreliable", "store", args={"key": key})
            while Unreliable.attempts.get(key, 0) < 1:
                await asyncio.sleep(0.05)
            description = client.temporal.get_workflow_handle(handle.task_id)
            while not any(
                activity.HasField("last_failure")
                for activity in (await description.describe()).raw_description.pending_activities
            ):
                await asyncio.sleep(0.05)
            await proxy.up()
            result = await handle.result()
            stored = await handle.read_artifact("note.txt")
    finally:
        await proxy.down()
    assert (result.status, result.output) == ("completed", 2)
    assert stored == key.encode()


async def test_a_paused_attempt_is_fenced_off_once_a_newer_one_runs(
    stack: DevStack, tmp_path: Path
) -> None:
    queue = f"paused-{uuid.uuid4().hex[:8]}"
    workers = [
        stack.worker_process(
            "tests.agents:CRASH_AGENTS",
            tmp_path / f"w{n}.log",
            task_queue=queue,
            heartbeat_timeout="PT2S",
        )
        for n in (1, 2)
    ]
    try:
        workers[0].start()
        assert workers[0].pid is not None
        paused = workers[0].pid
        await stack.wait_for_agents(["crasher"], queue)
        client = await stack.client(task_queue=queue)
        handle = await client.start("crasher", "drone", args={"path": str(tmp_path)})
        await _wait_for(tmp_path / f"ticks-{paused}", workers[0])
        os.kill(paused, signal.SIGSTOP)
        workers[1].start()
        events: list[AgentEvent] = []
        async for event in handle.events():
            events.append(event)
            if event.kind == "retry":
                break
        os.kill(paused, signal.SIGCONT)
        await _wait_for(tmp_path / f"stopped-{paused}", workers[0], limit=30)
        (tmp_path / "enough").write_text("yes")
        result = await handle.result(timeout=60)
        events = [e async for e in handle.events()]
    finally:
        for worker in workers:
            await worker.stop()
    assert result.status == "completed", result.error
    newer = result.output
    assert newer != paused
    marker = next(i for i, e in enumerate(events) if e.kind == "retry")
    after = [e.payload["message"].split()[0] for e in events[marker + 1 :] if e.kind == "progress"]
    assert after and set(after) == {str(newer)}, "nothing of the paused attempt lands after it"
