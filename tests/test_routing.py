"""Decisions come from history: routing by registry, replay on workers hosting other agents."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from temporalio.worker import Replayer

from a2a_temporal import AgentPlugin, Pipeline
from a2a_temporal.core.agent import AgentCard
from a2a_temporal.temporal.models import SkillOptions
from a2a_temporal.temporal.registry import AgentRegistry, Registration
from a2a_temporal.temporal.storage import ObjectStore
from a2a_temporal.testing import DevStack
from tests.agents import Analyst, Splitter
from tests.temporal_helpers import history, running


async def test_histories_replay_on_a_worker_hosting_other_agents(stack: DevStack) -> None:
    agents = [Splitter(), Analyst()]
    async with running(stack, agents) as client:
        report = await client.call("analyst", "report", args={"text": "a b c"})
        assert report.ok, report.error
        pipeline = Pipeline.parse(
            {
                "name": "two",
                "steps": [
                    {"id": "up", "agent": "splitter", "skill": "upper", "args": {"text": "x"}},
                    {
                        "id": "split",
                        "agent": "splitter",
                        "skill": "split",
                        "args": {"text": "${steps.up.output}"},
                    },
                ],
            }
        )
        handle = await client.start_pipeline(pipeline)
        state = await handle.result()
        assert state.status == "completed", state.error
        histories = [
            await history(client, task_id)
            for task_id in (report.task_id, f"{report.task_id}/call-0", handle.pipeline_id)
        ]
        settings = client.settings
    for hosted in ([Analyst()], [Splitter()], []):
        replayer = Replayer(workflows=[], plugins=[AgentPlugin(hosted, settings)])
        for hist in histories:
            replayed = await replayer.replay_workflow(hist, raise_on_replay_failure=True)
            assert replayed.replay_failure is None


async def test_pools_on_different_queues_call_each_other_by_name(
    stack: DevStack, tmp_path: Path
) -> None:
    queue_a, queue_b = f"pool-a-{uuid.uuid4().hex[:6]}", f"pool-b-{uuid.uuid4().hex[:6]}"
    first = stack.worker_process("tests.pool_agents:POOL_A", tmp_path / "a.log", task_queue=queue_a)
    second = stack.worker_process(
        "tests.pool_agents:POOL_B", tmp_path / "b.log", task_queue=queue_b
    )
    try:
        first.start()
        second.start()
        client = await stack.client(task_queue=f"nobody-{uuid.uuid4().hex[:6]}")
        await stack.wait_for_agents(["pinger"], queue_a)
        await stack.wait_for_agents(["ponger"], queue_b)
        result = await client.call("pinger", "ping", args={"text": "hi"})
        queues = [
            (await client.temporal.get_workflow_handle(task_id).describe()).task_queue
            for task_id in (
                result.task_id,
                f"{result.task_id}/call-0",
                f"{result.task_id}/call-0/call-0",
            )
        ]
    finally:
        await first.stop()
        await second.stop()
    assert (result.status, result.output) == ("completed", "ping(pong(HI, found=['pinger']))")
    assert queues == [queue_a, queue_b, queue_a]


def _entry(name: str, queue: str, registered: datetime, expires: datetime) -> Registration:
    return Registration(
        card=AgentCard(name=name, task_queue=queue),
        skills={"go": SkillOptions(task_queue=queue)},
        worker=f"{queue}.w",
        registered_at=registered,
        expires_at=expires,
    )


async def test_registry_prefers_live_newest_entries_and_falls_back_to_expired(
    stack: DevStack,
) -> None:
    store = ObjectStore(stack.minio(), stack.bucket)
    registry = AgentRegistry(store, timedelta(seconds=30))
    name = f"agent-{uuid.uuid4().hex[:6]}"
    now = datetime.now(UTC)
    old = _entry(name, "old-q", now - timedelta(hours=2), now - timedelta(hours=1))
    await registry.publish([old])
    resolved = await registry.resolve(name, "go")
    assert resolved.options is not None and resolved.options.task_queue == "old-q"
    assert name not in [card.name for card in await registry.live_cards()]
    live = _entry(name, "live-q", now - timedelta(minutes=1), now + timedelta(minutes=1))
    newer = _entry(name, "newer-q", now, now + timedelta(minutes=1))
    await registry.publish([live, newer])
    assert (await registry.resolve(name, "go")).options.task_queue == "newer-q"  # type: ignore[union-attr]
    preferred = await registry.resolve(name, "go", prefer_queue="live-q")
    assert preferred.options is not None and preferred.options.task_queue == "live-q"
    missing = await registry.resolve(name, "stop")
    assert missing.error == f"agent {name!r} has no skill 'stop' (skills: go)"
    await registry.withdraw([old, live, newer])
    gone = await registry.resolve(name, "go")
    assert gone.error is not None and gone.error.startswith(f"unknown agent {name!r}")
