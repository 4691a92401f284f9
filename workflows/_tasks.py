"""Workflow-side pieces every workflow type shares: inputs, child tasks, resolution, identity.

Deterministic: each function issues the same commands for the same input and
history, whichever workflow calls it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import (
    ActivityError,
    ApplicationError,
    CancelledError,
    ChildWorkflowError,
    TimeoutError,
)

with workflow.unsafe.imports_passed_through():
    from a2a_temporal.core.auth import subject_of
    from a2a_temporal.core.describe import describe_validation_error
    from a2a_temporal.core.names import is_descendant, pipeline_step
    from a2a_temporal.core.types import ArtifactRef, CallResult, TaskStatus, Usage
    from a2a_temporal.temporal import wire
    from a2a_temporal.temporal.attributes import (
        STARTER_MEMO,
        STARTER_REVISION,
        starter_memo,
        task_attributes,
    )
    from a2a_temporal.temporal.models import (
        RelayedQuestion,
        Resolution,
        SkillOptions,
        SkillRef,
        SkillRunInput,
    )
    from a2a_temporal.temporal.outcomes import (
        ERROR_MEMO,
        RESULT_MEMO,
        carried_outcome,
        memo_error,
        outcome_error,
    )
    from a2a_temporal.trust.claims import IdentityCheck
    from pydantic import BaseModel, ValidationError

__all__ = [
    "CANCELED_BY_CALLER",
    "ChildTask",
    "canceled",
    "child_result",
    "describe_failure",
    "ended",
    "keep_error",
    "log_event",
    "parse_input",
    "recorded_start",
    "relay_question",
    "relayed_from_below",
    "resolve_skills",
    "set_missing_attributes",
    "start_task",
    "started_at",
    "verify_identity",
    "watch_child",
    "with_stored_artifacts",
]

CANCELED_BY_CALLER = "canceled by caller"
_RESOLVE_TIMEOUT = timedelta(seconds=30)
_LIST_TIMEOUT = timedelta(seconds=30)
_MAX_LIST_BACKOFF = timedelta(seconds=30)
_RELAY_BELOW_PATCH = "a2a-relay-below"  # tasks from before it relayed any question
_NATIVE_OUTCOMES_PATCH = "a2a-native-outcomes"  # tasks from before it completed whatever the end
_ERROR_MEMO_PATCH = "a2a-error-memo"  # tasks from before it ended without the `a2a.error` memo
ModelT = TypeVar("ModelT", bound=BaseModel)
ChildTask = workflow.ChildWorkflowHandle[Any, CallResult]


async def with_stored_artifacts(result: CallResult, options: SkillOptions) -> CallResult:
    """`result` with every artifact the task's attempts stored (an activity lists them).

    The listing is retried as the skill's runtime I/O is (`infra_retries`); when
    S3 stays unreachable longer, the task ends without the list, saying why.
    """
    try:
        listed = await workflow.execute_activity(
            wire.LIST_ARTIFACTS_ACTIVITY,
            result.task_id,
            result_type=list[ArtifactRef],
            task_queue=options.task_queue,
            start_to_close_timeout=_LIST_TIMEOUT,
            retry_policy=RetryPolicy(
                initial_interval=timedelta(seconds=options.infra_backoff_seconds),
                maximum_interval=_MAX_LIST_BACKOFF,
                maximum_attempts=options.infra_retries + 1,
            ),
            summary="list artifacts",
        )
    except ActivityError as err:
        unlisted = f"{result.error} (its artifacts could not be listed: {err.cause})"
        return result.model_copy(update={"error": unlisted})
    return result.model_copy(update={"artifacts": tuple(listed)})


def log_event(event: str, fields: Mapping[str, Any], *, warning: bool = False) -> None:
    """Log with `workflow.logger` (not while replaying): the run's ids, its pipeline, `fields`.

    The same fields a skill's own lines carry (`task_id`, `workflow_id`,
    `run_id`, `parent_id`, and `pipeline_id` and `step` for a step's task).
    """
    info = workflow.info()
    parent = info.parent.workflow_id if info.parent else None
    step = pipeline_step(info.workflow_id, parent)
    extra = {
        "task_id": info.workflow_id,
        "workflow_id": info.workflow_id,
        "run_id": info.run_id,
        **({"parent_id": parent} if parent else {}),
        **({"pipeline_id": parent, "step": step} if step else {}),
        **fields,
    }
    (workflow.logger.warning if warning else workflow.logger.info)(event, extra=extra)


def parse_input(model: type[ModelT], raw: Any, what: str) -> tuple[ModelT | None, str | None]:
    """Validate a workflow's JSON input; return it, or why it is not valid."""
    if isinstance(raw, model):
        return raw, None
    try:
        return model.model_validate(raw), None
    except ValidationError as exc:
        return None, f"invalid {what} input: {describe_validation_error(exc)}"


