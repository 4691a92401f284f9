"""Read a task's A2A view straight from Temporal: its state, its events, its artifacts.

Nothing is kept in the reader: every view is rebuilt from what Temporal keeps
(the run's description and search attributes, the result of an ended task,
the `a2a.state` query and the offset-addressed event stream of a running
one), so any number of gateways, restarted at any time, answer alike. A query
needs a worker to answer it; every one is bounded by `QUERY_TIMEOUT`, and when
it does not answer in time the view falls back to what visibility says.
"""

from __future__ import annotations

import asyncio
import functools
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

import structlog
from a2a.types import a2a_pb2 as pb
from temporalio.client import Client, WorkflowExecution, WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from a2a_temporal.core.types import ArtifactRef, CallResult, RunStatus, TaskStatus
from a2a_temporal.protocol.convert import (
    FINAL,
    TaskFold,
    final_message,
    result_artifact,
    state_of,
)
from a2a_temporal.settings import AgentSettings
from a2a_temporal.temporal import wire
from a2a_temporal.temporal.artifacts import artifact_key
from a2a_temporal.temporal.follow import follow_events
from a2a_temporal.temporal.handles import task_result
from a2a_temporal.temporal.models import EventRecord, Settled, TaskState
from a2a_temporal.temporal.outcomes import ERROR_MEMO, RESULT_MEMO
from a2a_temporal.temporal.relayed import genuine_question
from a2a_temporal.temporal.server_load import retrying
from a2a_temporal.temporal.storage import ObjectStore, link_client
from a2a_temporal.temporal.wire import (
    SETTLE_UPDATE,
    STATE_QUERY,
    STREAM_OFFSET_QUERY,
)

__all__ = ["LISTING_READS", "QUERY_TIMEOUT", "ArtifactParts", "TaskInfo", "TaskReader"]

QUERY_TIMEOUT = timedelta(seconds=3)
LISTING_READS = 10
_log = structlog.get_logger(__name__)
_HANDOVER_PAUSE = 0.05


@dataclass(frozen=True)
class TaskInfo:
    """What visibility says about a task."""

    task_id: str
    agent: str
    skill: str
    context_id: str
    status: str
    closed: bool
    subject: str | None = None


class ArtifactParts:
    """Turns stored artifacts into A2A parts: small ones inline, large ones as short-lived links.

    Args:
        store: The bucket the artifacts are in.
        settings: The inline limit, the links' lifetime and the public S3 endpoint.
    """

    def __init__(self, store: ObjectStore, settings: AgentSettings) -> None:
        self._store = store
        self._inline_limit = settings.artifact_inline_limit
        self._link_ttl = settings.artifact_link_ttl
        self._links = link_client(settings)

    async def artifact(self, task_id: str, ref: ArtifactRef) -> pb.Artifact | None:
        """One of task `task_id`'s files as an A2A artifact; None when it has no such file.

        Where the bytes are comes from the task id and the artifact's name, never
        from the event that announced it (anything can write an event): an
        event naming another task's object, or an object that is not there,
        yields nothing. The size and type are the stored object's.
        """
        try:
            key = artifact_key(task_id, ref.name)
        except ValueError:
            return None
        found = await self._store.stat(key)
        if found is None:
            return None
        size, media_type = found
        part = pb.Part(filename=ref.name.rsplit("/", 1)[-1], media_type=media_type)
        if size <= self._inline_limit:
            part.raw = await self._store.get(key)
        else:
            part.url = self._links.presigned_get_object(
                self._store.bucket, key, expires=self._link_ttl
            )
        return pb.Artifact(artifact_id=ref.name, name=ref.name, parts=[part])


