"""What a workflow id names (a task, a pipeline), and whether any worker polls a task queue."""

from __future__ import annotations

from typing import Literal

from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from a2a_temporal.temporal.wire import PIPELINE_WORKFLOW, SKILL_RUN_WORKFLOW

__all__ = ["Kind", "WrongKind", "expect_kind", "has_pollers", "kind_of", "task_queue_of"]

Kind = Literal["task", "pipeline"]
_TYPES: dict[str, Kind] = {SKILL_RUN_WORKFLOW: "task", PIPELINE_WORKFLOW: "pipeline"}


class WrongKind(ValueError):
    """The id names another kind of workflow than the command works on."""


async def kind_of(client: Client, workflow_id: str) -> Kind | None:
    """`task`, `pipeline`, or None for another workflow type.

    Raises:
        LookupError: No workflow has that id (`UnknownTask` at the callers).
    """
    try:
        description = await client.get_workflow_handle(workflow_id).describe()
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            raise LookupError(workflow_id) from None
        raise
    return _TYPES.get(description.workflow_type)


async def expect_kind(client: Client, workflow_id: str, wanted: Kind) -> None:
    """Check that `workflow_id` is a `wanted`; `WrongKind` says which command fits instead."""
    found = await kind_of(client, workflow_id)
    if found == wanted:
        return
    if found == "pipeline":
        raise WrongKind(
            f"{workflow_id!r} is a pipeline, not a task; use `a2a-temporal pipeline status "
            f"{workflow_id}` (or `pipeline cancel`)"
        )
    if found == "task":
        raise WrongKind(
            f"{workflow_id!r} is a task, not a pipeline; use `a2a-temporal result {workflow_id}`"
            " (or `events`, `cancel`, `artifacts`)"
        )
    raise WrongKind(f"{workflow_id!r} is not an a2a-temporal task or pipeline")


async def task_queue_of(client: Client, workflow_id: str) -> str:
    """The task queue a workflow runs on."""
    return (await client.get_workflow_handle(workflow_id).describe()).task_queue


async def has_pollers(client: Client, task_queue: str) -> bool:
    """Whether a worker polled `task_queue` for workflow tasks recently."""
    response = await client.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(
            namespace=client.namespace,
            task_queue=TaskQueue(name=task_queue),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        )
    )
    return bool(response.pollers)