def recorded_start() -> dict[str, Any]:
    """How Temporal recorded this run's start: what identity checks judge a run by.

    A run `continued` only when it is the workflow's own continue-as-new: a
    cron run or a workflow retry also has an earlier run, but runs again what
    a client asked for once.
    """
    info = workflow.info()
    cron = bool(info.cron_schedule)
    retried = info.attempt > 1
    return {
        "parent_id": info.parent.workflow_id if info.parent else None,
        "started_at": info.workflow_start_time or workflow.now(),
        "continued": info.continued_run_id is not None and not cron and not retried,
        "first_run_id": info.first_execution_run_id,
        "cron": cron,
        "retried": retried,
    }


def set_missing_attributes(
    agent: str, skill: str, caller: str | None, context_id: str | None = None
) -> None:
    """Set the run's search attributes when its starter (any Temporal client) did not."""
    current = workflow.info().typed_search_attributes
    if current.get(wire.SEARCH_AGENT) is None:
        pairs = task_attributes(agent, skill, caller, context_id)
        workflow.upsert_search_attributes([pair.key.value_set(pair.value) for pair in pairs])


def started_at(revision: int) -> bool:
    """Whether this run's starter recorded runtime `revision` or later in its memo."""
    try:
        started = workflow.memo_value(STARTER_MEMO, 0)
    except Exception:  # a memo no converter reads: any Temporal client can start a run
        return False
    return isinstance(started, int) and started >= revision


async def resolve_skills(refs: list[SkillRef]) -> list[Resolution]:
    """Resolve skills once, in an activity on this worker; the answer is in the history."""
    resolved: list[Resolution] = await workflow.execute_local_activity(
        wire.RESOLVE_ACTIVITY,
        refs,
        result_type=list[Resolution],
        start_to_close_timeout=_RESOLVE_TIMEOUT,
        summary="resolve " + ", ".join(f"{ref.agent}.{ref.skill}" for ref in refs[:5]),
    )
    return resolved


async def verify_identity(check: IdentityCheck) -> str | None:
    """Have this worker check a run's identity (in an activity); why it is refused, or None."""
    refused: str | None = await workflow.execute_local_activity(
        wire.VERIFY_IDENTITY_ACTIVITY,
        check,
        result_type=str | None,  # type: ignore[arg-type]
        start_to_close_timeout=_RESOLVE_TIMEOUT,
        summary="verify identity",
    )
    return refused


async def start_task(
    task: SkillRunInput, task_id: str, execution_timeout: timedelta | None = None
) -> ChildTask:
    """Start `task` (its options resolved) as a child `a2a.SkillRun` on its agent's queue.

    Cancelling the child's awaiter cancels the child and waits for it.
    """
    options = task.options
    assert options is not None, "children start with resolved options"
    return await workflow.start_child_workflow(
        wire.SKILL_RUN_WORKFLOW,
        task,
        id=task_id,
        result_type=CallResult,
        task_queue=options.task_queue,
        execution_timeout=execution_timeout,
        cancellation_type=workflow.ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED,
        parent_close_policy=workflow.ParentClosePolicy.REQUEST_CANCEL,
        static_summary=f"{task.agent}.{task.skill} by {task.caller}",
        search_attributes=(
            task_attributes(
                task.agent, task.skill, task.caller, task.context_id, subject_of(task.auth)
            )
            if options.search_attributes
            else None
        ),
        memo=starter_memo() if started_at(STARTER_REVISION) else None,  # lean as its starter
    )


