"""The `run_skill` activity: runs a skill body inside a `TemporalRunContext`."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterable
from datetime import timedelta
from typing import Any

from temporalio import activity
from temporalio.client import Client
from temporalio.contrib.workflow_streams import WorkflowStreamClient
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory

from a2a_temporal._cancel import translate_cancellation
from a2a_temporal._event_replay import EventReplay
from a2a_temporal._events import EventPublisher, sent_events
from a2a_temporal._s3 import ObjectStore
from a2a_temporal.agent import A2AAgent, PreparedCall
from a2a_temporal.discovery import InMemoryDiscoveryClient
from a2a_temporal.errors import SkillRejected
from a2a_temporal.models import (
    AWAITING_INPUT_ERROR_TYPE,
    PROGRESS_SIGNAL,
    REJECTED_ERROR_TYPE,
    RunSkillInput,
    SkillOutput,
)
from a2a_temporal.secrets import SecretResolver
from a2a_temporal.temporal_context import (
    AwaitingInput,
    TemporalRunContext,
    list_task_artifacts,
)
from a2a_temporal.types import AgentEvent, ArtifactRef
from workflows.skill_run import LIST_ARTIFACTS_ACTIVITY, RUN_SKILL_ACTIVITY

__all__ = ["SkillActivities"]


class SkillActivities:
    """The activities of one worker's agents.

    Args:
        agents: Agents this worker hosts.
        store: Where artifacts go.
        secrets: Where `ctx.secret` looks.
        heartbeat_interval: How often a running skill heartbeats.
        event_batch_interval: How long events are batched before they are sent.
    """

    def __init__(
        self,
        agents: Iterable[A2AAgent],
        store: ObjectStore,
        secrets: SecretResolver,
        *,
        heartbeat_interval: timedelta,
        event_batch_interval: timedelta,
    ) -> None:
        self._agents = {agent.name: agent for agent in agents}
        self._store = store
        self._secrets = secrets
        self._heartbeat_interval = heartbeat_interval.total_seconds()
        self._batch_interval = event_batch_interval.total_seconds()
        self._discovery = InMemoryDiscoveryClient(a.card() for a in self._agents.values())

    def definitions(self) -> list[Any]:
        """The activity callables to register on a worker."""
        return [self.run_skill, self.list_artifacts]

    @activity.defn(name=RUN_SKILL_ACTIVITY)
    async def run_skill(self, input: RunSkillInput) -> SkillOutput:
        """Run one attempt of a skill."""
        info = activity.info()
        task_id = info.workflow_id
        assert task_id is not None, "run_skill is only scheduled by SkillRunWorkflow"
        task = input.task
        agent = self._agents.get(task.agent)
        if agent is None:
            raise _rejected(f"agent {task.agent!r} is not hosted by this worker")
        try:
            prepared = agent.prepare(task.skill, task.args, task.auth)
        except SkillRejected as exc:
            raise _rejected(str(exc)) from None
        client = activity.client()
        async with self._heartbeating():
            return await self._attempt(input, prepared, client, task_id)

    async def _attempt(
        self,
        input: RunSkillInput,
        prepared: PreparedCall,
        client: Client,
        task_id: str,
    ) -> SkillOutput:
        info = activity.info()
        handle = client.get_workflow_handle(task_id)

        async def show_progress(message: str) -> None:
            await handle.signal(PROGRESS_SIGNAL, message)

        stream = WorkflowStreamClient.from_within_activity(batch_interval=timedelta(hours=1))
        rerun = info.attempt > 1 or input.resumed
        replay = EventReplay(await sent_events(stream)) if rerun else None
        async with EventPublisher(
            stream, self._batch_interval, show_progress, replay=replay
        ) as publisher:
            if info.attempt > 1:
                publisher.announce(AgentEvent("retry", {"attempt": info.attempt}))
            ctx: TemporalRunContext[Any] = TemporalRunContext(
                task_id=task_id,
                auth=prepared.auth,
                workspace_access=prepared.agent.workspace_access,
                client=client,
                store=self._store,
                publisher=publisher,
                secrets=self._secrets,
                discovery=self._discovery,
                grant=input.task.grant,
            )
            try:
                output = await self._run_handler(ctx, prepared.invoke(ctx))
                publisher.finish_replay()
            except AwaitingInput as waiting:
                raise ApplicationError(
                    str(waiting),
                    waiting.parked,
                    type=AWAITING_INPUT_ERROR_TYPE,
                    non_retryable=True,
                    category=ApplicationErrorCategory.BENIGN,
                ) from None
            finally:
                await ctx.aclose()
        artifacts = ctx.artifact_refs
        if info.attempt > 1:
            artifacts = tuple(await self.list_artifacts(task_id))
        return SkillOutput(output=output, artifacts=artifacts)

    async def _run_handler(self, ctx: TemporalRunContext[Any], handler: Any) -> Any:
        """Run the handler; map its outcome to Temporal's terms."""
        task = asyncio.create_task(
            translate_cancellation(handler, lambda: f"task {ctx.task_id} was cancelled")
        )
        try:
            return await task
        except asyncio.CancelledError:
            task.cancel()
            await asyncio.wait({task})
            raise
        except SkillRejected as exc:
            raise _rejected(str(exc)) from None

    @contextlib.asynccontextmanager
    async def _heartbeating(self) -> AsyncIterator[None]:
        """Heartbeat every `heartbeat_interval` for the whole attempt."""

        async def beat() -> None:
            while True:
                activity.heartbeat()
                await asyncio.sleep(self._heartbeat_interval)

        task = asyncio.create_task(beat())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    @activity.defn(name=LIST_ARTIFACTS_ACTIVITY)
    async def list_artifacts(self, task_id: str) -> list[ArtifactRef]:
        """List every artifact a task stored, across all its attempts."""
        return await list_task_artifacts(self._store, task_id)


def _rejected(message: str) -> ApplicationError:
    return ApplicationError(
        message,
        type=REJECTED_ERROR_TYPE,
        non_retryable=True,
        category=ApplicationErrorCategory.BENIGN,
    )
