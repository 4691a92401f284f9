"""Reading a task's event stream while leaving few rows in its history.

The stream's own `subscribe` sends one `__temporal_workflow_stream_poll`
update per batch it receives, so a streaming task's timeline in the Temporal
UI shows a poll for every batch the skill publishes. `follow_events` reads with the
poll *query* instead, which leaves nothing in the history, and sends the
long-poll update only to wait when the query found nothing new: an idle task
costs one poll per quiet spell, a busy one none. A long poll the server
throttles or cannot take while it restarts is sent again after a pause.
"""

from __future__ import annotations

import asyncio
import base64
import functools
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

import structlog
from temporalio.api.common.v1 import Payload
from temporalio.client import (
    Client,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowQueryRejectedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.contrib.workflow_streams import (
    PollInput,
    PollResult,
    WorkflowStreamClient,
    WorkflowStreamItem,
)
from temporalio.service import RPCError, RPCStatusCode

from a2a_temporal.temporal.models import EventRecord
from a2a_temporal.temporal.server_load import retrying
from a2a_temporal.temporal.wire import EVENTS_TOPIC

__all__ = ["QUIET_READS", "READ_INTERVAL", "follow_events", "read_again"]

_log = structlog.get_logger(__name__)

READ_INTERVAL = 0.15
"""Seconds between query reads while items keep coming (bounds the added latency)."""

QUIET_READS = 2
"""Reads that find nothing before the follower waits with a long poll instead."""

_POLL = "__temporal_workflow_stream_poll"


async def follow_events(
    client: Client, workflow_id: str, from_offset: int = 0, *, outwait_workers: bool = True
) -> AsyncIterator[WorkflowStreamItem[EventRecord]]:
    """Yield the workflow's event records from `from_offset` on, live, until it ends.

    `outwait_workers`: read again after a wait that timed out or failed with
    the workflow's task (its worker paused or lost) instead of raising.

    Offsets may jump past trimmed items, as with the stream's own `subscribe`.
    Follows the workflow across continue-as-new.
    """
    stream = WorkflowStreamClient.create(client, workflow_id)
    handle = client.get_workflow_handle(workflow_id)
    converter = client.data_converter.payload_converter
    offset = from_offset
    pause = False
    quiet = 0
    failed_waits = 0
    while True:
        if pause:
            await asyncio.sleep(READ_INTERVAL)
        items = await _read(handle, offset)
        for wire in items.items:
            payload = Payload()
            payload.ParseFromString(base64.b64decode(wire.data))
            yield WorkflowStreamItem(
                topic=wire.topic,
                data=converter.from_payload(payload, EventRecord),
                offset=wire.offset,
            )
        offset = max(offset, items.next_offset)
        pause = not items.more_ready
        quiet = 0 if items.items else quiet + 1
        if quiet < QUIET_READS:
            continue
        try:
            waited = await retrying(
                functools.partial(_wait_for_next, stream, offset), f"events of {workflow_id}"
            )
        except (
            WorkflowQueryFailedError,
            WorkflowUpdateRPCTimeoutOrCancelledError,
            RPCError,
        ) as err:
            if not (outwait_workers and read_again(err)):
                raise
            failed_waits += 1
            if failed_waits in (1, 10) or failed_waits % 100 == 0:
                _log.warning("events_wait_retrying", workflow_id=workflow_id, waits=failed_waits)
            pause = True  # the workflow task is being retried or moved (its worker was lost)
            continue
        failed_waits = 0
        if waited is None:
            return
        yield waited
        offset = waited.offset + 1
        quiet = 0


def read_again(
    err: WorkflowQueryFailedError | WorkflowUpdateRPCTimeoutOrCancelledError | RPCError,
) -> bool:
    """Whether a failed wait for events is worth reading again (nothing is lost by it).

    The workflow's task failed on a worker's cached copy, or the wait timed out
    (an update to a running workflow, a query to an ended one): its worker is
    paused or gone, and the server hands the task to another after the sticky
    timeout. A wait the caller cancelled raises `CancelledError` instead.
    """
    if isinstance(err, WorkflowQueryFailedError | WorkflowUpdateRPCTimeoutOrCancelledError):
        return True
    if err.status == RPCStatusCode.FAILED_PRECONDITION:
        return "workflow task" in err.message.lower()
    if err.status == RPCStatusCode.CANCELLED:
        return "timeout" in err.message.lower()
    return err.status == RPCStatusCode.DEADLINE_EXCEEDED


async def _read(handle: WorkflowHandle[Any, Any], offset: int) -> PollResult:
    """The items there now from `offset`, by query; none when the query cannot answer."""
    try:
        result: PollResult = await handle.query(
            _POLL, PollInput(topics=[EVENTS_TOPIC], from_offset=offset), result_type=PollResult
        )
    except (RPCError, WorkflowQueryFailedError, WorkflowQueryRejectedError):
        return PollResult(next_offset=offset)
    return result


async def _wait_for_next(
    stream: WorkflowStreamClient, offset: int
) -> WorkflowStreamItem[EventRecord] | None:
    """Long-poll for the next item; None once the workflow has ended with no more."""
    items = stream.subscribe([EVENTS_TOPIC], from_offset=offset, result_type=EventRecord)
    try:
        return await anext(items, None)
    finally:
        if isinstance(items, AsyncGenerator):
            await items.aclose()
