"""Every exception the product raises to skills, callers and operators, in one place.

Pure: imports nothing of the package, so every layer (workflow code included)
can raise and catch these.
"""

from __future__ import annotations

import asyncio

__all__ = [
    "BudgetExceeded",
    "CallMismatch",
    "CancelledByCaller",
    "DelegationRefused",
    "GrantRefused",
    "IdentityRefused",
    "InfrastructureError",
    "MissingScopes",
    "MissingSecrets",
    "OutboundRefused",
    "OutputNotSerializable",
    "PipelineError",
    "RemoteError",
    "SandboxUnavailable",
    "SkillRejected",
    "TaskIdInUse",
    "UnknownAgent",
    "UnknownTask",
]


class CancelledByCaller(asyncio.CancelledError):
    """The caller cancelled the task (or its timeout ran out).

    It subclasses `asyncio.CancelledError` so that a broad `except Exception`
    in skill code cannot swallow a cancellation by accident.
    """


class SkillRejected(Exception):
    """A call was refused before the skill ran (bad args, unknown skill, auth)."""


class MissingScopes(SkillRejected, PermissionError):
    """The caller lacks scopes that a skill requires (a `PermissionError`, as the contract says).

    Attributes:
        missing: The required scopes the caller does not hold, sorted.
    """

    def __init__(self, missing: tuple[str, ...]) -> None:
        self.missing = missing
        super().__init__(f"missing scopes: {', '.join(missing)}")


class DelegationRefused(ValueError):
    """A call would pass an identity on further than `max_delegation_depth` allows."""


class IdentityRefused(ValueError):
    """A run's signed identity cannot be trusted; the message says why."""


class GrantRefused(PermissionError):
    """A workspace grant cannot be used or made; the message says why, naming the grant id.

    Attributes:
        grant_id: The grant's id, when the grant could be read.
    """

    def __init__(self, message: str, grant_id: str | None = None) -> None:
        super().__init__(message)
        self.grant_id = grant_id


class BudgetExceeded(Exception):
    """The task's budget (tokens or dollars, its calls included) is spent.

    Raised in the skill by the `ctx.step`, `ctx.call` or `ctx.usage.record`
    that would spend more; the task ends `failed`, its usage recorded.
    """


class CallMismatch(Exception):
    """A re-run made another call at some position than the earlier attempt did."""


class InfrastructureError(RuntimeError):
    """The runtime's own I/O failed (S3 or Temporal unreachable), not the skill's logic.

    A skill that lets it escape is re-run under the worker's infrastructure
    retry budget (`infra_retries`), not its own `retries`.
    """


class MissingSecrets(RuntimeError):
    """A worker was asked to host agents whose declared `secrets` it cannot resolve."""


class OutboundRefused(ValueError):
    """A push webhook or remote agent URL points where requests may not go (`outbound_allow`)."""


class OutputNotSerializable(TypeError):
    """A skill returned a value that cannot be turned into JSON (not retried: it would again)."""


class SandboxUnavailable(RuntimeError):
    """No sandbox backend is configured for this run."""


class UnknownAgent(LookupError):
    """No agent of that name is known."""


class UnknownTask(LookupError):
    """No task (workflow) with that id exists."""


class TaskIdInUse(ValueError):
    """A task or pipeline with that id was already started (ids are never reused)."""


class PipelineError(ValueError):
    """A pipeline spec or one of its references is invalid."""


class RemoteError(Exception):
    """A remote A2A agent refused the request or answered with something unusable."""
