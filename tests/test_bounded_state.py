"""A long-lived task keeps its continue-as-new state bounded: records go to its journal in S3."""

from __future__ import annotations

import asyncio
import json

from temporalio.api.enums.v1 import EventType

from a2a_temporal import AgentEvent, TaskHandle
from a2a_temporal.temporal.journal_store import JournalStore
from a2a_temporal.temporal.models import SkillRunInput
from a2a_temporal.testing import DevStack
from tests.agents import Marathon, Splitter
from tests.temporal_helpers import running

LAPS, QUESTIONS = 20, 100
CARRIED_BOUND = 128 * 1024
ANSWERS_AT_ONCE = 5  # a workflow admits only a few updates in flight at a time


async def answer_every_lap(handle: TaskHandle) -> None:
    """Answer each lap's questions once the task has parked on them (its attempt ended)."""
    answered: set[str] = set()
    while len(answered) < LAPS * QUESTIONS:
        state = await handle.state()
        if state.result is not None:
            return
        todo = [q for q in state.open_questions if q not in answered]
        if state.parked_on is None or len(todo) < QUESTIONS:
            await asyncio.sleep(0.05)
            continue
        numbered = [(question_id, len(answered) + i) for i, question_id in enumerate(todo)]
        answered.update(todo)
        for start in range(0, len(numbered), ANSWERS_AT_ONCE):
            await asyncio.gather(
                *(handle.answer(q, f"a-{n}") for q, n in numbered[start : start + ANSWERS_AT_ONCE])
            )


async def test_a_task_of_2000_questions_and_20_calls_carries_a_bounded_state(
    stack: DevStack,
) -> None:
    async with running(
        stack,
        [Marathon(), Splitter()],
        input_park_after="PT0.2S",
        continue_as_new_after=300,
    ) as client:
        handle = await client.start("marathon", "run", args={"laps": LAPS, "questions": QUESTIONS})
        await answer_every_lap(handle)
        result = await handle.result()
        state = await handle.state()
        query = f'WorkflowId = "{handle.task_id}"'
        runs = [run.run_id async for run in client.temporal.list_workflows(query)]
        sizes = []
        for run_id in runs:
            run = client.temporal.get_workflow_handle(handle.task_id, run_id=run_id)
            history = await run.fetch_history()
            started = history.events[0]
            assert started.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED
            [payload] = started.workflow_execution_started_event_attributes.input.payloads
            assert payload.metadata["encoding"] == b"json/plain", "the input is inline JSON"
            carried = SkillRunInput.model_validate(json.loads(payload.data)).carried
            sizes.append((len(payload.data), carried))
        events: list[AgentEvent] = []
        async for event in client.get_task(handle.task_id).events(after=0):
            events.append(event)
        journal_ref = max(
            (c.journal for _, c in sizes if c and c.journal),
            key=lambda ref: int(ref.key.rsplit("/", 1)[1].split(".")[0]),
        )
        journal = await JournalStore(client.store, client.temporal.data_converter).read(journal_ref)
    assert result.ok, result.error
    expected = [f"LAP {lap}" for lap in range(LAPS)]
    assert result.output["calls"] == expected
    assert result.output["answers"] == [f"a-{n}" for n in range(LAPS * QUESTIONS)]
    assert state.continued >= LAPS // 2, f"continued {state.continued} times"
    largest = max(size for size, carried in sizes if carried is not None)
    print(f"\n{len(runs)} runs; continue-as-new input sizes: max {largest} bytes")
    assert largest < CARRIED_BOUND, f"a continue-as-new input of {largest} bytes"
    assert len(journal.questions) >= QUESTIONS * (LAPS - 2), "the journal holds the answers"
    assert events[0].kind == "truncated", "a subscriber from offset 0 is told where it starts"
    assert events[0].payload["from_offset"] > 0
