"""The skill activities: `run_skill` runs a skill body inside a `TemporalRunContext`."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
from collections.abc import AsyncIterator, Iterable
from typing import Any, NoReturn

import structlog
from temporalio import activity
from temporalio.client import Client
from temporalio.common import MetricMeter
from temporalio.contrib.workflow_streams import WorkflowStreamClient
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory

from a2a_temporal.core._cancel import SkillTask
from a2a_temporal.core.agent import A2AAgent, PreparedCall
from a2a_temporal.core.describe import safe_message
from a2a_temporal.core.names import pipeline_step
from a2a_temporal.core.secrets import SecretResolver
from a2a_temporal.core.types import Budget
from a2a_temporal.errors import (
    IdentityRefused,
    InfrastructureError,
    SkillRejected,
)
from a2a_temporal.sandbox.interface import SandboxClient
from a2a_temporal.settings import AgentSettings, debugging
from a2a_temporal.temporal import metrics
from a2a_temporal.temporal._attempt import (
    AttemptLink,
    AwaitingInput,
    Superseded,
    previous_failure,
)
from a2a_temporal.temporal._event_replay import EventReplay
from a2a_temporal.temporal._events import EventPublisher, sent_events
from a2a_temporal.temporal._failures import infrastructure, rejected, skill_error, superseded
from a2a_temporal.temporal._pacing import Pacing
from a2a_temporal.temporal._steps import StepBook
from a2a_temporal.temporal.artifacts import list_task_artifacts, storage_errors
from a2a_temporal.temporal.context import TemporalRunContext
from a2a_temporal.temporal.journal import JournalUpdate, JournalView
from a2a_temporal.temporal.journal_store import JournalStore
from a2a_temporal.temporal.metrics import outcome_of
from a2a_temporal.temporal.models import (
    AttemptInput,
    AttemptToken,
    JournalRef,
    Resolution,
    SkillOptions,
    SkillOutput,
    SkillRef,
)
from a2a_temporal.temporal.routing import RoutedDiscoveryClient, SkillRouter
from a2a_temporal.temporal.run_claims import RunClaims
from a2a_temporal.temporal.storage import ObjectStore
from a2a_temporal.temporal.wire import (
    ARCHIVE_JOURNAL_ACTIVITY,
    AWAITING_INPUT_ERROR_TYPE,
    LIST_ARTIFACTS_ACTIVITY,
    RESOLVE_ACTIVITY,
    RUN_SKILL_ACTIVITY,
    TASK_CANCELED_ERROR_TYPE,
    VERIFY_IDENTITY_ACTIVITY,
)
from a2a_temporal.trust.claims import IdentityCheck, call_digest
from a2a_temporal.trust.identity import CallMinter, IdentityPolicy, identity_signer

__all__ = ["SkillActivities"]

_log = structlog.get_logger("a2a_temporal.skills")


class SkillActivities:
    """The activities of one worker's agents.

    Args:
        agents: Agents this worker hosts.
        store: Where artifacts go.
        secrets: Where `ctx.secret` looks.
        settings: The worker's settings (heartbeats, batching, history budget).
        router: Resolves the targets of `ctx.call`.
        sandbox: What `ctx.sandbox` runs code in (None: `SandboxUnavailable`).
    """

    def __init__(
        self,
        agents: Iterable[A2AAgent],
        store: ObjectStore,
        secrets: SecretResolver,
        settings: AgentSettings,
        router: SkillRouter,
        sandbox: SandboxClient | None = None,
    ) -> None:
        self._agents = {agent.name: agent for agent in agents}
        self._sandbox = sandbox
        self._store = store
        self._secrets = secrets
        self._settings = settings
        self._router = router
        self._discovery = RoutedDiscoveryClient(router)
        self._identities = IdentityPolicy(
            settings.identity_issuers, require_signed=settings.require_signed_identity
        )
        self._run_claims = RunClaims(store)
        self._minter = CallMinter(
            identity_signer(settings), settings.identity_ttl, settings.max_delegation_depth
        )

    def missing_secrets(self) -> dict[str, list[str]]:
        """The secrets the hosted agents declare that this worker cannot resolve, by agent."""
        return self._secrets.missing(self._agents.values())

    def definitions(self) -> list[Any]:
        """The activity callables to register on a worker."""
        return [
            self.run_skill,
            self.list_artifacts,
            self.resolve_skills,
            self.verify_identity,
            self.archive_journal,
        ]

    @activity.defn(name=RUN_SKILL_ACTIVITY)
    async def run_skill(self, input: AttemptInput) -> SkillOutput:
        """Run one attempt of a skill."""
        info = activity.info()
        task = input.task
        agent = self._agents.get(task.agent)
        if agent is None:
            raise infrastructure(
                f"agent {task.agent!r} is not hosted by the worker polling task queue "
                f"{info.task_queue!r}"
            )
        if task.options is None:
            raise rejected("the task reached its activity without resolved options")
        check = IdentityCheck(
            auth=task.auth,
            identity=task.identity,
            task_id=info.workflow_id or "",
            audience=task.agent,
            parent_id=input.parent_id,
            started_at=input.started_at or info.scheduled_time,
            continued=input.continued,
            first_run_id=input.first_run_id,
            cron=input.cron,
            retried=input.retried,
            call_digest=call_digest(task.agent, task.skill, task.args),
        )
        try:
            auth = await self._trusted_auth(check)
            prepared = agent.prepare(task.skill, task.args, auth)
        except (SkillRejected, IdentityRefused) as exc:
            reason = self._secrets.redact(str(exc))
            _log.warning(
                "task_rejected",
                task_id=check.task_id,
                skill=f"{task.agent}.{task.skill}",
                reason=reason,
            )
            raise rejected(reason) from None
        step = pipeline_step(check.task_id, input.parent_id)
        fields = {
            "task_id": check.task_id,
            "workflow_id": info.workflow_id,
            "run_id": info.workflow_run_id,
            "agent": task.agent,
            "skill": task.skill,
            "attempt": input.run,
            **({"parent_id": input.parent_id} if input.parent_id else {}),
            **({"pipeline_id": input.parent_id, "step": step} if step else {}),
        }
        meter = activity.metric_meter().with_additional_attributes(
            {"agent": task.agent, "skill": task.skill}
        )
        started, error = time.monotonic(), None
        with structlog.contextvars.bound_contextvars(**fields):
            try:
                async with self._heartbeating():
                    verified = auth if task.identity is not None else None
                    attempt = _Attempt(self, input, task.options, prepared, verified, meter)
                    return await attempt.run(activity.client())
            except BaseException as exc:
                error = exc
                raise
            finally:
                seconds = time.monotonic() - started
                metrics.observe(meter, metrics.SKILL_SECONDS, seconds, outcome=outcome_of(error))

    @activity.defn(name=LIST_ARTIFACTS_ACTIVITY)
    async def list_artifacts(self, task_id: str) -> list[Any]:
        """List every artifact a task stored, across all its attempts."""
        with storage_errors():
            return await list_task_artifacts(self._store, task_id)

    @activity.defn(name=ARCHIVE_JOURNAL_ACTIVITY)
    async def archive_journal(self, update: JournalUpdate) -> JournalRef:
        """Store a task's journal with one run's records added, before it continues as new."""
        journals = JournalStore(self._store, activity.client().data_converter)
        try:
            return await journals.extend(update)
        except FileNotFoundError:
            missing = update.previous.key if update.previous else "?"
            raise infrastructure(f"the task's journal {missing} is missing") from None

    @activity.defn(name=VERIFY_IDENTITY_ACTIVITY)
    async def verify_identity(self, check: IdentityCheck) -> str | None:
        """Why the run's identity is refused, or None when this worker trusts it."""
        try:
            await self._trusted_auth(check)
        except IdentityRefused as exc:
            return str(exc)
        return None

    async def _trusted_auth(self, check: IdentityCheck) -> dict[str, Any] | None:
        """The identity a run may act as; a signed one only for the first run of its task id.

        Raises:
            IdentityRefused: The identity is not trusted, or its task id ran before.
            InfrastructureError: The bucket failed.
        """
        auth = self._identities.trusted_auth(check)
        if check.identity is not None:
            await self._run_claims.claim(check.task_id, check.first_run_id or check.task_id)
        return auth

    @activity.defn(name=RESOLVE_ACTIVITY)
    async def resolve_skills(self, refs: list[SkillRef]) -> list[Resolution]:
        """Resolve skills to their scheduling options (from the registry)."""
        queue = activity.info().task_queue
        with storage_errors():
            return [await self._router.resolve(ref.agent, ref.skill, queue) for ref in refs]

    @contextlib.asynccontextmanager
    async def _heartbeating(self) -> AsyncIterator[None]:
        """Heartbeat every `heartbeat_interval` for the whole attempt.

        The first beat waits an interval: a skill done sooner costs no heartbeat
        RPC, and the server times the heartbeat from the attempt's start anyway.
        """
        interval = self._settings.heartbeat_interval.total_seconds()

        async def beat() -> None:
            while True:
                await asyncio.sleep(interval)
                activity.heartbeat()

        task = asyncio.create_task(beat())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


