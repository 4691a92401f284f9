"""Pipelines on the real dev server: DAG, map, references, failures, cancel, continue-as-new."""

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from a2a_temporal import AgentPlugin, Pipeline, TemporalA2AClient
from a2a_temporal.testing import DevStack
from tests.agents import Mathy
from tests.temporal_helpers import history, running, wait_started


async def every_run(client: TemporalA2AClient, workflow_id: str) -> list[WorkflowHistory]:
    """The histories of every run of a workflow that continued as new, latest first."""
    runs = [await history(client, workflow_id)]
    while True:
        started = runs[-1].events[0].workflow_execution_started_event_attributes
        if not started.continued_execution_run_id:
            return runs
        handle = client.temporal.get_workflow_handle(
            workflow_id, run_id=started.continued_execution_run_id
        )
        runs.append(await handle.fetch_history())


def spec(*steps: dict[str, object]) -> Pipeline:
    return Pipeline.parse({"name": "test", "steps": list(steps)})


async def replay(client: TemporalA2AClient, workflow_ids: list[str]) -> None:
    replayer = Replayer(workflows=[], plugins=[AgentPlugin([Mathy()], client.settings)])
    for workflow_id in workflow_ids:
        hist = await history(client, workflow_id)
        await replayer.replay_workflow(hist)


async def test_dag_runs_independent_steps_in_parallel(stack: DevStack) -> None:
    Mathy.peak.pop("squarebc", None)
    pipeline = spec(
        {"id": "nums", "agent": "mathy", "skill": "numbers", "args": {"n": 3}},
        {
            "id": "b",
            "agent": "mathy",
            "skill": "square",
            "args": {"value": "${steps.nums.output.values.1}", "label": "bc", "meet": 2},
        },
        {
            "id": "c",
            "agent": "mathy",
            "skill": "square",
            "args": {"value": "${steps.nums.output.values.2}", "label": "bc", "meet": 2},
        },
        {
            "id": "sum",
            "agent": "mathy",
            "skill": "total",
            "args": {"values": ["${steps.b.output}", "${steps.c.output}"]},
        },
    )
    async with running(stack, [Mathy()]) as client:
        handle = await client.start_pipeline(pipeline)
        events = [e async for e in handle.events()]
        state = await handle.result()
        assert (await handle.state()) == state
        await replay(client, [handle.pipeline_id])
    assert [(e.payload["step"], e.payload["status"]) for e in events if e.kind == "step"][:2] == [
        ("nums", "running"),
        ("nums", "completed"),
    ]
    assert [(e.payload["step"], e.payload["status"]) for e in events[-3:-1]] == [
        ("sum", "running"),
        ("sum", "completed"),
    ]
    assert events[-1].kind == "pipeline"
    assert events[-1].payload == {"status": "completed", "error": None}
    assert state.status == "completed", state.error
    steps = state.steps
    assert steps["sum"].output == 1 + 4
    b, c, total = steps["b"], steps["c"], steps["sum"]
    assert Mathy.peak["squarebc"] == 2, "b and c ran at the same time (each waited for the other)"
    assert b.finished_at and c.finished_at and total.started_at
    assert total.started_at >= max(b.finished_at, c.finished_at)
    assert steps["nums"].task_ids == [f"{handle.pipeline_id}/nums"]


async def test_map_respects_the_limit_and_keeps_order(stack: DevStack) -> None:
    Mathy.peak.pop("squarem", None)
    pipeline = spec(
        {"id": "nums", "agent": "mathy", "skill": "numbers", "args": {"n": 8}},
        {
            "id": "sq",
            "agent": "mathy",
            "skill": "square",
            "map": "${steps.nums.output.values}",
            "args": {"value": "${item}", "label": "m", "meet": 3},
            "concurrency": 3,
        },
    )
    async with running(stack, [Mathy()]) as client:
        state = await (await client.start_pipeline(pipeline)).result()
    assert state.status == "completed", state.error
    assert state.steps["sq"].output == [i * i for i in range(8)]
    assert state.steps["sq"].items_total == 8
    assert Mathy.peak["squarem"] == 3, "three at a time: they met, and never a fourth"


