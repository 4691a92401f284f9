"""Exceptions raised to skills and callers."""

from __future__ import annotations

import asyncio

__all__ = [
    "CancelledByCaller",
    "MissingScopes",
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


class MissingScopes(SkillRejected):
    """The caller lacks scopes that a skill requires.

    Attributes:
        missing: The required scopes the caller does not hold, sorted.
    """

    def __init__(self, missing: tuple[str, ...]) -> None:
        self.missing = missing
        super().__init__(f"missing scopes: {', '.join(missing)}")


class SandboxUnavailable(RuntimeError):
    """No sandbox backend is configured for this run."""
