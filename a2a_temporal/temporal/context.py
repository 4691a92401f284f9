"""`TemporalRunContext`: the `RunContext` a skill gets inside the `run_skill` activity."""

from __future__ import annotations

import asyncio
import hashlib
import json
import tempfile
from collections.abc import (
    AsyncIterable,
    Awaitable,
    Callable,
    Iterable,
    Mapping,
    Sequence,
)
from datetime import timedelta
from pathlib import Path
from typing import Any, Protocol, cast
from urllib.parse import urlsplit

from pydantic import BaseModel
from pydantic_core import to_jsonable_python
from temporalio import activity
from temporalio.client import Client
from temporalio.common import MetricMeter

from a2a_temporal.core.agent import WorkspaceAccess
from a2a_temporal.core.client import A2AClient
from a2a_temporal.core.context import ArtifactSource, AuthT, RunContext, seconds
from a2a_temporal.core.discovery import DiscoveryClient
from a2a_temporal.core.secrets import SecretResolver
from a2a_temporal.core.steps import current_step_key
from a2a_temporal.core.types import (
    AgentEvent,
    ArtifactRef,
    Budget,
    CallResult,
    DivergencePolicy,
    StepRecord,
    Usage,
)
from a2a_temporal.core.workspace import WorkspaceClient
from a2a_temporal.errors import CallMismatch, CancelledByCaller
from a2a_temporal.sandbox.interface import SandboxClient, no_sandbox
from a2a_temporal.temporal import metrics
from a2a_temporal.temporal._attempt import AttemptLink
from a2a_temporal.temporal._batches import CallBatcher, QuestionBatcher
from a2a_temporal.temporal._events import EventPublisher
from a2a_temporal.temporal._steps import StepBook
from a2a_temporal.temporal.artifacts import artifact_key, storage_errors
from a2a_temporal.temporal.handles import task_result
from a2a_temporal.temporal.journal import MISSING, JournalView
from a2a_temporal.temporal.models import (
    CallRequest,
    Memo,
    Question,
    QuestionState,
)
from a2a_temporal.temporal.routing import SkillRouter
from a2a_temporal.temporal.s3_workspace import S3Workspace, workspace_prefix
from a2a_temporal.temporal.storage import ObjectStore, Readable
from a2a_temporal.temporal.tracing import span
from a2a_temporal.temporal.wire import MEMO_UPDATE

__all__ = ["TemporalRunContext"]


