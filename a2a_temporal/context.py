"""The `RunContext` every skill receives, and its in-memory implementation."""

from __future__ import annotations

import asyncio
import dataclasses
from abc import ABC, abstractmethod
from collections.abc import AsyncIterable, Awaitable, Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Generic, TypeVar

import structlog
from pydantic import BaseModel

from a2a_temporal._cancel import SkillTask
from a2a_temporal.agent import WorkspaceAccess
from a2a_temporal.answers import check_answer
from a2a_temporal.auth import (
    DEFAULT_MAX_DELEGATION_DEPTH,
    DelegationRefused,
    NoAuth,
    delegated_identity,
    missing_scopes,
)
from a2a_temporal.discovery import DiscoveryClient
from a2a_temporal.errors import CancelledByCaller, MissingScopes, SandboxUnavailable
from a2a_temporal.grants import GRANT_KEY_SECRET, GrantRefused, WorkspaceRights, open_grant
from a2a_temporal.names import new_task_id, validate_object_name
from a2a_temporal.sandbox import SandboxClient
from a2a_temporal.types import AgentEvent, ArtifactRef, CallResult
from a2a_temporal.workspace import ScopedWorkspace, WorkspaceClient

if TYPE_CHECKING:
    from a2a_temporal.client import A2AClient

__all__ = ["ArtifactSource", "AuthT", "LocalRunContext", "RunContext", "seconds"]

_log = structlog.get_logger("a2a_temporal.workspace")
AuthT = TypeVar("AuthT", bound=BaseModel)
ModelT = TypeVar("ModelT", bound=BaseModel)
ArtifactSource = bytes | str | Path | IO[bytes] | Iterable[bytes] | AsyncIterable[bytes]


