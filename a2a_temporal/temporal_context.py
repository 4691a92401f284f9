"""`TemporalRunContext`: the `RunContext` a skill gets inside the `run_skill` activity."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import tempfile
from collections.abc import (
    AsyncIterable,
    Awaitable,
    Callable,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from datetime import timedelta
from pathlib import Path
from typing import Any, Protocol, cast

import urllib3
from minio.error import S3Error, ServerError
from pydantic import BaseModel
from pydantic_core import to_jsonable_python
from temporalio import activity
from temporalio.client import Client, WorkflowFailureError, WorkflowHandle
from temporalio.exceptions import CancelledError

from a2a_temporal._attempt import AttemptLink
from a2a_temporal._events import EventPublisher
from a2a_temporal._routing import SkillRouter
from a2a_temporal._s3 import ObjectStore, Readable
from a2a_temporal._s3_workspace import S3Workspace, workspace_prefix
from a2a_temporal.agent import WorkspaceAccess
from a2a_temporal.client import A2AClient, describe_exception
from a2a_temporal.context import ArtifactSource, AuthT, RunContext, seconds
from a2a_temporal.discovery import DiscoveryClient
from a2a_temporal.errors import CancelledByCaller, InfrastructureError
from a2a_temporal.models import (
    ASK_UPDATE,
    AWAIT_ANSWER_UPDATE,
    CALLS_UPDATE,
    MEMO_UPDATE,
    CallBatch,
    CallRequest,
    CallStarted,
    Memo,
    Parked,
    Question,
    QuestionAsk,
    QuestionState,
)
from a2a_temporal.names import validate_object_name
from a2a_temporal.sandbox import SandboxClient
from a2a_temporal.sandbox_backends import no_sandbox
from a2a_temporal.secrets import SecretResolver
from a2a_temporal.types import AgentEvent, ArtifactRef, CallResult, TaskStatus
from a2a_temporal.workspace import WorkspaceClient

__all__ = [
    "AwaitingInput",
    "CallMismatch",
    "TemporalRunContext",
    "artifact_key",
    "artifact_prefix",
    "list_task_artifacts",
    "storage_errors",
    "task_result",
]


def artifact_prefix(task_id: str) -> str:
    """Return the S3 prefix under which task `task_id` keeps its artifacts."""
    return f"tasks/{task_id}/artifacts/"


def artifact_key(task_id: str, name: str) -> str:
    """Return the S3 key of artifact `name` of task `task_id` (the name is validated)."""
    return artifact_prefix(task_id) + validate_object_name(name)


async def list_task_artifacts(store: ObjectStore, task_id: str) -> list[ArtifactRef]:
    """List every artifact task `task_id` stored, across all its attempts."""
    prefix = artifact_prefix(task_id)
    return [
        ArtifactRef(key.removeprefix(prefix), store.uri(key), mime, size)
        for key, size, mime in await store.list(prefix)
    ]


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
    ) -> None:
        super().__init__(
            task_id=task_id, auth=auth, workspace_access=workspace_access, agent=agent, grant=grant
        )
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
        self._batcher = _CallBatcher(link)

    @property
    def artifact_refs(self) -> tuple[ArtifactRef, ...]:
        """Artifacts this attempt wrote."""
        return tuple(self._artifacts.values())

    async def emit_event(self, event: AgentEvent) -> None:
        """Queue `event` for the task's stream (sent in batches)."""
        self._raise_if_cancelled()
        self._publisher.publish(event)

    async def write_artifact(
        self, name: str, data: bytes, mime_type: str = "application/octet-stream"
    ) -> ArtifactRef:
        """Store `data` in S3 at `tasks/<task_id>/artifacts/<name>`; idempotent on retry."""
        key = artifact_key(self.task_id, name)
        self._raise_if_cancelled()
        with storage_errors():
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
        with storage_errors():
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

    def secret(self, name: str) -> str:
        """Resolve `name` on this worker; the value never enters history."""
        return self._secrets.resolve(name)

    def _own_workspace_prefix(self) -> str:
        return workspace_prefix(self.auth)

    def _open_workspace(self, prefix: str) -> WorkspaceClient:
        return S3Workspace(self._store, prefix)

    def _emit_now(self, event: AgentEvent) -> None:
        self._publisher.publish(event)

    @property
    def sandbox(self) -> SandboxClient:
        """The worker's sandbox backend (`AgentSettings.sandbox`), working for this run."""
        if self._sandbox is None:
            raise no_sandbox()
        return self._sandbox.bind(self)

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
    ) -> CallResult:
        """Run `skill` of `target` as a child task; a retried attempt gets the same child.

        The workflow, not this activity, derives the callee's identity from the
        task's own input (see `RunContext.call`); `scopes` only narrows it.
        """
        seq = self._next_call
        self._next_call += 1
        limit = seconds(timeout)
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
        )
        started = await self._batcher.submit(request)
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
                return await task_result(child)
        except TimeoutError:
            await child.cancel()
            result = await task_result(child)
            return result.model_copy(
                update={"status": "canceled", "error": f"timed out after {limit:g}s"}
            )

    async def _ask(
        self, prompt: str, json_schema: dict[str, Any] | None, timeout: float | None
    ) -> Any:
        question_id = f"q{self._next_question}"
        self._next_question += 1
        self._raise_if_cancelled()
        await self._publisher.flush()
        question = Question(
            id=question_id, prompt=prompt, json_schema=json_schema, timeout_seconds=timeout
        )
        ask = QuestionAsk(token=self._link.token, question=question)
        state = await self._link.update(
            ASK_UPDATE, ask, QuestionState, self._link.update_id("ask", question_id)
        )
        if not state.answered and not state.timed_out:
            state = await self._link.update(
                AWAIT_ANSWER_UPDATE,
                ask,
                QuestionState,
                self._link.update_id("await", question_id),
            )
        if state.timed_out:
            raise TimeoutError(f"question {question_id} was not answered in {timeout:g}s")
        if not state.answered:
            raise AwaitingInput(Parked(question_id=question_id))
        return state.answer

    async def _remember(self, key: str, compute: Callable[[], Awaitable[Any]]) -> Any:
        """Run `compute` once per task; the value is kept in the task's workflow."""
        token = self._link.token
        known = await self._link.update(MEMO_UPDATE, Memo(token=token, key=key), object)
        if known is not None:
            return known
        value = to_jsonable_python(await compute())
        stored = Memo(token=token, key=key, value=value, store=True)
        return await self._link.update(
            MEMO_UPDATE, stored, object, self._link.update_id("memo", key)
        )

    async def aclose(self) -> None:
        """Stop sending calls (the activity is ending)."""
        await self._batcher.aclose()


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
    ) -> CallResult:
        """Call as the skill does: as its caller (`auth` is not used), through its workflow."""
        return await self._ctx.call(target, skill, args=args, grant=grant, timeout=timeout)