class _Attempt:
    """One attempt of one skill: its link, events, context and outcome."""

    def __init__(
        self,
        owner: SkillActivities,
        input: AttemptInput,
        options: SkillOptions,
        prepared: PreparedCall,
        verified: dict[str, Any] | None,
        meter: MetricMeter,
    ) -> None:
        self._owner = owner
        self._meter = meter
        self._input = input
        self._options = options
        self._prepared = prepared
        self._verified = verified
        self._runner: SkillTask[Any] | None = None
        info = activity.info()
        assert info.workflow_id is not None, "run_skill is only scheduled by SkillRunWorkflow"
        self._task_id = info.workflow_id
        self._token = AttemptToken(run=input.run, attempt=info.attempt, nonce=input.nonce)

    async def run(self, client: Client) -> SkillOutput:
        info = activity.info()
        announce = await previous_failure(client, self._task_id) if info.attempt > 1 else None
        rerun = info.attempt > 1 or self._input.run > 1
        link = AttemptLink(
            client,
            self._task_id,
            self._token,
            announce=announce,
            on_cancel=lambda: self._cancel_by_caller(),
            on_superseded=lambda: self._stop("a newer attempt of this task started"),
            stall_after=info.heartbeat_timeout.total_seconds() / 2
            if info.heartbeat_timeout
            else None,
        )
        pacing = Pacing(
            base=self._owner._settings.event_batch_interval.total_seconds(),
            deadline=time.monotonic() + self._options.timeout_seconds,
            budget_events=self._owner._settings.history_budget,
        )

        journal = await self._read_journal(client)
        start = self._input.journal.events if self._input.journal else 0

        async def load_replay() -> EventReplay:
            await link.ready()
            stream = WorkflowStreamClient.create(client, self._task_id)
            return EventReplay(await sent_events(stream, journal.events, start))

        publisher = EventPublisher(
            link,
            pacing,
            replay=load_replay if rerun else None,
            on_failure=lambda exc: self._stop(f"its events could not be delivered: {exc}"),
            meter=self._meter,
        )
        steps = StepBook(link, client, self._owner._store, self._task_id, journal, rerun)
        async with link, publisher:
            ctx: TemporalRunContext[Any] = TemporalRunContext(
                task_id=self._task_id,
                auth=self._prepared.auth,
                workspace_access=self._prepared.agent.workspace_access,
                client=client,
                store=self._owner._store,
                link=link,
                publisher=publisher,
                secrets=self._owner._secrets,
                discovery=self._owner._discovery,
                router=self._owner._router,
                agent=self._prepared.agent.name,
                grant=self._input.task.grant,
                sandbox=self._owner._sandbox,
                journal=journal,
                on_divergence=self._options.on_divergence,
                meter=self._meter,
                steps=steps,
                budget=self._budget(),
                usage_before=self._input.usage_before,
                call_identity=functools.partial(
                    self._owner._minter.mint,
                    self._verified,
                    caller_agent=self._prepared.agent.name,
                    caller_task=self._task_id,
                ),
            )
            self._runner = SkillTask(self._prepared.invoke(ctx), name=self._task_id)
            try:
                output = await self._outcome(link, publisher)
                await publisher.finish_replay()
            finally:
                try:
                    await ctx.aclose()
                finally:
                    await steps.flush()
        with storage_errors():
            artifacts = (
                tuple(await list_task_artifacts(self._owner._store, self._task_id))
                if rerun
                else ctx.artifact_refs
            )
        return SkillOutput(output=output, artifacts=artifacts)

    async def _read_journal(self, client: Client) -> JournalView:
        """What this attempt replays from the task's journal (nothing before its first one)."""
        ref = self._input.journal
        if ref is None:
            return JournalView()
        try:
            journal = await JournalStore(self._owner._store, client.data_converter).read(ref)
        except FileNotFoundError:
            raise InfrastructureError(
                f"the task's journal {ref.key} is missing from the bucket"
            ) from None
        return JournalView(journal, ref)

    def _budget(self) -> Budget | None:
        """The task's budget: its caller's, within the skill's own."""
        own, asked = self._prepared.spec.budget, self._input.task.budget
        return own.within(asked) if own else asked

    def _cancel_by_caller(self) -> None:
        if self._runner is not None:
            self._runner.cancel_by_caller(f"task {self._task_id} was cancelled by its caller")

    def _stop(self, reason: str) -> None:
        if self._runner is not None:
            self._runner.cancel(reason)

    async def _outcome(self, link: AttemptLink, publisher: EventPublisher) -> Any:
        """Wait for the handler within the skill's timeout; map its ending to Temporal's terms."""
        runner = self._runner
        assert runner is not None
        limit = self._options.timeout_seconds
        try:
            done, _ = await asyncio.wait({runner.task}, timeout=limit)
        except asyncio.CancelledError:
            await self._on_activity_cancel(runner)
            raise
        if not done:
            runner.cancel(f"timed out after {limit:g}s")
            await runner.settle()
            timeout = TimeoutError(f"skill {self._prepared.spec.name!r} timed out after {limit:g}s")
            raise skill_error(timeout, safe_message(timeout))
        if runner.task.cancelled():
            self._raise_for_cancel(runner, link, publisher, None)
        exc = runner.task.exception()
        if exc is None:
            return runner.task.result()
        if isinstance(exc, asyncio.CancelledError):
            self._raise_for_cancel(runner, link, publisher, exc)
        self._raise_for(exc)

    async def _on_activity_cancel(self, runner: SkillTask[Any]) -> None:
        """Temporal cancelled the activity: the caller's cancel, a lost attempt, or a shutdown."""
        details = activity.cancellation_details()
        if details is not None and details.cancel_requested:
            runner.cancel_by_caller(f"task {self._task_id} was cancelled by its caller")
            await runner.settle()
            return
        runner.cancel("this attempt was stopped by the worker")
        await runner.settle()
        if details is not None and details.worker_shutdown:
            raise infrastructure("the worker shut down during the attempt") from None
        raise superseded("this attempt timed out or was replaced by a newer one") from None

    def _raise_for_cancel(
        self,
        runner: SkillTask[Any],
        link: AttemptLink,
        publisher: EventPublisher,
        exc: BaseException | None,
    ) -> NoReturn:
        if runner.caller_reason is not None:
            raise ApplicationError(
                runner.caller_reason,
                type=TASK_CANCELED_ERROR_TYPE,
                non_retryable=True,
                category=ApplicationErrorCategory.BENIGN,
            )
        if link.superseded or isinstance(publisher.failure, Superseded):
            raise superseded("a newer attempt of this task started")
        if publisher.failure is not None:
            raise infrastructure(self._message(publisher.failure))
        self._raise_for(exc or asyncio.CancelledError("the skill cancelled itself"))

    def _message(self, exc: BaseException) -> str:
        """The exception's message, bounded, with the worker's secret values taken out."""
        return safe_message(exc, clean=self._owner._secrets.redact)

    def _raise_for(self, exc: BaseException) -> NoReturn:
        if isinstance(exc, AwaitingInput):
            raise ApplicationError(
                str(exc),
                exc.parked,
                type=AWAITING_INPUT_ERROR_TYPE,
                non_retryable=True,
                category=ApplicationErrorCategory.BENIGN,
            )
        message = self._message(exc)
        if isinstance(exc, SkillRejected):
            raise rejected(message)
        if isinstance(exc, Superseded):
            raise superseded(message)
        if isinstance(exc, InfrastructureError):
            raise infrastructure(message)
        log = _log.info if isinstance(exc, asyncio.CancelledError) else _log.warning
        log(
            "skill_failed",
            error=f"{type(exc).__name__}: {message}",
            exc_info=exc if debugging() else None,
        )
        raise skill_error(exc, message)