class RunContext(ABC, Generic[AuthT]):
    """What a skill can do while it runs: events, artifacts, secrets, calls.

    The same skill code gets a `LocalRunContext` in-process and a Temporal-backed
    context on a worker.

    `task_id` and `auth` are read-only: a skill cannot change which task it is
    or on whose behalf it acts.
    """

    def __init__(
        self,
        *,
        task_id: str,
        auth: AuthT,
        workspace_access: WorkspaceAccess,
        agent: str = "local",
        max_delegation_depth: int = DEFAULT_MAX_DELEGATION_DEPTH,
        grant: Any = None,
        identity: Mapping[str, Any] | None = None,
    ) -> None:
        self.grant = grant
        self._identity = identity
        self._rights: WorkspaceRights | GrantRefused | None = None
        self._task_id = task_id
        self._auth = auth
        self._agent = agent
        self._max_delegation_depth = max_delegation_depth
        self._workspace_access = workspace_access
        self._memo: dict[str, Any] = {}

    @property
    def task_id(self) -> str:
        """Id of the task this skill invocation is."""
        return self._task_id

    @property
    def auth(self) -> AuthT:
        """The caller's identity, validated against the agent's `auth_model`."""
        return self._auth

    @property
    def agent(self) -> str:
        """Name of the agent running this skill (the actor its calls add to the chain)."""
        return self._agent

    @abstractmethod
    async def emit_event(self, event: AgentEvent) -> None:
        """Publish `event` to the task's subscribers."""

    @abstractmethod
    async def write_artifact(
        self, name: str, data: bytes, mime_type: str = "application/octet-stream"
    ) -> ArtifactRef:
        """Store `data` as artifact `name` of this task and emit an `artifact` event."""

    async def write_artifact_stream(
        self, name: str, source: ArtifactSource, mime_type: str = "application/octet-stream"
    ) -> ArtifactRef:
        """Store an artifact from bytes, a path, a binary file or an (async) iterator of chunks.

        On Temporal the bytes go to S3 in parts, never whole in memory; this
        default gathers them and calls `write_artifact`.
        """
        return await self.write_artifact(name, await _gather_bytes(source), mime_type)

    @abstractmethod
    async def check_cancelled(self) -> None:
        """Raise `CancelledByCaller` if the caller cancelled this task."""

    @abstractmethod
    def secret(self, name: str) -> str:
        """Return secret `name` from the worker; `KeyError` naming it when unknown."""

    @property
    def workspace(self) -> WorkspaceClient:
        """The caller's workspace, or the part of one a grant hands over.

        Raises:
            PermissionError: The agent declared no workspace access, or the grant
                it was given is refused (an `error` event says why).
        """
        if self._workspace_access == "none":
            raise PermissionError(
                "this agent did not declare workspace access "
                "(set workspace_access = 'read' or 'write' on the agent class)"
            )
        if self._rights is None:
            self._rights = self._check_grant()
        if isinstance(self._rights, GrantRefused):
            raise PermissionError(f"no workspace: {self._rights}")
        return ScopedWorkspace(
            self._open_workspace(self._rights.prefix),
            self._rights,
            self._grant_key,
            read_only=self._workspace_access == "read",
        )

    def _check_grant(self) -> WorkspaceRights | GrantRefused:
        own = WorkspaceRights(prefix=self._own_workspace_prefix())
        if self.grant is None:
            return own
        actors = [str(actor) for actor in getattr(self.auth, "actors", ()) or ()]
        try:
            return open_grant(
                self._grant_key(),
                self.grant,
                audience=self.agent,
                actors=actors,
                now=datetime.now(UTC),
            )
        except GrantRefused as refused:
            self._emit_now(
                AgentEvent(
                    "error",
                    {"message": str(refused), "code": "grant_refused", "grant": refused.grant_id},
                )
            )
            _log.warning("workspace grant refused", grant=refused.grant_id, reason=str(refused))
            return refused

    def _grant_key(self) -> bytes:
        try:
            return self.secret(GRANT_KEY_SECRET).encode()
        except KeyError:
            raise GrantRefused(
                f"workspace grants need the {GRANT_KEY_SECRET} secret on this worker"
            ) from None

    def _own_workspace_prefix(self) -> str:
        """Where the caller's own workspace is (empty where there is just one)."""
        return ""

    @abstractmethod
    def _open_workspace(self, prefix: str) -> WorkspaceClient:
        """Return the workspace at `prefix` in this runtime."""

    @abstractmethod
    def _emit_now(self, event: AgentEvent) -> None:
        """Queue `event` from synchronous code (it is sent like any other)."""

    @property
    @abstractmethod
    def sandbox(self) -> SandboxClient:
        """Where to run untrusted code; `SandboxUnavailable` when none is configured."""

    @property
    @abstractmethod
    def discover(self) -> DiscoveryClient:
        """Look up other agents."""

    @abstractmethod
    def _a2a_client(self) -> A2AClient:
        """Return the client `call` goes through; `PermissionError` when there is none."""

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
        """Invoke `skill` of agent `target` on behalf of this task's caller and wait for it.

        The callee gets the caller's subject, the actor chain extended by this
        agent, and the caller's scopes narrowed to `scopes` (all of them when None).
        """
        await self.check_cancelled()
        try:
            auth = delegated_identity(
                self.auth if self._identity is None else self._identity,
                self.agent,
                scopes,
                self._max_delegation_depth,
            )
        except DelegationRefused as exc:
            return CallResult(task_id=new_task_id(target, skill), status="rejected", error=str(exc))
        return await self._a2a_client().call(
            target, skill, args=args, grant=grant, timeout=timeout, auth=auth
        )

    async def emit_progress(self, message: str, *, fraction: float | None = None) -> None:
        """Report progress; `fraction` is between 0 and 1 when known."""
        if fraction is not None and not 0.0 <= fraction <= 1.0:
            raise ValueError(f"fraction must be between 0 and 1, got {fraction}")
        await self.emit_event(AgentEvent("progress", {"message": message, "fraction": fraction}))

    async def emit_text_delta(self, text: str) -> None:
        """Stream a piece of generated text."""
        await self.emit_event(AgentEvent("text_delta", {"text": text}))

    async def emit_artifact(self, ref: ArtifactRef) -> None:
        """Announce a stored artifact."""
        await self.emit_event(AgentEvent("artifact", dataclasses.asdict(ref)))

    async def emit_error(self, message: str, *, code: str | None = None, **details: Any) -> None:
        """Report a problem without failing the task."""
        payload: dict[str, Any] = {"message": message}
        if code is not None:
            payload["code"] = code
        await self.emit_event(AgentEvent("error", {**payload, **details}))

    async def ask(self, prompt: str, *, timeout: timedelta | float | None = None) -> str:
        """Ask the caller a question and wait (durably, on Temporal) for a text answer.

        Raises:
            TimeoutError: No answer came within `timeout`.
        """
        return str(await self._ask(prompt, None, seconds(timeout)))

    async def collect(
        self,
        model: type[ModelT],
        prompt: str | None = None,
        *,
        timeout: timedelta | float | None = None,
    ) -> ModelT:
        """Ask the caller for a value of `model`; answers that do not fit are refused.

        Raises:
            TimeoutError: No valid answer came within `timeout`.
        """
        question = prompt or f"provide {model.__name__}"
        value = await self._ask(question, model.model_json_schema(), seconds(timeout))
        return model.model_validate(value)

    @abstractmethod
    async def _ask(
        self, prompt: str, json_schema: dict[str, Any] | None, timeout: float | None
    ) -> Any:
        """Publish a question and return its answer (checked against `json_schema`)."""

    async def _remember(self, key: str, compute: Callable[[], Awaitable[Any]]) -> Any:
        """Run `compute` once per task and return its (JSON) value on every attempt after.

        For side effects that must not repeat when a skill runs again (a retry,
        a resume after a question). Between computing and remembering there is
        a short window in which a lost worker makes the next attempt compute again.
        """
        if key not in self._memo:
            self._memo[key] = await compute()
        return self._memo[key]

    def require_scopes(self, required: Sequence[str]) -> None:
        """Raise `MissingScopes` unless the caller holds every scope in `required`.

        A single string is taken as one scope.
        """
        scopes = [required] if isinstance(required, str) else list(required)
        missing = missing_scopes(self.auth, scopes)
        if missing:
            raise MissingScopes(missing)


