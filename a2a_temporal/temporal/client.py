"""`TemporalA2AClient`: start skills on Temporal, follow their events, read their artifacts."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel
from pydantic_core import to_jsonable_python
from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from a2a_temporal.core.auth import subject_of
from a2a_temporal.core.client import A2AClient
from a2a_temporal.core.discovery import DiscoveryClient
from a2a_temporal.core.names import new_task_id, validate_task_id
from a2a_temporal.core.types import Budget, CallResult
from a2a_temporal.errors import TaskIdInUse
from a2a_temporal.settings import AgentSettings
from a2a_temporal.temporal.attributes import starter_memo, task_attributes
from a2a_temporal.temporal.handles import PipelineHandle, TaskHandle
from a2a_temporal.temporal.models import PushTarget, SkillRunInput
from a2a_temporal.temporal.pipeline import Pipeline, PipelineInput
from a2a_temporal.temporal.routing import RoutedDiscoveryClient
from a2a_temporal.temporal.runtime import AgentRuntime
from a2a_temporal.temporal.server_load import server_load
from a2a_temporal.temporal.wire import PIPELINE_WORKFLOW, SKILL_RUN_WORKFLOW
from a2a_temporal.trust.claims import PIPELINE_AUDIENCE, call_digest, spec_digest
from a2a_temporal.trust.identity import identity_signer

__all__ = ["TemporalA2AClient"]

_DETAILS_LIMIT = 2000


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
        runtime = AgentRuntime.of(client) if settings is None else None
        if runtime is None:
            runtime = AgentRuntime(settings or AgentSettings.from_env())
        self.settings = runtime.settings
        self.store = runtime.store
        self.router = runtime.router
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
        budget: Budget | None = None,
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
            budget: What the task and its calls may spend (within the skill's budget).

        Raises:
            OutboundRefused: A webhook URL is somewhere requests may not go
                (`outbound_allow`).
        """
        outbound = self.settings.outbound()
        for hook in push:
            outbound.check_url(hook.url, what="push webhook URL")
        raw_args = _as_json_object(args, "args")
        route = await self.router.route(target, skill, raw_args, self.settings.task_queue)
        generated_id = not task_id
        task_id = validate_task_id(task_id) if task_id else new_task_id(route.agent, route.skill)
        options = route.resolution.options
        await self._start(
            task_id,
            SKILL_RUN_WORKFLOW,
            SkillRunInput(
                agent=route.agent,
                skill=route.skill,
                args=route.args,
                auth=(raw_auth := _as_json_object(auth, "auth")),
                identity=self._signed(
                    raw_auth,
                    audience=route.agent,
                    task_id=task_id,
                    runs=call_digest(route.agent, route.skill, route.args),
                ),
                caller=caller,
                grant=grant,
                context_id=context_id,
                push=list(push),
                options=options,
                budget=budget,
            ),
            generated_id=generated_id,
            task_queue=options.task_queue if options else self.settings.task_queue,
            static_summary=f"{target}.{skill} by {caller or 'external'}",
            static_details=json.dumps(raw_args, default=str)[:_DETAILS_LIMIT],
            search_attributes=(
                task_attributes(target, skill, caller, context_id, subject_of(raw_auth))
                if self.settings.search_attributes
                else None
            ),
            memo=self._starter_memo(),
        )
        return TaskHandle(self, task_id)

    def _starter_memo(self) -> dict[str, int] | None:
        """The memo naming this runtime's revision, when `lean_task_history` is on."""
        return starter_memo() if self.settings.lean_task_history else None

    def _signed(
        self, auth: dict[str, Any] | None, *, audience: str, task_id: str, runs: str
    ) -> dict[str, Any] | None:
        """`auth` signed for `task_id` running `runs` (when it can sign and `auth` says who)."""
        if not auth or self._signer is None:
            return None
        envelope = self._signer.mint(
            auth,
            audience=audience,
            task=task_id,
            now=datetime.now(UTC),
            ttl=self.settings.identity_ttl,
            runs=runs,
        )
        return envelope.model_dump(mode="json")

    async def _start(
        self, workflow_id: str, run: Any, arg: Any, *, generated_id: bool, **options: Any
    ) -> None:
        """Start a workflow whose id may never be reused.

        Starts share the client's in-flight bound and outlast throttling
        (`temporal.server_load`). A start whose answer was lost is sent again
        only under an id made here: "already started" is then this start's own.
        """
        sends = 0

        async def send() -> None:
            nonlocal sends
            sends += 1
            await self.temporal.start_workflow(
                run,
                arg,
                id=workflow_id,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                **options,
            )

        try:
            await server_load(self.temporal).start(send, resend_lost=generated_id)
        except WorkflowAlreadyStartedError:
            if generated_id and sends > 1:
                return
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
        generated_id = not pipeline_id
        pipeline_id = (
            validate_task_id(pipeline_id)
            if pipeline_id
            else f"pipeline.{pipeline.name}/{uuid.uuid4()}"
        )
        await self._start(
            pipeline_id,
            PIPELINE_WORKFLOW,
            PipelineInput(
                pipeline=pipeline,
                auth=(raw_auth := _as_json_object(auth, "auth")),
                identity=self._signed(
                    raw_auth,
                    audience=PIPELINE_AUDIENCE,
                    task_id=pipeline_id,
                    runs=spec_digest(pipeline.model_dump(mode="json")),
                ),
                continue_as_new_after=continue_as_new_after,
                max_children=self.settings.max_pipeline_children,
            ),
            generated_id=generated_id,
            task_queue=self.settings.task_queue,
            static_summary=f"pipeline {pipeline.name}: {len(pipeline.steps)} steps",
            static_details=pipeline.model_dump_json(indent=2)[:_DETAILS_LIMIT],
            search_attributes=(
                task_attributes("pipeline", pipeline.name, None)
                if self.settings.search_attributes
                else None
            ),
            memo=self._starter_memo(),
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
        budget: Budget | None = None,
    ) -> CallResult:
        """Start the skill and wait for its result; see `A2AClient.call`."""
        handle = await self.start(target, skill, args=args, grant=grant, auth=auth, budget=budget)
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
