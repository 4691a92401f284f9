"""`LocalRunContext`: the in-process `RunContext` (tests, local runs, the in-process client)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from a2a_temporal.core._cancel import SkillTask
from a2a_temporal.core.agent import WorkspaceAccess
from a2a_temporal.core.answers import check_answer
from a2a_temporal.core.auth import DEFAULT_MAX_DELEGATION_DEPTH, NoAuth
from a2a_temporal.core.context import AuthT, RunContext
from a2a_temporal.core.discovery import DiscoveryClient
from a2a_temporal.core.names import validate_object_name
from a2a_temporal.core.secrets import redact
from a2a_temporal.core.steps import StepLedger
from a2a_temporal.core.types import AgentEvent, ArtifactRef, Budget, DivergencePolicy, StepRecord
from a2a_temporal.core.workspace import WorkspaceClient
from a2a_temporal.errors import CancelledByCaller, SandboxUnavailable

if TYPE_CHECKING:
    from a2a_temporal.core.client import A2AClient
    from a2a_temporal.sandbox.interface import SandboxClient

__all__ = ["LocalRunContext"]


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
        budget: Budget | None = None,
        on_divergence: DivergencePolicy = "fail",
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
            budget=budget,
            on_divergence=on_divergence,
        )
        self.events: list[AgentEvent] = []
        self.steps: dict[str, StepRecord] = {}
        self._recorded_now: set[str] = set()
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
        """Attach an attempt's task running the handler, so `cancel()` interrupts it at any await.

        The attempt's steps are named from the first again: a re-run meets its recorded ones.
        """
        self._skill_task = skill_task
        self._steps = StepLedger()
        self._recorded_now = set()

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

    def _redact(self, text: str) -> str:
        return redact(text, self._secrets.items())

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

    async def _recorded_step(self, key: str) -> StepRecord | None:
        return self.steps.get(key)

    async def _step_value(self, record: StepRecord) -> Any:
        return record.value

    async def _record_step(self, record: StepRecord) -> None:
        self.steps[record.key] = record
        self._recorded_now.add(record.key)

    async def _supersede_steps(self, from_seq: int) -> list[str]:
        earlier = (r for r in self.steps.values() if r.key not in self._recorded_now)
        dropped = sorted((r for r in earlier if r.seq >= from_seq), key=lambda r: r.seq)
        for record in dropped:
            del self.steps[record.key]
        return [record.key for record in dropped]

    def sandbox_session_closed(self, seconds: float) -> None:
        """Nothing to record: in-process runs keep no metrics."""

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
