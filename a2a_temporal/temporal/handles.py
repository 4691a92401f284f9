"""Handles on running or finished tasks and pipelines: results, events, answers, artifacts."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ValidationError
from temporalio.client import (
    Client,
    WorkflowFailureError,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.exceptions import ApplicationError, CancelledError
from temporalio.service import RPCError, RPCStatusCode

from a2a_temporal.core.context import seconds
from a2a_temporal.core.describe import describe_exception
from a2a_temporal.core.types import AgentEvent, ArtifactRef, CallResult, TaskStatus
from a2a_temporal.errors import UnknownTask
from a2a_temporal.temporal.artifacts import artifact_key, list_task_artifacts
from a2a_temporal.temporal.follow import follow_events
from a2a_temporal.temporal.models import Answer, QuestionState, TaskState
from a2a_temporal.temporal.outcomes import RESULT_MEMO, carried_outcome
from a2a_temporal.temporal.pipeline import PipelineState
from a2a_temporal.temporal.relayed import genuine_question
from a2a_temporal.temporal.server_load import retrying, server_load
from a2a_temporal.temporal.wire import (
    ANSWER_UPDATE,
    PIPELINE_STATE_QUERY,
    QUESTIONS_QUERY,
    STATE_QUERY,
)

if TYPE_CHECKING:
    from a2a_temporal.temporal.client import TemporalA2AClient

__all__ = [
    "TRUNCATED_EVENT",
    "PipelineHandle",
    "TaskHandle",
    "ended_outcome",
    "task_result",
    "truncated_event",
]

TRUNCATED_EVENT = "truncated"
_M = TypeVar("_M", bound=BaseModel)


class TaskHandle:
    """A running or finished task: its result, events and artifacts."""

    def __init__(self, client: TemporalA2AClient, task_id: str) -> None:
        self.task_id = task_id
        self._client = client
        self._handle: WorkflowHandle[Any, CallResult] = client.temporal.get_workflow_handle(
            task_id, result_type=CallResult
        )

    async def result(self, timeout: timedelta | float | None = None) -> CallResult:
        """Wait for the task's `CallResult`; after `timeout` the task is cancelled."""
        limit = seconds(timeout)
        try:
            return await asyncio.wait_for(self._wait(), limit)
        except TimeoutError:
            await self.cancel()
            result = await self._wait()
            return result.model_copy(
                update={"status": "canceled", "error": f"timed out after {limit:g}s"}
            )

    async def _wait(self) -> CallResult:
        with _translating(self.task_id):
            return await task_result(self._client.temporal, self._handle)

    async def cancel(self) -> None:
        """Ask the task (and its callees) to stop; its result becomes `canceled`."""
        with _translating(self.task_id):
            await self._handle.cancel()

    async def events(self, after: int = 0) -> AsyncIterator[AgentEvent]:
        """Yield the task's events from offset `after`, live, until the task ends."""
        async for event in _stream_events(self._client.temporal, self.task_id, after):
            yield event

    async def answer(
        self, question_id: str, value: Any, *, message: dict[str, Any] | None = None
    ) -> None:
        """Answer an open question of the task.

        `message` is the A2A message that carried the answer, for the task's
        A2A history (the gateway passes it).

        Raises:
            ValueError: No such open question, or `value` does not fit it (field
                errors named); the question stays open.
        """
        try:
            await self._handle.execute_update(
                ANSWER_UPDATE, Answer(question_id=question_id, value=value, message=message)
            )
        except WorkflowUpdateFailedError as err:
            cause = err.cause
            reason = cause.message if isinstance(cause, ApplicationError) else str(cause)
            raise ValueError(reason) from None
        except RPCError as err:
            if "already completed" in err.message:
                raise ValueError(
                    f"task {self.task_id} has ended; its questions are closed"
                ) from None
            raise _translate(err, self.task_id) from None

    async def state(self) -> TaskState:
        """Where the task is now: status, attempts, open questions, result once ended."""
        with _translating(self.task_id):
            state: TaskState = await self._handle.query(STATE_QUERY, result_type=TaskState)
        return state

    async def questions(self) -> list[QuestionState]:
        """The questions the task asked, with their answers."""
        with _translating(self.task_id):
            found: list[QuestionState] = await self._handle.query(
                QUESTIONS_QUERY, result_type=list[QuestionState]
            )
        return found

    async def artifacts(self) -> list[ArtifactRef]:
        """List the artifacts the task has stored so far."""
        return await list_task_artifacts(self._client.store, self.task_id)

    async def read_artifact(self, name: str) -> bytes:
        """Return the bytes of artifact `name`; `FileNotFoundError` when absent."""
        return await self._client.store.get(artifact_key(self.task_id, name))


