"""`TemporalA2AClient`: start skills on Temporal, follow their events, read their artifacts."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel
from pydantic_core import to_jsonable_python
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDReusePolicy
from temporalio.contrib.workflow_streams import WorkflowStreamClient
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from a2a_temporal._routing import RoutedDiscoveryClient, SkillRouter
from a2a_temporal._s3 import ObjectStore, minio_client
from a2a_temporal.client import A2AClient, new_task_id
from a2a_temporal.context import seconds
from a2a_temporal.discovery import DiscoveryClient
from a2a_temporal.identity import PIPELINE_AUDIENCE, identity_signer
from a2a_temporal.models import (
    ANSWER_UPDATE,
    EVENTS_TOPIC,
    QUESTIONS_QUERY,
    STATE_QUERY,
    Answer,
    EventRecord,
    PushTarget,
    QuestionState,
    SkillRunInput,
    TaskState,
)
from a2a_temporal.names import validate_task_id
from a2a_temporal.pipeline import Pipeline, PipelineInput, PipelineState
from a2a_temporal.plugin import AgentPlugin
from a2a_temporal.registry import AgentRegistry
from a2a_temporal.settings import AgentSettings
from a2a_temporal.temporal_context import artifact_key, list_task_artifacts, task_result
from a2a_temporal.types import AgentEvent, ArtifactRef, CallResult
from a2a_temporal.workflows.pipeline import PIPELINE_STATE_QUERY, PipelineWorkflow
from a2a_temporal.workflows.skill_run import SkillRunWorkflow, task_attributes

__all__ = ["PipelineHandle", "TaskHandle", "TaskIdInUse", "TemporalA2AClient", "UnknownTask"]

_DETAILS_LIMIT = 2000


class UnknownTask(LookupError):
    """No task (workflow) with that id exists."""


class TaskIdInUse(ValueError):
    """A task or pipeline with that id was already started (ids are never reused)."""


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
            return await task_result(self._handle)

    async def cancel(self) -> None:
        """Ask the task (and its callees) to stop; its result becomes `canceled`."""
        with _translating(self.task_id):
            await self._handle.cancel()

    async def events(self, after: int = 0) -> AsyncIterator[AgentEvent]:
        """Yield the task's events from offset `after`, live, until the task ends."""
        async for event in _stream_events(self._client.temporal, self.task_id, after):
            yield event

    async def answer(self, question_id: str, value: Any) -> None:
        """Answer an open question of the task.

        Raises:
            ValueError: No such open question, or `value` does not fit it (field
                errors named); the question stays open.
        """
        try:
            await self._handle.execute_update(
                ANSWER_UPDATE, Answer(question_id=question_id, value=value)
            )
        except WorkflowUpdateFailedError as err:
            cause = err.cause
            message = cause.message if isinstance(cause, ApplicationError) else str(cause)
            raise ValueError(message) from None
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
        """Wait for the pipeline to end; return its final state."""
        with _translating(self.pipeline_id):
            return await self._handle.result()

    async def cancel(self) -> None:
        """Cancel the pipeline and its running steps."""
        with _translating(self.pipeline_id):
            await self._handle.cancel()


