"""Read a task's A2A view straight from Temporal: its state, its events, its artifacts.

Nothing is kept in the reader: every view is rebuilt from the workflow (its
search attributes, its `a2a.state` query and its offset-addressed event
stream), so any number of gateways, restarted at any time, answer alike.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

from a2a.types import a2a_pb2 as pb
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.contrib.workflow_streams import WorkflowStreamClient
from temporalio.service import RPCError, RPCStatusCode

from a2a_temporal.core.types import ArtifactRef
from a2a_temporal.protocol.convert import TaskFold, final_message, result_artifact, state_of
from a2a_temporal.temporal import wire
from a2a_temporal.temporal.models import EventRecord, Settled, TaskState
from a2a_temporal.temporal.storage import ObjectStore
from a2a_temporal.temporal.wire import EVENTS_TOPIC, SETTLE_UPDATE, STATE_QUERY

__all__ = ["ArtifactParts", "TaskInfo", "TaskReader"]

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


class ArtifactParts:
    """Turns stored artifacts into A2A parts: small ones inline, large ones as short-lived links.

    Args:
        store: The bucket the artifacts are in.
        inline_limit: Largest size sent inline, in bytes.
        link_ttl: How long a link stays valid.
    """

    def __init__(self, store: ObjectStore, inline_limit: int, link_ttl: timedelta) -> None:
        self._store = store
        self._inline_limit = inline_limit
        self._link_ttl = link_ttl

    async def artifact(self, ref: ArtifactRef) -> pb.Artifact:
        """One of a task's files as an A2A artifact."""
        key = ref.uri.removeprefix(f"s3://{self._store.bucket}/")
        part = pb.Part(filename=ref.name.rsplit("/", 1)[-1], media_type=ref.mime_type)
        if ref.size_bytes <= self._inline_limit:
            part.raw = await self._store.get(key)
        else:
            part.url = self._store.client.presigned_get_object(
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
        found = description.typed_search_attributes
        return TaskInfo(
            task_id=task_id,
            agent=found.get(wire.SEARCH_AGENT) or "",
            skill=found.get(wire.SEARCH_SKILL) or "",
            context_id=found.get(wire.SEARCH_CONTEXT) or task_id,
            status=found.get(wire.SEARCH_STATUS) or "running",
            closed=description.status != WorkflowExecutionStatus.RUNNING,
        )

    async def state(self, task_id: str) -> TaskState:
        """The task's `a2a.state` (status, open questions, result once ended)."""
        handle = self._client.get_workflow_handle(task_id)
        state: TaskState = await handle.query(STATE_QUERY, result_type=TaskState)
        return state

    async def settle(self, task_id: str, asked_before: int = 0) -> Settled | None:
        """Wait until the task ends or asks question number `asked_before + 1`.

        Follows the task across continue-as-new. None when it had already closed
        (or was closed without a result, e.g. terminated): read it instead.
        """
        handle = self._client.get_workflow_handle(task_id)
        while True:
            try:
                settled: Settled = await handle.execute_update(
                    SETTLE_UPDATE, asked_before, result_type=Settled
                )
            except RPCError as err:
                if err.status != RPCStatusCode.NOT_FOUND:
                    raise
                description = await handle.describe()
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
        """The task's events from offset `after`: those there now, or live until it ends."""
        stream = WorkflowStreamClient.create(self._client, task_id)
        end = None if follow else await stream.get_offset()
        if end is not None and end <= after:
            return
        async for item in stream.subscribe(
            [EVENTS_TOPIC], from_offset=after, result_type=EventRecord
        ):
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
        return settled.state if settled is not None else await self.state(info.task_id)

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
            task.artifacts.append(await self.artifacts.artifact(ref))
        message = fold.status_message
        result = state.result
        if result is not None:
            artifact = result_artifact(result)
            if artifact is not None:
                task.artifacts.append(artifact)
            message = final_message(info.task_id, info.context_id, result)
        task.status.state = state_of(state.status)
        if message is not None:
            task.status.message.CopyFrom(message)
        return task