def seconds(timeout: timedelta | float | None) -> float | None:
    """Normalise a timeout to seconds, rejecting non-positive values."""
    if timeout is None:
        return None
    value = timeout.total_seconds() if isinstance(timeout, timedelta) else float(timeout)
    if value <= 0:
        raise ValueError(f"timeout must be positive, got {value}s")
    return value


async def _gather_bytes(source: ArtifactSource) -> bytes:
    if isinstance(source, bytes):
        return source
    if isinstance(source, str | Path):
        return await asyncio.to_thread(Path(source).read_bytes)
    if isinstance(source, AsyncIterable):
        return b"".join([chunk async for chunk in source])
    if hasattr(source, "read"):
        return bytes(source.read())
    return b"".join(source)


class LocalRunContext(RunContext[AuthT]):
    """In-memory `RunContext`: events and artifacts are kept on the object.

    Args:
        auth: The caller's identity (`NoAuth()` when None).
        task_id: Id of this task.
        secrets: What `secret(name)` returns.
        workspace: The workspace (`PermissionError` on use when None).
        sandbox: The sandbox (`SandboxUnavailable` on use when None).
        a2a: The client `call` goes through (`PermissionError` on use when None).
        discover: The discovery client (`PermissionError` on use when None).
        workspace_access: What the agent declared; by default `write` when a
            workspace is given, else `none`.
        grant: The workspace grant the caller passed, if any.
        identity: The identity the run was started with, as given (its actor chain
            survives an `auth_model` without an `actors` field).
        agent: Name of the agent this context runs.
        max_delegation_depth: Longest actor chain a call may build.

    Attributes:
        events: Every event emitted, in order.
        artifacts: Artifact bytes by name.
        grant: The workspace grant the caller passed, if any.
    """

    def __init__(
        self,
        *,
        auth: AuthT | None = None,
        task_id: str = "local-task",
        secrets: Mapping[str, str] | None = None,
        workspace: WorkspaceClient | None = None,
        sandbox: SandboxClient | None = None,
        a2a: A2AClient | None = None,
        discover: DiscoveryClient | None = None,
        workspace_access: WorkspaceAccess | None = None,
        grant: Any = None,
        agent: str = "local",
        max_delegation_depth: int = DEFAULT_MAX_DELEGATION_DEPTH,
        identity: Mapping[str, Any] | None = None,
    ) -> None:
        if workspace_access is None:
            workspace_access = "write" if workspace is not None else "none"
        super().__init__(
            task_id=task_id,
            auth=auth if auth is not None else NoAuth(),  # type: ignore[arg-type]
            workspace_access=workspace_access,
            agent=agent,
            max_delegation_depth=max_delegation_depth,
            grant=grant,
            identity=identity,
        )
        self.events: list[AgentEvent] = []
        self.artifacts: dict[str, bytes] = {}
        self._refs: dict[str, ArtifactRef] = {}
        self._secrets = dict(secrets or {})
        self._client = a2a
        self._discovery = discover
        self._workspace = workspace
        self._sandbox = sandbox
        self._cancelled = False
        self._skill_task: SkillTask[Any] | None = None
        self._questions: dict[str, tuple[dict[str, Any] | None, asyncio.Future[Any]]] = {}

    @property
    def artifact_refs(self) -> tuple[ArtifactRef, ...]:
        """References to every artifact written, in first-write order."""
        return tuple(self._refs.values())

    @property
    def cancelled(self) -> bool:
        """Whether `cancel()` was called."""
        return self._cancelled

    def cancel(self) -> None:
        """Cancel the task: `check_cancelled()` raises and a running handler is interrupted."""
        self._cancelled = True
        if self._skill_task is not None:
            self._skill_task.cancel_by_caller(f"task {self.task_id} was cancelled by its caller")

    def bind(self, skill_task: SkillTask[Any]) -> None:
        """Attach the task running the handler, so `cancel()` interrupts it at any await."""
        self._skill_task = skill_task

    async def emit_event(self, event: AgentEvent) -> None:
        """Append `event` to `events`."""
        self._raise_if_cancelled()
        self.events.append(event)

    async def write_artifact(
        self, name: str, data: bytes, mime_type: str = "application/octet-stream"
    ) -> ArtifactRef:
        """Keep `data` in `artifacts` and emit an `artifact` event."""
        validate_object_name(name)
        self._raise_if_cancelled()
        blob = bytes(data)
        ref = ArtifactRef(name, f"memory://{self.task_id}/{name}", mime_type, len(blob))
        self.artifacts[name] = blob
        self._refs[name] = ref
        await self.emit_artifact(ref)
        return ref

    @property
    def open_questions(self) -> list[str]:
        """Ids of the questions waiting for an answer."""
        return [qid for qid, (_, answer) in self._questions.items() if not answer.done()]

    def answer(self, question_id: str, value: Any) -> None:
        """Answer an open question.

        Raises:
            KeyError: No such question.
            ValueError: It is closed, the task was cancelled, or `value` does not
                fit its schema (it stays open).
        """
        if question_id not in self._questions:
            raise KeyError(f"no question {question_id!r}")
        if self._cancelled:
            raise ValueError(f"task {self.task_id} was cancelled; its questions are closed")
        schema, future = self._questions[question_id]
        if future.done():
            raise ValueError(f"question {question_id!r} is no longer open")
        check_answer(schema, value)
        future.set_result(value)
        self.events.append(AgentEvent("answer", {"question_id": question_id, "value": value}))

    async def _ask(
        self, prompt: str, json_schema: dict[str, Any] | None, timeout: float | None
    ) -> Any:
        self._raise_if_cancelled()
        question_id = f"q{len(self._questions)}"
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._questions[question_id] = (json_schema, future)
        await self.emit_event(
            AgentEvent(
                "question",
                {
                    "id": question_id,
                    "prompt": prompt,
                    "json_schema": json_schema,
                    "timeout_seconds": timeout,
                },
            )
        )
        try:
            return await asyncio.wait_for(asyncio.shield(future), timeout)
        except TimeoutError:
            future.cancel()
            raise TimeoutError(f"question {question_id} was not answered in {timeout:g}s") from None

    async def check_cancelled(self) -> None:
        """Raise `CancelledByCaller` after `cancel()`."""
        self._raise_if_cancelled()

    def _raise_if_cancelled(self) -> None:
        if self._cancelled:
            raise CancelledByCaller(f"task {self.task_id} was cancelled by its caller")

    def secret(self, name: str) -> str:
        """Return secret `name` from the mapping given at construction."""
        try:
            return self._secrets[name]
        except KeyError:
            raise KeyError(f"secret {name!r} is not configured") from None

    def _emit_now(self, event: AgentEvent) -> None:
        self.events.append(event)

    def _open_workspace(self, prefix: str) -> WorkspaceClient:
        if self._workspace is None:
            raise PermissionError(
                "no workspace is provisioned for this run; the runtime must provide one "
                "(LocalRunContext(workspace=InMemoryWorkspace()))"
            )
        return self._workspace

    @property
    def sandbox(self) -> SandboxClient:
        """The sandbox given at construction, working for this run."""
        if self._sandbox is None:
            raise SandboxUnavailable(
                "no sandbox backend is configured for this run; the runtime must provide "
                "one (LocalRunContext(sandbox=ProcessSandbox()))"
            )
        return self._sandbox.bind(self)

    @property
    def discover(self) -> DiscoveryClient:
        """The discovery client given at construction."""
        if self._discovery is None:
            raise PermissionError(
                "no discovery client is provisioned for this run; the runtime must provide "
                "one (LocalRunContext(discover=InMemoryDiscoveryClient(...)))"
            )
        return self._discovery

    def _a2a_client(self) -> A2AClient:
        if self._client is None:
            raise PermissionError(
                "no A2A client is provisioned for this run, so it cannot call other agents; "
                "the runtime must provide one (LocalRunContext(a2a=InMemoryA2AClient(...)))"
            )
        return self._client
