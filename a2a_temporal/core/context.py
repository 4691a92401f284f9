"""The `RunContext` every skill receives: the contract every runtime implements."""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
from abc import ABC, abstractmethod
from collections.abc import AsyncIterable, Awaitable, Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Generic, TypeVar

import structlog
from pydantic import BaseModel

from a2a_temporal.core.agent import WorkspaceAccess
from a2a_temporal.core.auth import (
    DEFAULT_MAX_DELEGATION_DEPTH,
    delegated_identity,
    missing_scopes,
    subject_of,
)
from a2a_temporal.core.discovery import DiscoveryClient
from a2a_temporal.core.grants import GRANT_KEY_SECRET, GrantHolder, WorkspaceRights, open_grant
from a2a_temporal.core.names import new_task_id
from a2a_temporal.core.skill_log import SkillLogger
from a2a_temporal.core.steps import (
    StepLedger,
    UsageMeter,
    current_step_key,
    decode_step_value,
    encode_step_value,
    running_step,
)
from a2a_temporal.core.types import (
    AgentEvent,
    ArtifactRef,
    Budget,
    CallResult,
    DivergencePolicy,
    StepRecord,
    Usage,
)
from a2a_temporal.core.workspace import ScopedWorkspace, WorkspaceClient
from a2a_temporal.errors import (
    CallMismatch,
    DelegationRefused,
    GrantRefused,
    MissingScopes,
)

if TYPE_CHECKING:
    from a2a_temporal.core.client import A2AClient
    from a2a_temporal.sandbox.interface import SandboxClient

__all__ = ["ArtifactSource", "AuthT", "RunContext", "seconds"]

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
        budget: Budget | None = None,
        usage_before: Usage | None = None,
        on_divergence: DivergencePolicy = "fail",
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
        self._steps = StepLedger()
        self._on_divergence = on_divergence
        self._usage = UsageMeter(budget, usage_before, self._loose_usage, self._usage_recorded)
        self.superseded_steps: list[str] = []

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

    @property
    def log(self) -> SkillLogger:
        """A logger whose lines carry this task's fields, with secret values redacted."""
        return SkillLogger(self._log_fields(), self._redact)

    def _log_fields(self) -> dict[str, Any]:
        """The fields on every `log` line."""
        return {"task_id": self.task_id, "agent": self.agent}

    def _redact(self, text: str) -> str:
        """`text` with the secret values this context knows replaced by their names."""
        return text

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
            self._grant_holder(),
            read_only=self._workspace_access == "read",
        )

    def _grant_holder(self) -> GrantHolder:
        return GrantHolder(subject=subject_of(self.auth), task_id=self.task_id)

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
                holder=self._grant_holder(),
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
        budget: Budget | None = None,
    ) -> CallResult:
        """Invoke `skill` of agent `target` on behalf of this task's caller and wait for it.

        The callee gets the caller's subject, the actor chain extended by this
        agent, and the caller's scopes narrowed to `scopes` (all of them when None);
        at most `budget`, and never more than what is left of this task's.
        """
        await self.check_cancelled()
        budget = self._call_budget(budget)
        try:
            auth = delegated_identity(
                self.auth if self._identity is None else self._identity,
                self.agent,
                scopes,
                self._max_delegation_depth,
            )
        except DelegationRefused as exc:
            return CallResult(task_id=new_task_id(target, skill), status="rejected", error=str(exc))
        result = await self._a2a_client().call(
            target, skill, args=args, grant=grant, timeout=timeout, auth=auth, budget=budget
        )
        self._usage.add_call(result.task_id, result.usage)
        return result

    def _call_budget(self, asked: Budget | None) -> Budget | None:
        """A call's budget (`BudgetExceeded` when none is left)."""
        self._usage.check()
        return self._usage.for_call(asked)

    @property
    def usage(self) -> UsageMeter:
        """What this task spent (`record` each model call) and its budget."""
        return self._usage

    @property
    def step_key(self) -> str:
        """Inside a step's function: a key for this step stable across re-runs (idempotency).

        Raises:
            RuntimeError: Read outside a step.
        """
        key = current_step_key()
        if key is None:
            raise RuntimeError("ctx.step_key is set only while a ctx.step function runs")
        return key

    async def step(self, name: str, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        """Run `fn(*args, **kwargs)` once per task: a re-run of the skill gets its recorded value.

        The step is `name` and its occurrence in the task (the nth `step(name, ...)`);
        its value must be JSON-compatible (a pydantic model comes back as the model
        `fn`'s return annotation names). A re-run reaching it with other args follows
        `@skill(on_divergence=...)`. An exception from `fn` is not recorded.

        Raises:
            BudgetExceeded: The task's budget is spent.
            CallMismatch: A re-run's args differ and the skill does not supersede.
        """
        entry = self._steps.enter(name, args, kwargs)
        self._usage.check()
        await self.check_cancelled()
        recorded = await self._recorded_step(entry.key)
        if recorded is not None and recorded.digest == entry.digest:
            self._step_replayed(entry.key)
            return decode_step_value(fn, await self._step_value(recorded))
        if recorded is not None and self._on_divergence != "supersede":
            raise CallMismatch(
                f"step {entry.key!r} has args digest {entry.digest} but an earlier attempt's "
                f"had {recorded.digest}; a skill must make the same steps with the same args "
                "on every attempt, or declare @skill(on_divergence='supersede')"
            )
        with running_step(f"{self.task_id}/{entry.key}") as spent:
            try:
                value = fn(*args, **kwargs)
                if inspect.isawaitable(value):
                    value = await value
            except BaseException:
                if not spent.usage.empty:
                    self._loose_usage(spent.usage)  # spent all the same; the step runs again
                raise
        data = encode_step_value(entry.key, value)
        record = StepRecord(
            key=entry.key, seq=entry.seq, digest=entry.digest, value=data, usage=spent.usage
        )
        if recorded is not None:
            self.superseded_steps.extend(await self._supersede_steps(entry.seq))
        await self._record_step(record)
        return decode_step_value(fn, data)  # as a re-run will get it

    @abstractmethod
    async def _recorded_step(self, key: str) -> StepRecord | None:
        """The step an earlier attempt recorded under `key`, if any."""

    @abstractmethod
    async def _step_value(self, record: StepRecord) -> Any:
        """The JSON value of a recorded step."""

    @abstractmethod
    async def _record_step(self, record: StepRecord) -> None:
        """Make `record` durable for the task's later attempts; return once it is."""

    @abstractmethod
    async def _supersede_steps(self, from_seq: int) -> list[str]:
        """Replace the steps earlier attempts recorded from order `from_seq` on; their names."""

    def _step_replayed(self, key: str) -> None:
        """A re-run got step `key`'s recorded value (its events are not emitted again)."""

    def _usage_recorded(self, usage: Usage, model: str | None) -> None:
        """Every usage record, with its model (a runtime counts them in its metrics)."""

    def _loose_usage(self, usage: Usage) -> None:
        """Usage recorded outside a step (a runtime keeps it durable here)."""

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
