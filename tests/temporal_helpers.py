"""Helpers for tests that run agents on the real dev server."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Iterable
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHistory
from temporalio.service import RPCError, RPCStatusCode

from a2a_temporal import A2AAgent, TemporalA2AClient
from a2a_temporal.testing import DevStack


@contextlib.asynccontextmanager
async def running(
    stack: DevStack, agents: Iterable[A2AAgent], secrets: dict[str, str] | None = None, **kw: object
) -> AsyncIterator[TemporalA2AClient]:
    """A worker on a fresh task queue, so tests do not share registrations."""
    kw.setdefault("task_queue", f"q-{uuid.uuid4().hex[:8]}")
    async with stack.worker(agents, secrets=secrets, **kw) as client:
        yield client


async def history(client: TemporalA2AClient, task_id: str) -> WorkflowHistory:
    return await client.temporal.get_workflow_handle(task_id).fetch_history()


def count(hist: WorkflowHistory, event_type: int) -> int:
    return sum(1 for event in hist.events if event.event_type == event_type)


SCHEDULED = EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED


def skill_attempts(hist: WorkflowHistory) -> int:
    """How many times the task scheduled its skill's activity (not counting retries)."""
    return sum(
        1
        for event in hist.events
        if event.event_type == SCHEDULED
        and event.activity_task_scheduled_event_attributes.activity_type.name == "a2a.run_skill"
    )


def attempt_inputs(hist: WorkflowHistory) -> list[dict[str, Any]]:
    """The inputs the task gave its skill's activity executions, as recorded (JSON payloads)."""
    return [
        json.loads(event.activity_task_scheduled_event_attributes.input.payloads[0].data)
        for event in hist.events
        if event.event_type == SCHEDULED
        and event.activity_task_scheduled_event_attributes.activity_type.name == "a2a.run_skill"
    ]


CHILD_STARTED = EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED


async def wait_started(client: TemporalA2AClient, task_id: str, limit: float = 30.0) -> None:
    """Wait until the task's workflow exists (a readiness check, bounded by `limit`)."""
    handle = client.temporal.get_workflow_handle(task_id)
    async with asyncio.timeout(limit):
        while True:
            try:
                await handle.describe()
                return
            except RPCError as err:
                if err.status != RPCStatusCode.NOT_FOUND:
                    raise
            await asyncio.sleep(0.05)


def executed_outcome(out: str) -> dict[str, Any]:
    """What a `temporal workflow execute -o json` run ended with, as JSON.

    A completed run's result; a failed one's first failure detail (the
    `CallResult` or pipeline state a failed or rejected run carries).
    """
    shown, _ = json.JSONDecoder().raw_decode(out[out.index("{") :])
    if "result" in shown:
        return dict(shown["result"])
    failure = shown["closeEvent"]["workflowExecutionFailedEventAttributes"]["failure"]
    return dict(failure["applicationFailureInfo"]["details"][0])