async def watch_child(handle: ChildTask, on_ended: Callable[[str, Usage], None]) -> None:
    """Await a child so that cancelling this task cancels it; count what it spent.

    Its caller reads the result itself; a cancelled child's usage is not known here.
    """
    try:
        result = await handle
    except ChildWorkflowError as err:
        result = child_result(handle.id, err.cause)
    except asyncio.CancelledError:
        return
    on_ended(handle.id, result.usage)


def relayed_from_below(relayed: RelayedQuestion) -> bool:
    """Whether a relayed question names a task below this one (others are dropped, logged).

    Anyone who may signal the workflow can relay a question; one naming a task
    elsewhere would send its answer there.
    """
    if not workflow.patched(_RELAY_BELOW_PATCH):
        return True
    if is_descendant(relayed.task_id, workflow.info().workflow_id):
        return True
    workflow.logger.warning(
        "dropped a relayed question naming task %r, which this task did not start",
        relayed.task_id,
    )
    return False


async def relay_question(relayed: RelayedQuestion) -> None:
    """Pass a question to the workflow that started this one, if any."""
    parent = workflow.info().parent
    if parent is not None:
        external = workflow.get_external_workflow_handle(parent.workflow_id)
        await external.signal(wire.CHILD_QUESTION_SIGNAL, relayed)


def canceled(task_id: str) -> CallResult:
    """The result of a task its caller cancelled."""
    return CallResult(task_id=task_id, status="canceled", error=CANCELED_BY_CALLER)


def keep_error(error: str | None) -> None:
    """Keep an ending task's error in its memo, where listings read it."""
    if error and workflow.patched(_ERROR_MEMO_PATCH):
        workflow.upsert_memo({ERROR_MEMO: memo_error(error)})


def ended(status: str, error: str | None, outcome: ModelT) -> ModelT:
    """Return a completed outcome; end any other so that Temporal's status tells it.

    Failed and rejected: Failed, the outcome as the failure's detail. Cancelled
    on request: Canceled, the outcome in the memo. See `temporal.outcomes`.
    """
    if status == "completed" or not workflow.patched(_NATIVE_OUTCOMES_PATCH):
        return outcome
    if status == "canceled" and workflow.cancellation_reason() is not None:
        workflow.upsert_memo({RESULT_MEMO: outcome})
        raise asyncio.CancelledError(error)
    raise outcome_error(status, error, outcome)


def child_result(task_id: str, cause: BaseException | None) -> CallResult:
    """The `CallResult` of a child task whose workflow did not complete."""
    carried = carried_outcome(cause, CallResult)
    if carried is not None:
        return carried
    status, error = describe_failure(cause)
    return CallResult(task_id=task_id, status=status, error=error)


def describe_failure(cause: BaseException | None) -> tuple[TaskStatus, str]:
    """Map the cause of an activity or child failure to a task status and error."""
    if isinstance(cause, CancelledError):
        return "canceled", CANCELED_BY_CALLER
    if isinstance(cause, ApplicationError):
        if cause.type == wire.REJECTED_ERROR_TYPE:
            return "rejected", cause.message
        return "failed", f"{cause.type}: {cause.message}" if cause.type else cause.message
    if isinstance(cause, TimeoutError):
        return "failed", f"TimeoutError: {cause.message} ({cause.type.name if cause.type else ''})"
    return "failed", str(cause) if cause else "unknown failure"
