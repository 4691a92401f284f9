"""How one activity execution of a skill ended, read from the failure Temporal recorded."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from temporalio import workflow
from temporalio.exceptions import ApplicationError, TimeoutError, TimeoutType

with workflow.unsafe.imports_passed_through():
    from a2a_temporal.temporal import wire
    from a2a_temporal.temporal.models import Parked, SkillFailure, SkillOptions, SkillOutput
    from a2a_temporal.workflows._tasks import CANCELED_BY_CALLER, describe_failure


__all__ = ["Outcome", "classify"]

OutcomeKind = Literal["completed", "parked", "skill_error", "canceled", "rejected", "failed"]


@dataclass(frozen=True)
class Outcome:
    """How one activity execution of the skill ended."""

    kind: OutcomeKind
    output: SkillOutput | None = None
    parked: str | None = None
    failure: SkillFailure | None = None
    error: str | None = None


def classify(cause: BaseException | None, options: SkillOptions) -> Outcome:
    """How an activity execution that did not complete ended."""
    tries = options.infra_retries + 1
    if isinstance(cause, ApplicationError):
        if cause.type == wire.AWAITING_INPUT_ERROR_TYPE:
            return Outcome("parked", parked=Parked.model_validate(cause.details[0]).question_id)
        if cause.type == wire.SKILL_ERROR_TYPE:
            return Outcome("skill_error", failure=SkillFailure.model_validate(cause.details[0]))
        if cause.type == wire.REJECTED_ERROR_TYPE:
            return Outcome("rejected", error=cause.message)
        if cause.type == wire.TASK_CANCELED_ERROR_TYPE:
            return Outcome("canceled", error=CANCELED_BY_CALLER)
        if cause.type == wire.INFRASTRUCTURE_ERROR_TYPE:
            return Outcome("failed", error=f"{cause.message} (after {tries} attempts)")
    if isinstance(cause, TimeoutError):
        if cause.type == TimeoutType.HEARTBEAT:
            lost = f"worker lost: no heartbeat for {options.heartbeat_timeout_seconds:g}s"
            return Outcome("failed", error=f"{lost} (after {tries} attempts)")
        what = cause.type.name.lower().replace("_", "-") if cause.type else "activity"
        return Outcome("failed", error=f"TimeoutError: {what} timeout (after {tries} attempts)")
    status, error = describe_failure(cause)
    return Outcome("canceled" if status == "canceled" else "failed", error=error)