class PipelineHandle:
    """A running or finished pipeline: its state, result and cancellation."""

    def __init__(self, client: TemporalA2AClient, pipeline_id: str) -> None:
        self.pipeline_id = pipeline_id
        self._client = client
        self._handle: WorkflowHandle[Any, PipelineState] = client.temporal.get_workflow_handle(
            pipeline_id, result_type=PipelineState
        )

    async def state(self) -> PipelineState:
        """Every step's status, timings, outputs, task ids and artifacts, now."""
        with _translating(self.pipeline_id):
            state: PipelineState = await self._handle.query(
                PIPELINE_STATE_QUERY, result_type=PipelineState
            )
        return state

    async def events(self, after: int = 0) -> AsyncIterator[AgentEvent]:
        """Yield `step` events (status changes, map progress) live, then one `pipeline` event.

        Follows the pipeline across continue-as-new; ends when the pipeline ends.
        """
        async for event in _stream_events(self._client.temporal, self.pipeline_id, after):
            yield event

    async def result(self) -> PipelineState:
        """Wait for the pipeline to end; return its final state, whichever way it ended.

        Raises:
            WorkflowFailureError: The pipeline was ended from outside (terminated, timed out).
        """
        with _translating(self.pipeline_id):
            try:
                return await server_load(self._client.temporal).result(self._handle)
            except WorkflowFailureError as err:
                outcome = await ended_outcome(self._handle, err.cause, PipelineState)
                if outcome is None:
                    raise
                return outcome

    async def cancel(self) -> None:
        """Cancel the pipeline and its running steps."""
        with _translating(self.pipeline_id):
            await self._handle.cancel()


async def _stream_events(client: Client, workflow_id: str, after: int) -> AsyncIterator[AgentEvent]:
    """The events from offset `after`; a `truncated` event first when older ones were trimmed.

    Relayed questions that their asker does not list are left out.
    """
    expected = after
    with _translating(workflow_id):
        async for item in follow_events(client, workflow_id, after):
            if item.offset > expected:
                yield truncated_event(expected, item.offset)
            expected = item.offset + 1
            if await genuine_question(client, workflow_id, item.data):
                yield AgentEvent(item.data.kind, item.data.payload)


def truncated_event(requested: int, available: int) -> AgentEvent:
    """Says that a subscriber asked for trimmed events and where its stream goes on."""
    return AgentEvent(
        TRUNCATED_EVENT,
        {
            "requested_offset": requested,
            "from_offset": available,
            "message": (
                f"events {requested} to {available - 1} were trimmed when the task continued "
                f"as new; the stream goes on from offset {available}"
            ),
        },
    )


@contextlib.contextmanager
def _translating(workflow_id: str) -> Iterator[None]:
    """Turn Temporal's NOT_FOUND into `UnknownTask`; let other errors through."""
    try:
        yield
    except RPCError as err:
        raise _translate(err, workflow_id) from None


def _translate(err: RPCError, task_id: str) -> Exception:
    if err.status == RPCStatusCode.NOT_FOUND:
        return UnknownTask(f"no task {task_id!r}")
    return err


async def task_result(client: Client, handle: WorkflowHandle[Any, CallResult]) -> CallResult:
    """Wait for a task's `CallResult`, whichever way its workflow ended.

    The wait shares `client`'s long polls and outlasts the server's throttling
    (`temporal.server_load`).
    """
    try:
        return await server_load(client).result(handle)
    except WorkflowFailureError as err:
        cause = err.cause
        outcome = await ended_outcome(handle, cause, CallResult)
        if outcome is not None:
            return outcome
        status: TaskStatus = "canceled" if isinstance(cause, CancelledError) else "failed"
        return CallResult(task_id=handle.id, status=status, error=describe_exception(cause))


async def ended_outcome(
    handle: WorkflowHandle[Any, Any], cause: BaseException | None, model: type[_M]
) -> _M | None:
    """The outcome a workflow that did not complete ended with (see `temporal.outcomes`).

    None for a workflow ended from outside (terminated, timed out) or by an
    older worker.
    """
    outcome = carried_outcome(cause, model)
    if outcome is None and isinstance(cause, CancelledError):
        description = await retrying(handle.describe, f"description of {handle.id}")
        kept: Any = await description.memo_value(RESULT_MEMO, None)
        with contextlib.suppress(ValidationError):
            outcome = None if kept is None else model.model_validate(kept)
    if getattr(outcome, "task_id", handle.id) != handle.id:
        return None  # a memo set by whoever started the run names another task: not ours
    return outcome