class TaskReader:
    """Builds A2A tasks from Temporal.

    Args:
        client: A Temporal client with the `AgentPlugin`.
        artifacts: How artifacts become parts.
    """

    def __init__(self, client: Client, artifacts: ArtifactParts) -> None:
        self._client = client
        self.artifacts = artifacts

    async def info(self, task_id: str) -> TaskInfo | None:
        """The task's identity and status; None when no task has that id."""
        try:
            description = await self._client.get_workflow_handle(task_id).describe()
        except RPCError as err:
            if err.status in (RPCStatusCode.NOT_FOUND, RPCStatusCode.INVALID_ARGUMENT):
                return None
            raise
        if description.workflow_type != wire.SKILL_RUN_WORKFLOW:
            return None
        return self.listed(description)

    @staticmethod
    def listed(execution: WorkflowExecution) -> TaskInfo:
        """A task's identity and status, as its listing (or description) from visibility says."""
        found = execution.typed_search_attributes
        task_id = execution.id
        return TaskInfo(
            task_id=task_id,
            agent=found.get(wire.SEARCH_AGENT) or "",
            skill=found.get(wire.SEARCH_SKILL) or "",
            context_id=found.get(wire.SEARCH_CONTEXT) or task_id,
            status=found.get(wire.SEARCH_STATUS) or "running",
            closed=execution.status != WorkflowExecutionStatus.RUNNING,
            subject=found.get(wire.SEARCH_SUBJECT),
        )

    async def state(self, info: TaskInfo) -> TaskState:
        """The task's state: from its result once it ended, else its (bounded) `a2a.state`.

        A running task whose workflow does not answer in time (no worker polls
        its queue, or it is busy) gets the status visibility holds.
        """
        handle = self._client.get_workflow_handle(info.task_id, result_type=CallResult)
        if info.closed:
            result = await task_result(self._client, handle)
            return TaskState(status=result.status, result=result)
        try:
            state: TaskState = await handle.query(
                STATE_QUERY, result_type=TaskState, rpc_timeout=QUERY_TIMEOUT
            )
        except RPCError:
            return TaskState(status=_run_status(info.status))
        return state

    async def settle(self, task_id: str, asked_before: int = 0) -> Settled | None:
        """Wait until the task ends or asks question number `asked_before + 1`.

        Follows the task across continue-as-new. None when it had already closed
        (or was closed without a result, e.g. terminated): read it instead.
        """
        handle = self._client.get_workflow_handle(task_id)
        while True:
            try:
                update_id = str(uuid.uuid4())  # a retry joins the update the server took
                settled: Settled = await retrying(
                    functools.partial(
                        handle.execute_update,
                        SETTLE_UPDATE,
                        asked_before,
                        id=update_id,
                        result_type=Settled,
                    ),
                    f"settling of {task_id}",
                )
            except RPCError as err:
                if err.status != RPCStatusCode.NOT_FOUND:
                    raise
                description = await retrying(handle.describe, f"description of {task_id}")
                if description.status != WorkflowExecutionStatus.RUNNING:
                    return None
                continue  # it continued as new between our update and its close
            state = settled.state
            if state.result is not None or settled.asked > asked_before or state.open_questions:
                return settled
            await asyncio.sleep(_HANDOVER_PAUSE)  # the run is handing over to its continuation

    async def records(
        self, task_id: str, after: int = 0, *, follow: bool
    ) -> AsyncIterator[tuple[int, EventRecord]]:
        """The task's events from offset `after`: those there now, or live until it ends.

        Reading those there now is bounded: a workflow that does not answer in
        time yields none, and a wait that fails raises rather than waiting for
        another worker. Relayed questions their asker does not list are left out.
        """
        end = None
        if not follow:
            try:
                end = await self._client.get_workflow_handle(task_id).query(
                    STREAM_OFFSET_QUERY, result_type=int, rpc_timeout=QUERY_TIMEOUT
                )
            except RPCError:
                return
        if end is not None and end <= after:
            return
        async for item in follow_events(self._client, task_id, after, outwait_workers=follow):
            if await genuine_question(self._client, task_id, item.data):
                yield item.offset, item.data
            if end is not None and item.offset >= end - 1:
                return

    async def fold(self, info: TaskInfo) -> TaskFold:
        """Every event of the task so far, folded."""
        fold = TaskFold(info.task_id, info.context_id)
        async for offset, record in self.records(info.task_id, follow=False):
            fold.apply(offset, record)
        return fold

    async def _fold_since_start(self, info: TaskInfo, settled: Settled | None) -> TaskFold:
        if settled is not None and settled.events == 0:
            return TaskFold(info.task_id, info.context_id)
        return await self.fold(info)

    async def _state_now(self, info: TaskInfo, settled: Settled | None) -> TaskState:
        return settled.state if settled is not None else await self.state(info)

    async def summary(self, info: TaskInfo, execution: WorkflowExecution) -> pb.Task:
        """The task as its listing says, without reading its history or asking its workflow.

        Its ids, agent and skill, and its status from the `A2AStatus` search
        attribute (or, for a run that ended without setting it, e.g.
        terminated, from how it closed). An ended task's status message is the
        one `task()` gives: its error (from the `a2a.error` memo, cut at
        `ERROR_MEMO_CHARS`; read from its result when it ended before tasks kept
        one), else its status. No history, artifacts or usage: `task()` has them.
        """
        status = _listed_status(info, execution.status)
        task = pb.Task(id=info.task_id, context_id=info.context_id)
        task.metadata.update({"agent": info.agent, "skill": info.skill})
        task.status.state = state_of(status)
        if status in FINAL:
            error = None
            if status != "completed":
                error = await _memo_error(execution)
                if error is None and info.closed:  # it ended before tasks kept their error
                    result = (await self.state(info)).result
                    error = result.error if result is not None else None
            ended = CallResult(task_id=info.task_id, status=cast(TaskStatus, status), error=error)
            task.status.message.CopyFrom(final_message(info.task_id, info.context_id, ended))
        return task

    async def task(
        self, info: TaskInfo, fold: TaskFold | None = None, settled: Settled | None = None
    ) -> pb.Task:
        """The A2A task as it is now (`settled`: its state just returned by `settle`)."""
        if fold is None:
            folded, state = await asyncio.gather(
                self._fold_since_start(info, settled), self._state_now(info, settled)
            )
            fold = folded
        else:
            state = await self._state_now(info, settled)
        task = pb.Task(id=info.task_id, context_id=info.context_id)
        task.metadata.update({"agent": info.agent, "skill": info.skill, "attempts": state.attempts})
        task.history.extend(fold.history)
        if fold.text:
            task.artifacts.add(artifact_id="text", name="text").parts.add(text=fold.full_text)
        for ref in fold.files.values():
            artifact = await self.artifacts.artifact(info.task_id, ref)
            if artifact is not None:
                task.artifacts.append(artifact)
        message = fold.status_message
        result = state.result
        if result is not None:
            if not result.usage.empty:
                task.metadata.update({"usage": result.usage.model_dump()})
            artifact = result_artifact(result)
            if artifact is not None:
                task.artifacts.append(artifact)
            message = final_message(info.task_id, info.context_id, result)
        task.status.state = state_of(state.status)
        if message is not None:
            task.status.message.CopyFrom(message)
        return task

    async def listed_tasks(
        self, executions: Sequence[WorkflowExecution], *, full: bool
    ) -> list[pb.Task]:
        """The tasks of one page of a listing, in its order (see `listed_task`).

        At most `LISTING_READS` of them are read at a time.
        """
        reads = asyncio.Semaphore(LISTING_READS)

        async def bounded(execution: WorkflowExecution) -> pb.Task:
            async with reads:
                return await self.listed_task(execution, full=full)

        return list(await asyncio.gather(*(bounded(e) for e in executions)))

    async def listed_task(self, execution: WorkflowExecution, *, full: bool) -> pb.Task:
        """One task of a listing: `summary` of it, or, `full`, `task()` (history, artifacts).

        A task that cannot be read (payloads this gateway cannot decode,
        Temporal failing for that task) is what visibility says of it, and why not.
        """
        info = self.listed(execution)
        try:
            return await self.task(info) if full else await self.summary(info, execution)
        except Exception as exc:  # one unreadable task must not fail a whole listing
            _log.warning("task_unreadable", task_id=info.task_id, error=str(exc))
            task = pb.Task(id=info.task_id, context_id=info.context_id)
            task.metadata.update({"agent": info.agent, "skill": info.skill})
            task.status.state = state_of(_run_status(info.status))
            task.status.message.CopyFrom(
                pb.Message(
                    message_id=f"{info.task_id}/unreadable",
                    role=pb.Role.ROLE_AGENT,
                    parts=[pb.Part(text=f"this gateway cannot read the task: {exc}")],
                )
            )
            return task


