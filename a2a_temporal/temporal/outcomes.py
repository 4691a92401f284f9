"""How a task's or pipeline's outcome maps to Temporal's own workflow status.

A completed task's workflow is Completed and returns its `CallResult`. A
failed or rejected one is Failed: the failure is an `ApplicationError` whose
type names the status (`TaskFailed`, `TaskRejected`) and whose first detail
is the `CallResult`. A task its caller cancelled is Canceled, and its
`CallResult` is kept in the workflow's memo (`a2a.result`), since Temporal
records no details with a cancellation. A task that cancelled itself with no
cancel request is Failed with type `TaskCanceled`. Pipelines do the same with
their `PipelineState`. Readers turn all of these back into the same result.

A task that ends with an error also keeps it, cut to `ERROR_MEMO_CHARS`, in
its memo (`a2a.error`), so a listing of tasks shows why each one ended
without reading its history.

Pure: no I/O, imported by workflow code.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from temporalio.exceptions import ApplicationError

from a2a_temporal.temporal.wire import TASK_CANCELED_ERROR_TYPE

__all__ = [
    "ERROR_MEMO",
    "ERROR_MEMO_CHARS",
    "OUTCOME_ERROR_TYPES",
    "RESULT_MEMO",
    "TASK_FAILED_ERROR_TYPE",
    "TASK_REJECTED_ERROR_TYPE",
    "carried_outcome",
    "memo_error",
    "outcome_error",
]

TASK_FAILED_ERROR_TYPE = "TaskFailed"
TASK_REJECTED_ERROR_TYPE = "TaskRejected"
OUTCOME_ERROR_TYPES = {
    "failed": TASK_FAILED_ERROR_TYPE,
    "rejected": TASK_REJECTED_ERROR_TYPE,
    "canceled": TASK_CANCELED_ERROR_TYPE,
}
RESULT_MEMO = "a2a.result"
ERROR_MEMO = "a2a.error"
ERROR_MEMO_CHARS = 1000

_M = TypeVar("_M", bound=BaseModel)


def memo_error(error: str) -> str:
    """`error` as the `a2a.error` memo keeps it: at most `ERROR_MEMO_CHARS` characters."""
    if len(error) <= ERROR_MEMO_CHARS:
        return error
    return error[: ERROR_MEMO_CHARS - 1] + "\u2026"


def outcome_error(status: str, error: str | None, outcome: BaseModel) -> ApplicationError:
    """The failure a workflow ends with for `status`, carrying its outcome as the detail.

    Raises:
        ValueError: `status` is not one a workflow fails with.
    """
    kind = OUTCOME_ERROR_TYPES.get(status)
    if kind is None:
        raise ValueError(f"a workflow does not fail with status {status!r}")
    return ApplicationError(
        error or status, outcome.model_dump(mode="json"), type=kind, non_retryable=True
    )


def carried_outcome(cause: BaseException | None, model: type[_M]) -> _M | None:
    """The outcome an ended workflow's failure carries, or None when it carries none."""
    if not isinstance(cause, ApplicationError) or cause.type not in OUTCOME_ERROR_TYPES.values():
        return None
    details: Any = cause.details
    if not details:
        return None
    try:
        return model.model_validate(details[0])
    except ValidationError:
        return None
