"""Pipelines never loop or leak: terminal step errors, bounded children, cancellable at any size."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping

import pytest
from temporalio.api.enums.v1 import EventType

from a2a_temporal import Pipeline, TaskIdInUse, TemporalA2AClient
from a2a_temporal.testing import DevStack
from tests.agents import Mathy, Splitter
from tests.temporal_helpers import count, history, running, wait_started

CANCEL_CHILD = EventType.EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED


def spec(*steps: Mapping[str, object]) -> Pipeline:
    return Pipeline.parse({"name": "limits", "steps": list(steps)})


async def test_a_step_whose_task_cannot_start_fails_instead_of_looping(stack: DevStack) -> None:
    pipeline_id = f"pipeline.limits/{uuid.uuid4()}"
    pipeline = spec({"id": "nap", "agent": "mathy", "skill": "slow", "args": {"seconds": 1}})
    async with running(stack, [Mathy()]) as client:
        squatter = await client.start(
            "mathy", "slow", args={"seconds": 60}, task_id=f"{pipeline_id}/nap"
        )
        state = await (await client.start_pipeline(pipeline, pipeline_id=pipeline_id)).result()
        await squatter.cancel()
        with pytest.raises(TaskIdInUse, match="already used"):
            await client.start_pipeline(pipeline, pipeline_id=pipeline_id)
    assert state.status == "failed"
    assert state.steps["nap"].status == "failed"
    assert state.steps["nap"].error is not None
    assert state.steps["nap"].error.startswith("WorkflowAlreadyStartedError")


async def test_a_reference_error_mid_map_cancels_the_items_already_started(
    stack: DevStack,
) -> None:
    pipeline = spec(
        {
            "id": "items",
            "agent": "mathy",
            "skill": "data",
            "args": {"items": [{"s": 0}, {"s": 60}, {}]},
        },
        {
            "id": "naps",
            "agent": "mathy",
            "skill": "slow",
            "map": "${steps.items.output}",
            "args": {"seconds": "${item.s}"},
            "concurrency": 2,
        },
    )
    async with running(stack, [Mathy()]) as client:
        handle = await client.start_pipeline(pipeline)
        state = await handle.result()
        started = sorted(state.steps["naps"].task_ids)
        naps = [await client.get_task(task_id).result() for task_id in started]
    assert state.status == "failed"
    assert state.steps["naps"].error == "${item.s}: no 's' in {}"
    assert [r.status for r in naps] == ["completed", "canceled"], "no item is left running"


async def test_many_steps_run_within_the_child_limit(stack: DevStack) -> None:
    Mathy.peak.pop("squarewide", None)
    steps = [
        {
            "id": f"s{i}",
            "agent": "mathy",
            "skill": "square",
            "args": {"value": i, "label": "wide", "meet": 12},
        }
        for i in range(120)
    ]
    async with running(stack, [Mathy()], max_pipeline_children=12) as client:
        state = await (await client.start_pipeline(spec(*steps))).result()
    assert state.status == "completed", state.error
    assert [state.steps[f"s{i}"].output for i in range(120)] == [i * i for i in range(120)]
    assert Mathy.peak["squarewide"] == 12, "twelve children at once, never more"


async def test_a_wide_pipeline_is_cancelled_midway_and_leaves_nothing_running(
    stack: DevStack,
) -> None:
    steps = [
        {"id": f"s{i}", "agent": "mathy", "skill": "slow", "args": {"seconds": 60}}
        for i in range(200)
    ]
    async with running(stack, [Mathy()], max_pipeline_children=10) as client:
        handle = await client.start_pipeline(spec(*steps))
        while sum(s.status == "running" for s in (await handle.state()).steps.values()) < 10:
            await asyncio.sleep(0.1)
        await handle.cancel()
        state = await handle.result()
        started = [task_id for s in state.steps.values() for task_id in s.task_ids]
        children = [await client.get_task(task_id).result() for task_id in started]
    assert state.status == "canceled"
    assert len(started) == 10
    assert {c.status for c in children} == {"canceled"}
    statuses = [s.status for s in state.steps.values()]
    assert statuses.count("canceled") == 10 and statuses.count("skipped") == 190


async def test_cancelling_hundreds_of_running_children_closes_and_leaves_none_running(
    stack: DevStack,
) -> None:
    width = 250
    steps = [
        {"id": f"s{i}", "agent": "mathy", "skill": "slow", "args": {"seconds": 300}}
        for i in range(width)
    ]
    async with running(stack, [Mathy()], max_pipeline_children=width) as client:
        handle = await client.start_pipeline(spec(*steps))
        async with asyncio.timeout(60):
            while sum(s.status == "running" for s in (await handle.state()).steps.values()) < width:
                await asyncio.sleep(0.2)
        await handle.cancel()
        state = await handle.result()
        children = f'WorkflowId STARTS_WITH "{handle.pipeline_id}/"'
        async with asyncio.timeout(60):
            while await _count(client, f'{children} AND ExecutionStatus = "Running"'):
                await asyncio.sleep(0.2)
        canceled = await _count(client, f'{children} AND ExecutionStatus = "Canceled"')
        hist = await history(client, handle.pipeline_id)
    assert state.status == "canceled"
    assert [s.status for s in state.steps.values()] == ["canceled"] * width
    assert canceled == width, "every child ended canceled, none is left running"
    assert count(hist, CANCEL_CHILD) == 0, "Temporal cancels them, not one command each"


async def _count(client: TemporalA2AClient, query: str) -> int:
    return len([w async for w in client.temporal.list_workflows(query)])


async def test_a_long_chain_listed_dependents_first_runs_in_order(stack: DevStack) -> None:
    length = 60
    steps = [
        {
            "id": f"s{i}",
            "agent": "splitter",
            "skill": "upper",
            "args": {"text": f"{i}"},
            "depends_on": [f"s{i + 1}"] if i + 1 < length else [],
        }
        for i in range(length)
    ]
    async with running(stack, [Splitter()]) as client:
        state = await (await client.start_pipeline(spec(*steps))).result()
    assert state.status == "completed", state.error
    finished = [state.steps[f"s{i}"].finished_at for i in reversed(range(length))]
    assert finished == sorted(finished)  # type: ignore[type-var]


async def test_task_ids_are_checked_and_never_reused(stack: DevStack) -> None:
    async with running(stack, [Splitter()]) as client:
        with pytest.raises(ValueError, match="reserved for the artifacts"):
            await client.start("splitter", "upper", args={"text": "x"}, task_id="T/artifacts/y")
        with pytest.raises(ValueError, match="must start with a letter or digit"):
            await client.start("splitter", "upper", args={"text": "x"}, task_id="a//b")
        task_id = f"mine/{uuid.uuid4()}"
        first = await client.start("splitter", "upper", args={"text": "x"}, task_id=task_id)
        await wait_started(client, first.task_id)
        assert (await first.result()).output == "X"
        with pytest.raises(TaskIdInUse, match="already used"):
            await client.start("splitter", "upper", args={"text": "y"}, task_id=task_id)