_CLOSED_AS: dict[WorkflowExecutionStatus, RunStatus] = {
    WorkflowExecutionStatus.COMPLETED: "completed",
    WorkflowExecutionStatus.CANCELED: "canceled",
}


def _listed_status(info: TaskInfo, closed_as: WorkflowExecutionStatus | None) -> RunStatus:
    """A listed task's status: its `A2AStatus`, or how its run closed when that is not final.

    (A run terminated or timed out from outside never set a final `A2AStatus`.)
    """
    status = _run_status(info.status)
    if not info.closed or status in FINAL:
        return status
    return _CLOSED_AS.get(closed_as, "failed") if closed_as is not None else "failed"


async def _memo_error(execution: WorkflowExecution) -> str | None:
    """The error an ended task keeps in its memo (`a2a.error`, or the `a2a.result` of a cancel)."""
    error: Any = await execution.memo_value(ERROR_MEMO, None)
    if isinstance(error, str):
        return error
    kept: Any = await execution.memo_value(RESULT_MEMO, None)
    if not isinstance(kept, dict) or kept.get("task_id") != execution.id:
        return None  # none, or set by whoever started the run, naming another task
    found = kept.get("error")
    return found if isinstance(found, str) else None


def _run_status(status: str) -> RunStatus:
    """A status visibility holds, as a `RunStatus` (an unknown one is `running`)."""
    known: tuple[RunStatus, ...] = (
        "resolving",
        "running",
        "input-required",
        "completed",
        "failed",
        "canceled",
        "rejected",
    )
    return next((value for value in known if value == status), "running")
