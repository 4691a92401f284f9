"""Long skills keep their history bounded; subscribers do not notice how."""

from __future__ import annotations

import asyncio

from temporalio.api.enums.v1 import EventType
from temporalio.worker import Replayer

from a2a_temporal import AgentEvent, AgentPlugin
from a2a_temporal.testing import DevStack
from tests.agents import Chatty
from tests.temporal_helpers import history, running


async def test_a_task_continues_as_new_between_attempts_and_subscribers_see_one_stream(
    stack: DevStack,
) -> None:
    rounds, deltas = 4, 15
    async with running(
        stack, [Chatty()], input_park_after="PT0.2S", continue_as_new_after=40
    ) as client:
        handle = await client.start("chatty", "converse", args={"rounds": rounds, "deltas": deltas})
        events: list[AgentEvent] = []
        async for event in handle.events():
            events.append(event)
            if event.kind == "question":
                question_id = event.payload["id"]
                while (await handle.state()).parked_on != question_id:
                    await asyncio.sleep(0.05)
                await handle.answer(question_id, f"yes {question_id}")
        result = await handle.result()
        state = await handle.state()
        latest = await history(client, handle.task_id)
        settings = client.settings
    assert (result.status, result.output) == ("completed", [f"yes q{r}" for r in range(rounds)])
    assert state.continued >= 2, "the task continued as new between its attempts"
    text = "".join(e.payload["text"] for e in events if e.kind == "text_delta")
    assert text == "".join(f"r{r}.{i} " for r in range(rounds) for i in range(deltas))
    kinds = [e.kind for e in events if e.kind != "text_delta"]
    assert kinds == ["progress", "question", "answer"] * rounds, "each event once, in order"
    started = latest.events[0]
    assert started.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED
    assert started.workflow_execution_started_event_attributes.continued_execution_run_id
    replayer = Replayer(workflows=[], plugins=[AgentPlugin([], settings)])
    replayed = await replayer.replay_workflow(latest, raise_on_replay_failure=True)
    assert replayed.replay_failure is None


async def test_event_batches_stretch_out_to_keep_one_attempt_within_its_history_budget(
    stack: DevStack,
) -> None:
    deltas = 600
    async with running(
        stack, [Chatty()], event_batch_interval="PT0.02S", history_budget=240
    ) as client:
        handle = await client.start("chatty", "trickle", args={"rounds": 0, "deltas": deltas})
        received = [e.payload["text"] async for e in handle.events() if e.kind == "text_delta"]
        result = await handle.result()
        hist = await history(client, handle.task_id)
    assert result.ok, result.error
    assert "".join(received) == "".join(f"{i} " for i in range(deltas))
    assert len(hist.events) <= 240, f"{len(hist.events)} history events"