async def test_invalid_pipeline_is_rejected_before_anything_runs(stack: DevStack) -> None:
    pipeline = spec(
        {"id": "a", "agent": "ghost", "skill": "x"},
        {"id": "b", "agent": "mathy", "skill": "nope", "depends_on": ["zzz"]},
    )
    async with running(stack, [Mathy()]) as client:
        handle = await client.start_pipeline(pipeline)
        state = await handle.result()
    assert state.status == "rejected"
    assert state.error is not None
    assert "step 'a': unknown agent 'ghost'" in state.error
    assert "step 'b': agent 'mathy' has no skill 'nope'" in state.error
    assert "step 'b' refers to missing step 'zzz'" in state.error
    assert all(s.task_ids == [] and s.status == "skipped" for s in state.steps.values())


@pytest.mark.parametrize(("on_failure", "other_seconds"), [("continue", 0), ("fail", 60)])
async def test_on_failure(stack: DevStack, on_failure: str, other_seconds: float) -> None:
    pipeline = spec(
        {
            "id": "bad",
            "agent": "mathy",
            "skill": "fail",
            "args": {"value": 1},
            "on_failure": on_failure,
            "retries": 1,
        },
        {
            "id": "after",
            "agent": "mathy",
            "skill": "square",
            "args": {"value": "${steps.bad.output}"},
        },
        {"id": "other", "agent": "mathy", "skill": "slow", "args": {"seconds": other_seconds}},
    )
    async with running(stack, [Mathy()]) as client:
        handle = await client.start_pipeline(pipeline)
        state = await handle.result()
    bad = state.steps["bad"]
    assert bad.status == "failed"
    assert bad.error == "ValueError: no good: 1"
    assert bad.task_ids == [f"{handle.pipeline_id}/bad", f"{handle.pipeline_id}/bad~1"]
    assert state.steps["after"].status == "skipped"
    if on_failure == "continue":
        assert state.status == "completed"
        assert state.steps["other"].status == "completed"
    else:
        assert state.status == "failed"
        assert state.error == "step 'bad' failed: ValueError: no good: 1"
        assert state.steps["other"].status == "canceled"


async def test_step_timeout_and_cancel(stack: DevStack) -> None:
    timed = spec(
        {"id": "nap", "agent": "mathy", "skill": "slow", "args": {"seconds": 30}, "timeout": 1}
    )
    slow = spec({"id": "nap", "agent": "mathy", "skill": "slow", "args": {"seconds": 60}})
    async with running(stack, [Mathy()]) as client:
        state = await (await client.start_pipeline(timed)).result()
        assert (state.status, state.steps["nap"].error) == ("failed", "timed out after 1s")
        handle = await client.start_pipeline(slow)
        await wait_started(client, f"{handle.pipeline_id}/nap")
        await handle.cancel()
        state = await handle.result()
        child = await client.get_task(f"{handle.pipeline_id}/nap").result()
        await replay(client, [handle.pipeline_id])
    assert state.status == "canceled"
    assert state.steps["nap"].status == "canceled"
    assert child.status == "canceled"


async def test_continue_as_new_carries_state_and_every_run_replays(stack: DevStack) -> None:
    Mathy.runs.pop("squarecan", None)
    pipeline = spec(
        {"id": "nums", "agent": "mathy", "skill": "numbers", "args": {"n": 30}},
        {
            "id": "sq",
            "agent": "mathy",
            "skill": "square",
            "map": "${steps.nums.output.values}",
            "args": {"value": "${item}", "label": "can"},
            "concurrency": 10,
        },
        {"id": "sum", "agent": "mathy", "skill": "total", "args": {"values": "${steps.sq.output}"}},
    )
    async with running(stack, [Mathy()]) as client:
        handle = await client.start_pipeline(pipeline, continue_as_new_after=60)
        events = [e async for e in handle.events()]
        state = await handle.result()
        hist = await history(client, handle.pipeline_id)
        runs = await every_run(client, handle.pipeline_id)
        replayer = Replayer(workflows=[], plugins=[AgentPlugin([], client.settings)])
        for run in runs:
            replayed = await replayer.replay_workflow(run, raise_on_replay_failure=True)
            assert replayed.replay_failure is None
    assert state.status == "completed", state.error
    assert state.runs > 1, "the pipeline continued as new"
    assert len(runs) == state.runs
    assert state.steps["sum"].output == sum(i * i for i in range(30))
    assert len(hist.events) < 200
    assert Mathy.runs["squarecan"] == 30, "no item ran twice"
    progress = [e.payload["items_done"] for e in events if "items_done" in e.payload]
    assert progress[-2:] == [30, 30], "map progress followed across continue-as-new"
    assert events[-1].payload["status"] == "completed"
