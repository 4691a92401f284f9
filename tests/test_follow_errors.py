"""Which failed waits an event follower reads again after, and which it raises (pure logic)."""

import pytest
from temporalio.client import WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.service import RPCError, RPCStatusCode

from a2a_temporal.temporal.follow import read_again


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (RPCStatusCode.DEADLINE_EXCEEDED, "context deadline exceeded"),
        (RPCStatusCode.CANCELLED, "Timeout expired"),  # the wait's own deadline
        (RPCStatusCode.FAILED_PRECONDITION, "Workflow task failed"),
    ],
)
def test_a_wait_cut_by_a_paused_or_lost_worker_is_read_again(
    status: RPCStatusCode, message: str
) -> None:
    assert read_again(RPCError(message, status, b""))


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (RPCStatusCode.NOT_FOUND, "workflow not found"),
        (RPCStatusCode.PERMISSION_DENIED, "not allowed"),
        (RPCStatusCode.CANCELLED, "operation was canceled"),
        (RPCStatusCode.FAILED_PRECONDITION, "namespace is not active"),
    ],
)
def test_other_failures_reach_the_follower(status: RPCStatusCode, message: str) -> None:
    assert not read_again(RPCError(message, status, b""))


def test_an_update_wait_that_timed_out_on_a_running_task_is_read_again() -> None:
    assert read_again(WorkflowUpdateRPCTimeoutOrCancelledError())
