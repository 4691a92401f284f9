"""Temporal's own status tells how a task or a pipeline ended; every reader gets the same result.

Completed tasks are Completed, failed and rejected ones Failed (the failure's
type names the status and carries the `CallResult`), cancelled ones Canceled
(the `CallResult` in the memo). Read through our client, the raw Temporal
client and a cancelled pipeline step.
"""

from __future__ import annotations

import asyncio
import logging

import pytest
import structlog
from pydantic import BaseModel
from temporalio.client import WorkflowExecutionStatus, WorkflowFailureError
from temporalio.exceptions import ApplicationError, CancelledError

from a2a_temporal import A2AAgent, CallResult, NoAuth, Pipeline, RunContext, skill
from a2a_temporal.temporal.outcomes import RESULT_MEMO
from a2a_temporal.testing import DevStack
from tests.agents import Approver, Flaky, Splitter
from tests.temporal_helpers import running, wait_started


class Draft(BaseModel):
    text: str


class Drafter(A2AAgent):
    """Stores a draft, then waits for a cancel."""

    name = "drafter"

    @skill(retries=0)
    async def draft(self, ctx: RunContext[NoAuth], args: Draft) -> str:
        """Write `draft.txt`, then wait."""
        await ctx.write_artifact("draft.txt", args.text.encode(), "text/plain")
        await ctx.emit_progress("drafted")
        await asyncio.sleep(60)
        return "never"


async def _failure(stack: DevStack, task_id: str) -> BaseException | None:
    handle = (await stack.connect()).get_workflow_handle(task_id)
    try:
        await handle.result()
    except WorkflowFailureError as err:
        return err.cause
    return None


async def test_each_outcome_is_temporals_own_status_and_reads_back_the_same(
    stack: DevStack,
) -> None:
    async with running(stack, [Flaky(failures=9), Splitter(), Drafter()]) as client:
        completed = await client.call("splitter", "upper", args={"text": "ok"})
        failed = await client.call("flaky", "work")
        rejected = await client.call("splitter", "split", args={"text": 3})
        handle = await client.start("drafter", "draft", args={"text": "half done"})
        async with asyncio.timeout(30):
            async for event in handle.events():
                if event.kind == "progress":
                    break
        await handle.cancel()
        canceled = await handle.result()
        statuses = {
            name: (await client.temporal.get_workflow_handle(r.task_id).describe()).status
            for name, r in (("completed", completed), ("failed", failed),
                            ("rejected", rejected), ("canceled", canceled))
        }  # fmt: skip
        failed_cause = await _failure(stack, failed.task_id)
        rejected_cause = await _failure(stack, rejected.task_id)
        canceled_cause = await _failure(stack, canceled.task_id)
        memo = await (
            await client.temporal.get_workflow_handle(canceled.task_id).describe()
        ).memo_value(RESULT_MEMO)
    assert statuses == {
        "completed": WorkflowExecutionStatus.COMPLETED,
        "failed": WorkflowExecutionStatus.FAILED,
        "rejected": WorkflowExecutionStatus.FAILED,
        "canceled": WorkflowExecutionStatus.CANCELED,
    }
    assert completed.status == "completed" and completed.output == "OK"
    assert failed.status == "failed" and "boom" in (failed.error or "")
    assert isinstance(failed_cause, ApplicationError) and failed_cause.type == "TaskFailed"
    assert failed_cause.message == failed.error
    assert CallResult.model_validate(failed_cause.details[0]) == failed
    assert rejected.status == "rejected"
    assert isinstance(rejected_cause, ApplicationError) and rejected_cause.type == "TaskRejected"
    assert CallResult.model_validate(rejected_cause.details[0]) == rejected
    assert isinstance(canceled_cause, CancelledError)
    assert canceled.status == "canceled"
    assert [a.name for a in canceled.artifacts] == ["draft.txt"], "artifacts survive a cancel"
    assert CallResult.model_validate(memo) == canceled


async def test_a_step_cancelled_on_its_own_fails_or_skips_per_on_failure(stack: DevStack) -> None:
    async with running(stack, [Approver(), Splitter()]) as client:
        ended = {}
        for on_failure in ("fail", "continue"):
            pipeline = Pipeline.parse(
                {"name": "asking", "steps": [
                    {"id": "review", "agent": "approver", "skill": "review",
                     "args": {"text": "plan"}, "on_failure": on_failure},
                    {"id": "after", "agent": "splitter", "skill": "upper",
                     "args": {"text": "${steps.review.output}"}, "depends_on": ["review"]},
                    {"id": "aside", "agent": "splitter", "skill": "upper", "args": {"text": "x"}},
                ]}
            )  # fmt: skip
            handle = await client.start_pipeline(pipeline)
            step = f"{handle.pipeline_id}/review"
            await wait_started(client, step)
            await client.get_task(step).cancel()
            state = await handle.result()
            described = await client.temporal.get_workflow_handle(handle.pipeline_id).describe()
            ended[on_failure] = (state, described.status)
    failing, failing_status = ended["fail"]
    assert failing.status == "failed"
    assert failing.error is not None and "step 'review' was canceled" in failing.error
    assert failing.steps["review"].status == "canceled"
    assert failing_status == WorkflowExecutionStatus.FAILED
    going_on, going_on_status = ended["continue"]
    assert going_on.status == "completed" and going_on_status == WorkflowExecutionStatus.COMPLETED
    assert going_on.steps["review"].status == "canceled"
    assert going_on.steps["after"].status == "skipped"
    assert going_on.steps["aside"].status == "completed"


async def test_a_skill_failure_is_one_log_line_without_temporals_traceback(
    stack: DevStack, caplog: pytest.LogCaptureFixture
) -> None:
    with (
        structlog.testing.capture_logs([structlog.contextvars.merge_contextvars]) as logs,
        caplog.at_level(logging.DEBUG, logger="temporalio"),
    ):
        async with running(stack, [Flaky(failures=9)]) as client:
            failed = await client.call("flaky", "work")
    lines = [line for line in logs if line["event"] == "skill_failed"]
    assert lines, logs
    assert {line["task_id"] for line in lines} == {failed.task_id}
    assert [line["attempt"] for line in lines] == list(range(1, len(lines) + 1))
    assert {(line["agent"], line["skill"]) for line in lines} == {("flaky", "work")}
    assert all(line["error"].startswith("ValueError: boom") for line in lines)
    assert all(line.get("exc_info") is None for line in lines), "no traceback unless debugging"
    loud = [
        r for r in caplog.records
        if r.name.startswith("temporalio.activity") and r.levelno >= logging.WARNING
    ]  # fmt: skip
    assert not loud, [r.getMessage() for r in loud]
