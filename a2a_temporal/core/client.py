"""Clients that invoke skills: the interface and the in-process implementation."""

from __future__ import annotations

import asyncio
import contextlib
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from a2a_temporal.core._cancel import SkillTask
from a2a_temporal.core.agent import A2AAgent, PreparedCall
from a2a_temporal.core.auth import DEFAULT_MAX_DELEGATION_DEPTH
from a2a_temporal.core.context import seconds
from a2a_temporal.core.describe import describe_exception
from a2a_temporal.core.discovery import DiscoveryClient, InMemoryDiscoveryClient
from a2a_temporal.core.local_context import LocalRunContext
from a2a_temporal.core.names import new_task_id
from a2a_temporal.core.secrets import SecretResolver, redact, require_secrets
from a2a_temporal.core.types import AgentEvent, Budget, CallResult
from a2a_temporal.core.workspace import InMemoryWorkspace, WorkspaceClient
from a2a_temporal.errors import OutputNotSerializable, SkillRejected

CANCELED_BY_CALLER = "canceled by caller"

if TYPE_CHECKING:
    from a2a_temporal.sandbox.interface import SandboxClient

__all__ = ["A2AClient", "InMemoryA2AClient", "describe_exception", "new_task_id", "seconds"]

_RUNNING_TASK: ContextVar[str | None] = ContextVar("a2a_running_task", default=None)


class A2AClient(ABC):
    """Invokes skills of agents and returns their `CallResult`."""

    @property
    @abstractmethod
    def discovery(self) -> DiscoveryClient:
        """Where the agents this client can reach are described."""

    @abstractmethod
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
        """Run `skill` of `target` and wait for its result.

        Args:
            target: Agent name.
            skill: Skill name.
            args: Arguments, validated against the skill's input model.
            grant: Workspace grant handed to the callee.
            timeout: Bound on the whole task; when it runs out the task is `canceled`.
            auth: Caller identity, validated against the agent's `auth_model`.
            budget: What the task and its calls may spend (within the skill's own budget).
        """


class InMemoryA2AClient(A2AClient):
    """Runs agents in this process, one `LocalRunContext` per call.

    Args:
        agents: Agent instances, routed to by their `name`.
        secrets: What `ctx.secret(name)` returns.
        workspace: Workspace shared by the agents that declare access (a new
            `InMemoryWorkspace` when None).
        sandbox: Sandbox for `ctx.sandbox`.
        max_delegation_depth: Longest actor chain calls may build (see `ScopedAuth.actors`).
        remote: Where calls to URL targets (remote A2A agents) go, e.g.
            `HttpA2AClient()` from `a2a_temporal.protocol.remote`; without it
            such calls end `rejected`, saying so.
    """

    def __init__(
        self,
        agents: Iterable[A2AAgent],
        secrets: Mapping[str, str] | None = None,
        *,
        workspace: WorkspaceClient | None = None,
        sandbox: SandboxClient | None = None,
        max_delegation_depth: int = DEFAULT_MAX_DELEGATION_DEPTH,
        remote: A2AClient | None = None,
    ) -> None:
        self._max_delegation_depth = max_delegation_depth
        self._remote_client = remote
        self._agents: dict[str, A2AAgent] = {}
        for agent in agents:
            if not isinstance(agent, A2AAgent):
                raise TypeError(f"expected an A2AAgent instance, got {agent!r}")
            if agent.name in self._agents:
                raise ValueError(f"two agents are named {agent.name!r}")
            self._agents[agent.name] = agent
        self._secrets = dict(secrets or {})
        require_secrets(SecretResolver(self._secrets, environ={}).missing(self._agents.values()))
        self._workspace = workspace if workspace is not None else InMemoryWorkspace()
        self._sandbox = sandbox
        self._discovery = InMemoryDiscoveryClient(a.card() for a in self._agents.values())
        self.contexts: dict[str, LocalRunContext[Any]] = {}
        self._calls_made: dict[str, int] = {}

    def _task_id(self, target: str, skill: str) -> str:
        """A new task's id: below the calling task's (as on Temporal), when a skill calls."""
        parent = _RUNNING_TASK.get()
        if parent is None:
            return new_task_id(target, skill)
        seq = self._calls_made.get(parent, 0)
        self._calls_made[parent] = seq + 1
        return f"{parent}/call-{seq}"

    @property
    def discovery(self) -> DiscoveryClient:
        """Cards of the agents given to this client."""
        return self._discovery

    def answer(self, task_id: str, question_id: str, value: Any) -> None:
        """Answer an open question of task `task_id` (see `LocalRunContext.answer`)."""
        self.contexts[task_id].answer(question_id, value)

    def events(self, task_id: str) -> list[AgentEvent]:
        """Return the events task `task_id` emitted so far."""
        return list(self.contexts[task_id].events)

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
        """Run the skill in this process (a URL target: call that remote A2A agent)."""
        if target.startswith(("http://", "https://")):
            return await self._remote(target, skill, args=args, timeout=timeout)
        task_id = self._task_id(target, skill)
        limit = seconds(timeout)
        try:
            prepared = self._agent(target).prepare(skill, args, auth)
        except SkillRejected as exc:
            return CallResult(task_id=task_id, status="rejected", error=str(exc))
        ctx: LocalRunContext[Any] = LocalRunContext(
            task_id=task_id,
            auth=prepared.auth,
            secrets=self._secrets,
            a2a=self,
            discover=self._discovery,
            workspace_access=prepared.agent.workspace_access,
            workspace=self._workspace,
            sandbox=self._sandbox,
            grant=grant,
            agent=target,
            max_delegation_depth=self._max_delegation_depth,
            identity=auth.model_dump(mode="json") if isinstance(auth, BaseModel) else auth,
            budget=prepared.spec.budget.within(budget) if prepared.spec.budget else budget,
            on_divergence=prepared.spec.on_divergence,
        )
        self.contexts[task_id] = ctx
        task = asyncio.create_task(_run_attempts(prepared, ctx, self._secrets), name=task_id)
        try:
            done, _ = await asyncio.wait({task}, timeout=limit)
        except asyncio.CancelledError:
            ctx.cancel()
            with contextlib.suppress(BaseException):
                await task
            raise
        if not done:
            ctx.cancel()
            result = await task
            return result.model_copy(update={"error": f"timed out after {limit:g}s"})
        return task.result()

    async def _remote(
        self,
        url: str,
        skill: str,
        *,
        args: BaseModel | Mapping[str, Any] | None,
        timeout: timedelta | float | None,
    ) -> CallResult:
        if self._remote_client is None:
            return CallResult(
                task_id=new_task_id("remote", skill or "default"),
                status="rejected",
                error=(
                    f"{url} is a remote A2A agent, and this in-process client has no remote "
                    "client: pass remote=HttpA2AClient() (from a2a_temporal.protocol.remote, "
                    "extra a2a-temporal[a2a]) to InMemoryA2AClient"
                ),
            )
        return await self._remote_client.call(url, skill, args=args, timeout=timeout)

    def _agent(self, name: str) -> A2AAgent:
        agent = self._agents.get(name)
        if agent is None:
            known = ", ".join(sorted(self._agents)) or "none"
            raise SkillRejected(f"unknown agent {name!r} (agents: {known})")
        return agent


