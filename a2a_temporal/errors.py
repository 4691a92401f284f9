"""Exceptions raised to skills and callers."""

from __future__ import annotations

import asyncio

__all__ = [
    "CancelledByCaller",
    "InfrastructureError",
    "MissingScopes",
    "MissingSecrets",
    "OutputNotSerializable",
    "SandboxUnavailable",
    "SkillRejected",
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


class InfrastructureError(RuntimeError):
    """The runtime's own I/O failed (S3 or Temporal unreachable), not the skill's logic.

    A skill that lets it escape is re-run under the worker's infrastructure
    retry budget (`infra_retries`), not its own `retries`.
    """


class MissingSecrets(RuntimeError):
    """A worker was asked to host agents whose declared `secrets` it cannot resolve."""


class OutputNotSerializable(TypeError):
    """A skill returned a value that cannot be turned into JSON (not retried: it would again)."""


class SandboxUnavailable(RuntimeError):
    """No sandbox backend is configured for this run."""