class TemporalA2AClient(A2AClient):
    """Runs skills as `SkillRunWorkflow`s on Temporal.

    Args:
        client: A client connected with `AgentPlugin` (its settings are used), or
            any client plus `settings`.
        settings: Where S3 and the default task queue are; taken from the
            client's `AgentPlugin`, else from the environment.
    """

    def __init__(self, client: Client, settings: AgentSettings | None = None) -> None:
        self.temporal = client
        plugin = next(
            (p for p in client.config().get("plugins", []) if isinstance(p, AgentPlugin)), None
        )
        self.settings = settings or (plugin.settings if plugin else AgentSettings.from_env())
        if plugin is not None and settings is None:
            self.store = plugin.store
            self.router = plugin.router
        else:
            self.store = ObjectStore(minio_client(self.settings), self.settings.s3_bucket)
            registry = AgentRegistry(self.store, self.settings.registry_ttl)
            self.router = SkillRouter([], self.settings, registry)
        self._discovery = RoutedDiscoveryClient(self.router)
        self._signer = identity_signer(self.settings)

    @property
    def discovery(self) -> DiscoveryClient:
        """Agents in the registry (every worker pool's live agents)."""
        return self._discovery

    def get_task(self, task_id: str) -> TaskHandle:
        """Return a handle to an existing task."""
        return TaskHandle(self, task_id)

    async def start(
        self,
        target: str,
        skill: str,
        *,
        args: BaseModel | Mapping[str, Any] | None = None,
        grant: Any = None,
        auth: BaseModel | Mapping[str, Any] | None = None,
        task_id: str | None = None,
        caller: str | None = None,
        context_id: str | None = None,
        push: Sequence[PushTarget] = (),
    ) -> TaskHandle:
        """Start `skill` of `target` and return at once with its handle.

        Args:
            target: Agent name.
            skill: Skill name.
            args: Arguments, validated against the skill's input model.
            grant: Workspace grant handed to the task.
            auth: Caller identity.
            task_id: Id for the task (default `<agent>.<skill>/<uuid>`); never reused.
            caller: Who starts it, shown in the UI and the `A2ACaller` search attribute.
            context_id: The A2A context the task belongs to.
            push: Webhooks told of the task's terminal and interrupted states.
        """
        raw_args = _as_json_object(args, "args")
        route = await self.router.route(target, skill, raw_args, self.settings.task_queue)
        task_id = validate_task_id(task_id) if task_id else new_task_id(route.agent, route.skill)
        options = route.resolution.options
        await self._start(
            task_id,
            SkillRunWorkflow.run,
            SkillRunInput(
                agent=route.agent,
                skill=route.skill,
                args=route.args,
                auth=(raw_auth := _as_json_object(auth, "auth")),
                identity=self._signed(raw_auth, audience=route.agent, task_id=task_id),
                caller=caller,
                grant=grant,
                context_id=context_id,
                push=list(push),
                options=options,
            ),
            task_queue=options.task_queue if options else self.settings.task_queue,
            static_summary=f"{target}.{skill} by {caller or 'external'}",
            static_details=json.dumps(raw_args, default=str)[:_DETAILS_LIMIT],
            search_attributes=(
                task_attributes(target, skill, caller, context_id)
                if self.settings.search_attributes
                else None
            ),
        )
        return TaskHandle(self, task_id)

    def _signed(
        self, auth: dict[str, Any] | None, *, audience: str, task_id: str
    ) -> dict[str, Any] | None:
        """`auth` signed for `task_id`, when this client has a signing key and `auth` says who."""
        if not auth or self._signer is None:
            return None
        envelope = self._signer.mint(
            auth,
            audience=audience,
            task=task_id,
            now=datetime.now(UTC),
            ttl=self.settings.identity_ttl,
        )
        return envelope.model_dump(mode="json")

    async def _start(self, workflow_id: str, run: Any, arg: Any, **options: Any) -> None:
        """Start a workflow whose id may never be reused."""
        try:
            await self.temporal.start_workflow(
                run,
                arg,
                id=workflow_id,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                **options,
            )
        except WorkflowAlreadyStartedError:
            raise TaskIdInUse(
                f"id {workflow_id!r} is already used by a task or pipeline (running or "
                "ended); ids are never reused, so events and artifacts stay their own"
            ) from None

    async def start_pipeline(
        self,
        pipeline: Pipeline,
        *,
        auth: BaseModel | Mapping[str, Any] | None = None,
        pipeline_id: str | None = None,
        continue_as_new_after: int | None = None,
    ) -> PipelineHandle:
        """Start `pipeline` as a `PipelineWorkflow`; returns at once with its handle."""
        pipeline_id = (
            validate_task_id(pipeline_id)
            if pipeline_id
            else f"pipeline.{pipeline.name}/{uuid.uuid4()}"
        )
        await self._start(
            pipeline_id,
            PipelineWorkflow.run,
            PipelineInput(
                pipeline=pipeline,
                auth=(raw_auth := _as_json_object(auth, "auth")),
                identity=self._signed(raw_auth, audience=PIPELINE_AUDIENCE, task_id=pipeline_id),
                continue_as_new_after=continue_as_new_after,
                max_children=self.settings.max_pipeline_children,
            ),
            task_queue=self.settings.task_queue,
            static_summary=f"pipeline {pipeline.name}: {len(pipeline.steps)} steps",
            static_details=pipeline.model_dump_json(indent=2)[:_DETAILS_LIMIT],
            search_attributes=(
                task_attributes("pipeline", pipeline.name, None)
                if self.settings.search_attributes
                else None
            ),
        )
        return PipelineHandle(self, pipeline_id)

    def get_pipeline(self, pipeline_id: str) -> PipelineHandle:
        """Return a handle to an existing pipeline."""
        return PipelineHandle(self, pipeline_id)

    async def call(
        self,
        target: str,
        skill: str,
        *,
        args: BaseModel | Mapping[str, Any] | None = None,
        grant: Any = None,
        timeout: timedelta | float | None = None,
        auth: BaseModel | Mapping[str, Any] | None = None,
    ) -> CallResult:
        """Start the skill and wait for its result; see `A2AClient.call`."""
        handle = await self.start(target, skill, args=args, grant=grant, auth=auth)
        return await handle.result(timeout)


def _as_json_object(
    value: BaseModel | Mapping[str, Any] | None, what: str
) -> dict[str, Any] | None:
    if value is None:
        return None
    if isinstance(value, BaseModel):
        return dict(value.model_dump(mode="json"))
    if not isinstance(value, Mapping):
        raise TypeError(f"{what} must be a pydantic model or a mapping, got {type(value).__name__}")
    return dict(to_jsonable_python(dict(value)))


async def _stream_events(client: Client, workflow_id: str, after: int) -> AsyncIterator[AgentEvent]:
    stream = WorkflowStreamClient.create(client, workflow_id)
    with _translating(workflow_id):
        async for item in stream.subscribe(
            [EVENTS_TOPIC], from_offset=after, result_type=EventRecord
        ):
            yield AgentEvent(item.data.kind, item.data.payload)


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
