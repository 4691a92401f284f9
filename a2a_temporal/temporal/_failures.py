"""How an attempt of `run_skill` ends when it does not complete: Temporal errors by outcome.

The workflow reads each error's type (`wire.*_ERROR_TYPE`): a skill's own
exception, a rejection, a superseded attempt and a task cancelled by its
caller are outcomes (not retried by the server, not logged as failures);
an infrastructure error is retried by the server.
"""

from __future__ import annotations

from temporalio.exceptions import ApplicationError, ApplicationErrorCategory

from a2a_temporal.errors import BudgetExceeded, CallMismatch, OutputNotSerializable
from a2a_temporal.temporal.models import SkillFailure
from a2a_temporal.temporal.wire import (
    INFRASTRUCTURE_ERROR_TYPE,
    REJECTED_ERROR_TYPE,
    SKILL_ERROR_TYPE,
    SUPERSEDED_ERROR_TYPE,
)

__all__ = ["benign", "infrastructure", "rejected", "skill_error", "superseded"]

_DETERMINISTIC = (BudgetExceeded, CallMismatch, OutputNotSerializable)
"""Exceptions a re-run would raise again: the task fails without retries."""


def skill_error(exc: BaseException, message: str) -> ApplicationError:
    """The skill raised `exc` (`message`: its text, bounded and redacted)."""
    failure = SkillFailure(
        type=type(exc).__name__, message=message, retryable=not isinstance(exc, _DETERMINISTIC)
    )
    return ApplicationError(
        failure.describe(),
        failure,
        type=SKILL_ERROR_TYPE,
        non_retryable=True,
        category=ApplicationErrorCategory.BENIGN,  # an outcome, logged in one line by the caller
    )


def rejected(message: str) -> ApplicationError:
    """The task may not run (bad args, an identity not trusted)."""
    return benign(message, REJECTED_ERROR_TYPE)


def infrastructure(message: str) -> ApplicationError:
    """The runtime failed (S3, a lost link): the server retries the attempt."""
    return ApplicationError(message, type=INFRASTRUCTURE_ERROR_TYPE)


def superseded(message: str) -> ApplicationError:
    """A newer attempt of the task took over."""
    return benign(message, SUPERSEDED_ERROR_TYPE)


def benign(message: str, error_type: str) -> ApplicationError:
    """An outcome the workflow handles: not retried, not logged as a failure."""
    return ApplicationError(
        message, type=error_type, non_retryable=True, category=ApplicationErrorCategory.BENIGN
    )
