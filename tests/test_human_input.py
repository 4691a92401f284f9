"""ctx.ask / ctx.collect: in-process and on Temporal, including parking and worker restarts."""

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.worker import Replayer

from a2a_temporal import (
    AgentEvent,
    AgentPlugin,
    InMemoryA2AClient,
    TaskHandle,
    TemporalA2AClient,
)
from a2a_temporal.testing import DevStack
from tests.agents import Approver
from tests.temporal_helpers import SCHEDULED, count, history, running, skill_attempts


async def first_question(handle: TaskHandle) -> dict[str, Any]:
    async for event in handle.events():
        if event.kind == "question":
            return event.payload
    raise AssertionError("no question was asked")


async def wait_parked(client: TemporalA2AClient, task_id: str) -> None:
    """Wait until no activity of the task runs (it parked to wait for the answer)."""
    handle = client.temporal.get_workflow_handle(task_id)
    async with asyncio.timeout(30):
        while (await handle.describe()).raw_description.pending_activities:
            await asyncio.sleep(0.1)


async def test_local_ask_and_collect() -> None:
    client = InMemoryA2AClient([Approver()])
    task = asyncio.create_task(client.call("approver", "order"))
    while not client.contexts or not next(iter(client.contexts.values())).open_questions:
        await asyncio.sleep(0.01)
    (task_id,) = client.contexts
    with pytest.raises(ValueError, match="qty: 0 is less than or equal to the minimum of 0"):
        client.answer(task_id, "q0", {"item": "tea", "qty": 0})
    client.answer(task_id, "q0", {"item": "tea", "qty": 2})
    result = await task
    assert (result.status, result.output) == ("completed", {"item": "tea", "qty": 2})
    with pytest.raises(ValueError, match="no longer open"):
        client.answer(task_id, "q0", {"item": "tea", "qty": 3})
    timed = await client.call("approver", "impatient")
    assert (timed.status, timed.error) == (
        "failed",
        "TimeoutError: question q0 was not answered in 1s",
    )


async def test_answer_while_the_skill_waits(stack: DevStack) -> None:
    async with running(stack, [Approver()]) as client:
        handle = await client.start("approver", "review", args={"text": "release"})
        question = await first_question(handle)
        assert question["prompt"] == "approve release?"
        await handle.answer(str(question["id"]), "yes")
        result = await handle.result()
        events = [e async for e in handle.events()]
        questions = await handle.questions()
    assert (result.status, result.output) == ("completed", "yes")
    assert [e.kind for e in events] == ["progress", "question", "answer", "progress"]
    assert events[-1] == AgentEvent("progress", {"message": "answer was yes", "fraction": None})
    assert questions[0].answer == "yes"


async def test_parked_skill_frees_its_slot_and_survives_a_worker_restart(
    stack: DevStack,
) -> None:
    queue = "hitl-restart"
    async with running(stack, [Approver()], task_queue=queue, input_park_after="PT0.5S") as client:
        handle = await client.start("approver", "review", args={"text": "deploy"})
        question = await first_question(handle)
        await wait_parked(client, handle.task_id)
    async with running(stack, [Approver()], task_queue=queue, input_park_after="PT0.5S") as client:
        handle = client.get_task(handle.task_id)
        with pytest.raises(ValueError, match="takes text"):
            await handle.answer(str(question["id"]), 42)
        await handle.answer(str(question["id"]), "ship it")
        result = await handle.result()
        events = [e async for e in handle.events()]
        hist = await history(client, handle.task_id)
        replayer = Replayer(workflows=[], plugins=[AgentPlugin([Approver()], client.settings)])
        await replayer.replay_workflow(hist)
    assert (result.status, result.output) == ("completed", "ship it")
    assert [e.kind for e in events] == ["progress", "question", "answer", "progress"]
    assert count(hist, SCHEDULED) == 2, "the skill resumed in a second activity"


async def test_collect_refuses_invalid_answers(stack: DevStack) -> None:
    async with running(stack, [Approver()]) as client:
        handle = await client.start("approver", "order")
        question = await first_question(handle)
        assert question["json_schema"]["required"] == ["item", "qty"]
        with pytest.raises(ValueError, match="qty: 0 is less than or equal to the minimum of 0"):
            await handle.answer("q0", {"item": "tea", "qty": 0})
        with pytest.raises(ValueError, match="no question 'q9'"):
            await handle.answer("q9", {})
        await handle.answer("q0", {"item": "tea", "qty": 2})
        result = await handle.result()
        with pytest.raises(ValueError, match="has ended; its questions are closed"):
            await handle.answer("q0", {"item": "tea", "qty": 3})
    assert (result.status, result.output) == ("completed", {"item": "tea", "qty": 2})


async def test_unanswered_question_times_out_counted_from_when_it_was_asked(
    stack: DevStack,
) -> None:
    async with running(stack, [Approver()], input_park_after="PT0.3S") as client:
        result = await client.call("approver", "impatient")
        hist = await history(client, result.task_id)
    assert (result.status, result.error) == (
        "failed",
        "TimeoutError: question q0 was not answered in 1s",
    )
    timers = [
        event.timer_started_event_attributes.start_to_fire_timeout.ToTimedelta()
        for event in hist.events
        if event.event_type == EventType.EVENT_TYPE_TIMER_STARTED
    ]
    assert timers[0] == timedelta(seconds=0.3), "the skill waits 0.3 s, then parks"
    assert timers[1] < timedelta(seconds=1), "parked, it waits only what is left of 1 s"


async def test_cancel_before_parking_is_immediate_and_closes_the_questions(
    stack: DevStack,
) -> None:
    Approver.seen.clear()
    async with running(stack, [Approver()]) as client:
        handle = await client.start("approver", "guarded")
        question = await first_question(handle)
        await handle.cancel()
        result = await handle.result()
        with pytest.raises(ValueError, match="closed"):
            await handle.answer(str(question["id"]), "too late")
        hist = await history(client, handle.task_id)
    assert (result.status, result.error) == ("canceled", "canceled by caller")
    assert Approver.seen == ["CancelledByCaller"]
    assert skill_attempts(hist) == 1, "it never parked"


async def test_cancel_while_parked(stack: DevStack) -> None:
    async with running(stack, [Approver()], input_park_after="PT0.3S") as client:
        handle = await client.start("approver", "review", args={"text": "later"})
        await first_question(handle)
        await wait_parked(client, handle.task_id)
        await handle.cancel()
        result = await handle.result()
    assert (result.status, result.error) == ("canceled", "canceled by caller")