def _cancel_requested() -> bool:
    """Whether Temporal delivered the caller's cancel to this activity."""
    details = activity.cancellation_details()
    return details is not None and details.cancel_requested


class CallMismatch(Exception):
    """A re-run made another call at some position than the earlier attempt did."""


@contextlib.contextmanager
def storage_errors() -> Iterator[None]:
    """Turn an unreachable or failing S3 server into `InfrastructureError`."""
    try:
        yield
    except (ServerError, urllib3.exceptions.HTTPError, ConnectionError) as exc:
        raise InfrastructureError(f"the object store failed: {exc}") from None
    except S3Error as exc:
        if exc.code in _TRANSIENT_S3_CODES:
            raise InfrastructureError(f"the object store failed: {exc.code}") from None
        raise


_TRANSIENT_S3_CODES = ("InternalError", "ServiceUnavailable", "SlowDown", "RequestTimeout")


class AwaitingInput(BaseException):
    """Raised through the skill to end the attempt while it waits for an answer.

    A `BaseException`, so `except Exception` in skill code lets it through.
    """

    def __init__(self, parked: Parked) -> None:
        super().__init__(f"waiting for an answer to {parked.question_id}")
        self.parked = parked


async def task_result(handle: WorkflowHandle[Any, CallResult]) -> CallResult:
    """Wait for a task's `CallResult`, mapping a failed or cancelled workflow to one."""
    try:
        return await handle.result()
    except WorkflowFailureError as err:
        cause = err.cause
        status: TaskStatus = "canceled" if isinstance(cause, CancelledError) else "failed"
        return CallResult(task_id=handle.id, status=status, error=describe_exception(cause))


class _CallBatcher:
    """Sends the calls made in one event-loop turn as one `calls` update."""

    def __init__(self, link: AttemptLink) -> None:
        self._link = link
        self._pending: list[tuple[CallRequest, asyncio.Future[CallStarted]]] = []
        self._sending: set[asyncio.Task[None]] = set()

    def submit(self, request: CallRequest) -> asyncio.Future[CallStarted]:
        """Queue `request`; the future resolves when its child has started."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[CallStarted] = loop.create_future()
        if not self._pending:
            loop.call_soon(self._send_pending)
        self._pending.append((request, future))
        return future

    def _send_pending(self) -> None:
        batch, self._pending = self._pending, []
        task = asyncio.get_running_loop().create_task(self._send(batch))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _send(self, batch: list[tuple[CallRequest, asyncio.Future[CallStarted]]]) -> None:
        requests = [request for request, _ in batch]
        try:
            started = await self._link.update(
                CALLS_UPDATE,
                CallBatch(token=self._link.token, requests=requests),
                list[CallStarted],
                self._link.update_id("calls", f"{requests[0].seq}-{requests[-1].seq}"),
            )
        except BaseException as exc:
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            if isinstance(exc, asyncio.CancelledError):
                raise
            return
        by_seq = {item.seq: item for item in started}
        for request, future in batch:
            if not future.done():
                future.set_result(by_seq[request.seq])

    async def aclose(self) -> None:
        for task in list(self._sending):
            task.cancel()
        await asyncio.gather(*self._sending, return_exceptions=True)


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
