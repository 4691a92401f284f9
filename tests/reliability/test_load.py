"""Load on one worker (the `bench.drill_load` drill at CI size), and the worker's slot limits."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

from temporalio.client import Client
from temporalio.worker import Worker, WorkerTuner

from a2a_temporal.testing import DevStack
from a2a_temporal.worker.plugin import AgentPlugin
from bench.drill_io_agents import Holder
from bench.drill_load import drill


async def test_one_worker_under_load_returns_every_result_and_every_delta_once() -> None:
    rows = await drill("ci")
    for row in rows:
        assert row.clean, row
    assert [row.tasks for row in rows] == [200, 20]


async def _held(stack: DevStack, tmp_path: Path, **slots: int) -> list[tuple[float, float]]:
    """Run two 1-second holds at once on a worker with `slots`; return when each held."""
    log = tmp_path / f"holds-{uuid.uuid4().hex[:6]}.log"
    queue = f"slots-{uuid.uuid4().hex[:8]}"
    async with stack.worker([Holder()], secrets=None, task_queue=queue, **slots) as client:
        args = {"seconds": 1.0, "log": str(log)}
        results = await asyncio.gather(*(client.call("holder", "hold", args=args) for _ in "ab"))
    assert [result.status for result in results] == ["completed", "completed"]
    spans = [tuple(map(float, line.split())) for line in log.read_text().splitlines()]
    return sorted((start, end) for start, end in spans)


async def test_worker_slot_limits_reach_the_temporal_worker(
    stack: DevStack, tmp_path: Path
) -> None:
    """With one activity slot two runs take turns; with the default they overlap."""
    (_, first_end), (second_start, _) = await _held(
        stack, tmp_path, worker_max_concurrent_activities=1
    )
    assert second_start >= first_end, "one slot: the second run waited for the first"
    (_, first_end), (second_start, _) = await _held(stack, tmp_path)
    assert second_start < first_end, "default slots: both ran at once"


async def test_both_slot_settings_reach_the_worker_and_a_worker_of_its_own_wins(
    stack: DevStack,
) -> None:
    plugin = AgentPlugin([Holder()], stack.settings(worker_max_concurrent_workflow_tasks=7))
    client = await Client.connect(stack.temporal_address, plugins=[plugin])
    config = Worker(client, task_queue="slots-config").config(active_config=True)
    assert config.get("max_concurrent_workflow_tasks") == 7
    assert config.get("max_concurrent_activities") == 100
    own = Worker(client, task_queue="slots-own", max_concurrent_activities=3).config(
        active_config=True
    )
    assert own.get("max_concurrent_activities") == 3
    tuned = Worker(client, task_queue="slots-tuned", tuner=WorkerTuner.create_fixed()).config(
        active_config=True
    )
    assert tuned.get("max_concurrent_activities") is None, "a tuner excludes slot counts"