async def _run_attempts(
    prepared: PreparedCall, ctx: LocalRunContext[Any], secrets: Mapping[str, str]
) -> CallResult:
    """Run a prepared call with its retries and map the outcome to a `CallResult`.

    Each attempt's handler runs in its own task, as on Temporal, so a cancel
    by the caller reaches it as `CancelledByCaller` at any await while the
    skill's own timeouts and task groups behave as plain asyncio. Error
    messages have the values of `secrets` taken out, as on a worker.
    """
    _RUNNING_TASK.set(ctx.task_id)
    spec = prepared.spec
    attempts = spec.retries + 1
    limit = spec.timeout.total_seconds() if spec.timeout else None
    for attempt in range(1, attempts + 1):
        runner = SkillTask(prepared.invoke(ctx), name=ctx.task_id)
        ctx.bind(runner)
        if ctx.cancelled:
            ctx.cancel()
        try:
            done, _ = await asyncio.wait({runner.task}, timeout=limit)
        except asyncio.CancelledError:
            ctx.cancel()
            await runner.settle()
            raise
        if not done:
            runner.cancel(f"timed out after {limit:g}s")
            await runner.settle()
            error: str | None = f"TimeoutError: skill {spec.name!r} timed out after {limit:g}s"
        elif runner.task.cancelled() and runner.caller_reason is not None:
            return _result(ctx, "canceled", error=CANCELED_BY_CALLER)
        else:
            exc = None if runner.task.cancelled() else runner.task.exception()
            if runner.task.cancelled():
                exc = asyncio.CancelledError("the skill cancelled itself")
            if exc is None:
                return _result(ctx, "completed", output=runner.task.result())
            if runner.caller_reason is not None and isinstance(exc, asyncio.CancelledError):
                return _result(ctx, "canceled", error=CANCELED_BY_CALLER)
            if isinstance(exc, SkillRejected):
                return _result(ctx, "rejected", error=redact(str(exc), secrets.items()))
            error = describe_exception(exc, clean=lambda text: redact(text, secrets.items()))
            if isinstance(exc, OutputNotSerializable):
                return _result(ctx, "failed", error=error)
        if attempt == attempts:
            return _result(ctx, "failed", error=error)
        reason = error or "the attempt failed"
        ctx.events.append(AgentEvent("retry", {"attempt": attempt + 1, "reason": reason}))
    raise AssertionError("unreachable: the last attempt always returns")


def _result(ctx: LocalRunContext[Any], status: Any, **fields: Any) -> CallResult:
    return CallResult(
        task_id=ctx.task_id,
        status=status,
        artifacts=ctx.artifact_refs,
        superseded_steps=tuple(ctx.superseded_steps),
        usage=ctx.usage.total,
        **fields,
    )