def args_digest(target: str, skill: str, args: Mapping[str, Any] | None) -> str:
    """Return a stable digest of what a `ctx.call` asks for."""
    canonical = json.dumps([target, skill, args], sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


class CallIdentity(Protocol):
    """Mints the envelope of one call (see `identity.CallMinter.mint`)."""

    def __call__(
        self,
        *,
        agent: str,
        skill: str,
        args: Mapping[str, Any] | None,
        scopes: Sequence[str] | None,
    ) -> dict[str, Any] | None: ...


class TemporalRunContext(RunContext[AuthT]):
    """Runs a skill inside an activity: S3 artifacts, streamed events, calls as updates."""

    def __init__(
        self,
        *,
        task_id: str,
        auth: AuthT,
        workspace_access: WorkspaceAccess,
        client: Client,
        store: ObjectStore,
        link: AttemptLink,
        publisher: EventPublisher,
        secrets: SecretResolver,
        discovery: DiscoveryClient,
        router: SkillRouter,
        agent: str,
        call_identity: CallIdentity,
        grant: Any = None,
        sandbox: SandboxClient | None = None,
        journal: JournalView | None = None,
        on_divergence: DivergencePolicy = "fail",
        meter: MetricMeter = MetricMeter.noop,
        steps: StepBook,
        budget: Budget | None = None,
        usage_before: Usage | None = None,
    ) -> None:
        super().__init__(
            task_id=task_id,
            auth=auth,
            workspace_access=workspace_access,
            agent=agent,
            grant=grant,
            budget=budget,
            usage_before=usage_before,
            on_divergence=on_divergence,
        )
        self._step_book = steps
        self._client = client
        self._sandbox = sandbox
        self._store = store
        self._link = link
        self._publisher = publisher
        self._secrets = secrets
        self._discovery = discovery
        self._router = router
        self._call_identity = call_identity
        self._artifacts: dict[str, ArtifactRef] = {}
        self._next_call = 0
        self._next_question = 0
        self._calls = CallBatcher(link)
        self._questions = QuestionBatcher(link, publisher.flush)
        self._journal = journal or JournalView()
        self._meter = meter

    @property
    def artifact_refs(self) -> tuple[ArtifactRef, ...]:
        """Artifacts this attempt wrote."""
        return tuple(self._artifacts.values())

    async def emit_event(self, event: AgentEvent) -> None:
        """Queue `event` for the task's stream (sent in batches)."""
        self._raise_if_cancelled()
        self._publisher.publish(event, self._running_step())

    async def write_artifact(
        self, name: str, data: bytes, mime_type: str = "application/octet-stream"
    ) -> ArtifactRef:
        """Store `data` in S3 at `tasks/<task_id>/artifacts/<name>`; idempotent on retry."""
        key = artifact_key(self.task_id, name)
        self._raise_if_cancelled()
        await self._confirm_current()
        with span("a2a.artifact", artifact=name, size=len(data)), storage_errors():
            size = await self._store.put_bytes(key, bytes(data), mime_type)
        return await self._record(ArtifactRef(name, self._store.uri(key), mime_type, size))

    async def write_artifact_stream(
        self, name: str, source: ArtifactSource, mime_type: str = "application/octet-stream"
    ) -> ArtifactRef:
        """Store an artifact from a file, path or (async) iterator without holding it whole."""
        key = artifact_key(self.task_id, name)
        self._raise_if_cancelled()
        if isinstance(source, bytes):
            return await self.write_artifact(name, source, mime_type)
        await self._confirm_current()
        with span("a2a.artifact", artifact=name), storage_errors():
            if isinstance(source, str | Path):
                with open(source, "rb") as reader:  # noqa: ASYNC230 - read in the upload thread
                    size = await self._store.put_stream(key, reader, mime_type)
            elif isinstance(source, AsyncIterable):
                with tempfile.TemporaryFile() as spool:
                    async for chunk in source:
                        self._raise_if_cancelled()
                        await asyncio.to_thread(spool.write, chunk)
                    spool.seek(0)
                    size = await self._store.put_stream(key, spool, mime_type)
            elif hasattr(source, "read"):
                size = await self._store.put_stream(key, cast(Readable, source), mime_type)
            else:
                size = await self._store.put_stream(key, _IterReader(iter(source)), mime_type)
        return await self._record(ArtifactRef(name, self._store.uri(key), mime_type, size))

    async def _record(self, ref: ArtifactRef) -> ArtifactRef:
        metrics.count(self._meter, metrics.ARTIFACT_BYTES, ref.size_bytes)
        self._artifacts[ref.name] = ref
        await self.emit_artifact(ref)
        return ref

    async def check_cancelled(self) -> None:
        """Raise `CancelledByCaller` if the caller cancelled this task."""
        self._raise_if_cancelled()

    def _raise_if_cancelled(self) -> None:
        activity.heartbeat()
        if self._link.cancel_requested or _cancel_requested():
            raise CancelledByCaller(f"task {self.task_id} was cancelled by its caller")

    def _redact(self, text: str) -> str:
        return self._secrets.redact(text)

    def _log_fields(self) -> dict[str, Any]:
        info = activity.info()
        return {
            **super()._log_fields(),
            "workflow_id": info.workflow_id,
            "run_id": info.workflow_run_id,
            "attempt": self._link.token.run,
        }

    def secret(self, name: str) -> str:
        """Resolve `name` on this worker; the value never enters history."""
        return self._secrets.resolve(name)

    def _own_workspace_prefix(self) -> str:
        return workspace_prefix(self.auth, self.task_id)

    def _open_workspace(self, prefix: str) -> WorkspaceClient:
        return S3Workspace(self._store, prefix)

    def _emit_now(self, event: AgentEvent) -> None:
        self._publisher.publish(event, self._running_step())

    def _running_step(self) -> str | None:
        """The step (`name#occurrence`) whose function is emitting, if any."""
        key = current_step_key()
        return key.removeprefix(f"{self.task_id}/") if key else None

    def _step_replayed(self, key: str) -> None:
        self._publisher.skip_step(key)

    @property
    def sandbox(self) -> SandboxClient:
        """The worker's sandbox backend (`AgentSettings.sandbox`), working for this run."""
        if self._sandbox is None:
            raise no_sandbox()
        return self._sandbox.bind(self)

    def sandbox_session_closed(self, seconds: float) -> None:
        """Count the session and how long it was open."""
        metrics.count(self._meter, metrics.SANDBOX_SESSIONS)
        metrics.observe(self._meter, metrics.SANDBOX_SESSION_SECONDS, seconds)

    @property
    def discover(self) -> DiscoveryClient:
        """Agents in the registry (every worker pool's)."""
        return self._discovery

    def _a2a_client(self) -> A2AClient:
        return _CallsThroughContext(self)

    async def call(
        self,
        target: str,
        skill: str,
        *,
        args: BaseModel | Mapping[str, Any] | None = None,
        grant: Any = None,
        timeout: timedelta | float | None = None,
        scopes: Sequence[str] | None = None,
        budget: Budget | None = None,
    ) -> CallResult:
        """Run `skill` of `target` as a child task; a retried attempt gets the same child.

        The workflow, not this activity, derives the callee's identity from the
        task's own input (see `RunContext.call`); `scopes` only narrows it. The
        callee gets at most `budget`, and never more than this task has left.
        """
        with span("a2a.call", target=_shown(target), skill=skill):
            limits = self._call_budget(budget)
            result = await self._call(target, skill, args, grant, seconds(timeout), scopes, limits)
            self._usage.add_call(result.task_id, result.usage)
            self._step_book.add_call(result.task_id, result.usage)
            return result

    async def _call(
        self,
        target: str,
        skill: str,
        args: BaseModel | Mapping[str, Any] | None,
        grant: Any,
        limit: float | None,
        scopes: Sequence[str] | None,
        budget: Budget | None,
    ) -> CallResult:
        seq = self._next_call
        self._next_call += 1
        self._raise_if_cancelled()
        raw_args = args.model_dump(mode="json") if isinstance(args, BaseModel) else args
        raw_args = to_jsonable_python(raw_args) if raw_args is not None else None
        digest = args_digest(target, skill, raw_args)
        route = await self._router.route(target, skill, raw_args, activity.info().task_queue)
        narrowed = None if scopes is None else [scopes] if isinstance(scopes, str) else [*scopes]
        request = CallRequest(
            seq=seq,
            target=route.agent,
            skill=route.skill,
            args=route.args,
            scopes=narrowed,
            identity=self._call_identity(
                agent=route.agent, skill=route.skill, args=route.args, scopes=narrowed
            ),
            grant=grant,
            digest=digest,
            resolution=route.resolution,
            budget=budget,
        )
        started = self._journal.call(seq)
        if started is not None and started.digest != digest and self._on_divergence == "supersede":
            self._journal.supersede_calls_from(seq)
            started = await self._calls.submit(request.model_copy(update={"supersedes": True}))
        elif started is None:
            started = await self._calls.submit(request)
        if started.digest != digest:
            raise CallMismatch(
                f"call #{seq} asks for {target}.{skill} (args digest {digest}) but an earlier "
                f"attempt's call #{seq} asked for {started.target}.{started.skill} (args digest "
                f"{started.digest}); a skill must make the same calls in the same order on "
                "every attempt, or declare @skill(on_divergence='supersede')"
            )
        if started.result is not None:
            return started.result
        child = self._client.get_workflow_handle(started.child_id, result_type=CallResult)
        try:
            async with asyncio.timeout(limit):
                return await task_result(self._client, child)
        except TimeoutError:
            await child.cancel()
            result = await task_result(self._client, child)
            return result.model_copy(
                update={"status": "canceled", "error": f"timed out after {limit:g}s"}
            )

    async def _ask(
        self, prompt: str, json_schema: dict[str, Any] | None, timeout: float | None
    ) -> Any:
        with span("a2a.question"):
            question_id = f"q{self._next_question}"
            self._next_question += 1
            self._raise_if_cancelled()
            recorded = self._journal.question(question_id)
            if recorded is None:
                question = Question(
                    id=question_id, prompt=prompt, json_schema=json_schema, timeout_seconds=timeout
                )
                recorded = await self._questions.submit(question)
            return _answer(recorded, timeout)

    async def _remember(self, key: str, compute: Callable[[], Awaitable[Any]]) -> Any:
        """Run `compute` once per task; the value is kept in the task's workflow (or journal)."""
        recorded = self._journal.memo(key)
        if recorded is not MISSING:
            return recorded
        token = self._link.token
        known = await self._link.update(MEMO_UPDATE, Memo(token=token, key=key), object)
        if known is not None:
            return known
        value = to_jsonable_python(await compute())
        stored = Memo(token=token, key=key, value=value, store=True)
        return await self._link.update(
            MEMO_UPDATE, stored, object, self._link.update_id("memo", key)
        )

    async def _recorded_step(self, key: str) -> StepRecord | None:
        record = await self._step_book.recorded(key)
        if record is None:
            await self._confirm_current()  # the step's function runs next
        return record

    async def _confirm_current(self) -> None:
        """After the worker stood still, make sure this attempt still holds the task.

        Raises:
            Superseded: A newer attempt took over while this one stood still.
        """
        if self._link.stalled():
            await self._step_book.send([])  # a fenced update: refused for a replaced attempt
            self._link.clear_stall()

    async def _step_value(self, record: StepRecord) -> Any:
        return await self._step_book.value(record)

    async def _record_step(self, record: StepRecord) -> None:
        await self._step_book.record(record)

    async def _supersede_steps(self, from_seq: int) -> list[str]:
        return await self._step_book.supersede(from_seq)

    def _usage_recorded(self, usage: Usage, model: str | None) -> None:
        model = model or "unknown"
        metrics.count(self._meter, metrics.MODEL_CALLS, model=model)
        for direction, tokens in (("input", usage.input_tokens), ("output", usage.output_tokens)):
            metrics.count(
                self._meter, metrics.USAGE_TOKENS, tokens, model=model, direction=direction
            )
        metrics.count(
            self._meter, metrics.USAGE_MICRODOLLARS, round(usage.cost_usd * 1e6), model=model
        )

    def _loose_usage(self, usage: Usage) -> None:
        self._step_book.add_usage(usage)

    async def aclose(self) -> None:
        """Stop sending calls, questions and steps (the activity is ending)."""
        await self._calls.aclose()
        await self._questions.aclose()
        await self._step_book.aclose()


class _CallsThroughContext(A2AClient):
    """The A2A client of a skill on Temporal: calls go through the skill's own workflow."""

    def __init__(self, ctx: TemporalRunContext[Any]) -> None:
        self._ctx = ctx

    @property
    def discovery(self) -> DiscoveryClient:
        """The context's discovery."""
        return self._ctx.discover

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
        """Call as the skill does: as its caller (`auth` is not used), through its workflow."""
        return await self._ctx.call(
            target, skill, args=args, grant=grant, timeout=timeout, budget=budget
        )


def _shown(target: str) -> str:
    """A call's target as a span shows it: an agent's name, or a URL's scheme and host only."""
    if "://" not in target:
        return target
    parts = urlsplit(target)
    return f"{parts.scheme}://{parts.hostname or ''}"


def _cancel_requested() -> bool:
    """Whether Temporal delivered the caller's cancel to this activity."""
    details = activity.cancellation_details()
    return details is not None and details.cancel_requested


def _answer(question: QuestionState, timeout: float | None) -> Any:
    """The answer to a closed question; `TimeoutError` when it timed out unanswered."""
    if question.timed_out and not question.answered:
        raise TimeoutError(f"question {question.id} was not answered in {timeout:g}s")
    return question.answer


class _IterReader:
    """A minimal binary reader over an iterator of byte chunks."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self._buffer = b""

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self._buffer) < size:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            self._buffer += chunk
        if size < 0:
            data, self._buffer = self._buffer, b""
        else:
            data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data
