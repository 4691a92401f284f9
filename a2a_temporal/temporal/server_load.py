"""What one process asks of the Temporal server at once: starts and result waits.

A process that starts and waits on thousands of tasks must not lose any of them
to the server's throttling.

Starts: at most `STARTS_IN_FLIGHT` per client are in flight; the rest queue. A
start the server refuses for load (`RESOURCE_EXHAUSTED`) is sent again after a
pause; one whose answer was lost (timed out, connection reset) is sent again
only when the caller says a conflict on its id can only be itself.

Results:
Temporal answers a result wait with a long poll (the history's close event).
The server caps a namespace's concurrent long polls and refuses the rest with
`RESOURCE_EXHAUSTED` ("namespace concurrent poller limit exceeded"), and a
restarting server answers `UNAVAILABLE`; the SDK retries those for a few
seconds, then raises, and a caller waiting on 2,000 tasks loses hundreds of
results of tasks that ran fine.

Here a process holds at most `result_long_polls` result long polls per client.
Waits beyond that queue for a slot and, meanwhile, are watched together: one
task lists from visibility which of them have closed, 200 ids per listing,
every half second, and wakes those, which then read their result (at once: it
is there). A process waiting on thousands of tasks thus costs the server a
bounded number of polls, and a task that ends is seen within a second even when
every slot is held by tasks that run for hours. Every read backs off and
retries on `RESOURCE_EXHAUSTED` and `UNAVAILABLE`: reading has no side effects,
and the caller bounds the wait (`timeout`).
"""

from __future__ import annotations

import asyncio
import random
import re
import weakref
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import structlog
from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode

from a2a_temporal.settings import AgentSettings
from a2a_temporal.temporal.runtime import AgentRuntime

__all__ = ["RETRYABLE", "ServerLoad", "retrying", "server_load"]

RETRYABLE = frozenset({RPCStatusCode.RESOURCE_EXHAUSTED, RPCStatusCode.UNAVAILABLE})
"""Statuses a read is retried on: the server is throttling or (re)starting."""

STARTS_IN_FLIGHT = 64
"""Workflow starts one client sends at once."""

LOST_ANSWERS = frozenset(
    {RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.CANCELLED, RPCStatusCode.UNAVAILABLE}
)
"""Statuses after which a start may or may not have been taken."""

WATCH_INTERVAL = 0.5
"""Seconds between visibility listings of the queued waits."""

LISTING_CHUNK = 200
"""Workflow ids per visibility listing."""

_REFUSED = frozenset({RPCStatusCode.RESOURCE_EXHAUSTED})
_FIRST_DELAY = 0.1
_LONGEST_DELAY = 5.0
_READS_OF_CLOSED = 50
_CLOSED = "ExecutionStatus IN ('Completed', 'Failed', 'Canceled', 'Terminated', 'TimedOut')"
_LISTABLE_ID = re.compile(r"[A-Za-z0-9._:/@+=-]{1,255}")
_T = TypeVar("_T")
_log = structlog.get_logger(__name__)


async def retrying(
    read: Callable[[], Awaitable[_T]], what: str, *, on: frozenset[RPCStatusCode] = RETRYABLE
) -> _T:
    """`await read()`; after a failure with a status in `on`, again after a growing pause."""
    delay = _FIRST_DELAY
    retries = 0
    while True:
        try:
            return await read()
        except RPCError as err:
            if err.status not in on and not (_cut(err) and RPCStatusCode.UNAVAILABLE in on):
                raise
            retries += 1
            if retries in (1, 10) or retries % 100 == 0:
                _log.warning("read_retrying", read=what, retries=retries, error=err.message)
        await asyncio.sleep(delay * random.uniform(0.5, 1.0))
        delay = min(delay * 2, _LONGEST_DELAY)


def _cut(err: RPCError) -> bool:
    """A call whose connection dropped under it (the server went away): unavailable."""
    return err.status == RPCStatusCode.CANCELLED and "transport error" in err.message


class ServerLoad:
    """The starts and result waits of one client in one event loop.

    Args:
        client: The client the waits read with.
        long_polls: Waits that may hold a long poll at once.
    """

    def __init__(self, client: Client, long_polls: int) -> None:
        self._client = client
        self._starts = asyncio.Semaphore(STARTS_IN_FLIGHT)
        self._slots = asyncio.Semaphore(long_polls)
        self._reads_of_closed = asyncio.Semaphore(_READS_OF_CLOSED)
        self._queued: dict[str, list[asyncio.Future[None]]] = {}
        self._watcher: asyncio.Task[None] | None = None
        self._listing_works = True

    async def start(self, send: Callable[[], Awaitable[_T]], *, resend_lost: bool) -> _T:
        """`await send()` (a workflow start) within the in-flight bound, again while refused.

        `resend_lost`: also send again when the answer was lost; the caller
        then takes an "already started" answer as its own start.
        """
        statuses = _REFUSED | (LOST_ANSWERS if resend_lost else frozenset())
        async with self._starts:
            return await retrying(send, "workflow start", on=statuses)

    async def result(self, handle: WorkflowHandle[Any, _T]) -> _T:
        """The workflow's result (`handle.result()`), whatever the server's poller limit."""
        if not self._slots.locked() or not self._listing_works or not _listable(handle.id):
            async with self._slots:
                return await retrying(handle.result, f"result of {handle.id}")
        closed = self._queue(handle.id)
        slot = asyncio.ensure_future(self._slots.acquire())
        try:
            await asyncio.wait((closed, slot), return_when=asyncio.FIRST_COMPLETED)
        except BaseException:
            self._dequeue(handle.id, closed)
            _give_up(slot, self._slots)
            raise
        self._dequeue(handle.id, closed)
        if slot.done() and not slot.cancelled():
            try:
                return await retrying(handle.result, f"result of {handle.id}")
            finally:
                self._slots.release()
        slot.cancel()  # gives its place in the queue up
        async with self._reads_of_closed:
            return await retrying(handle.result, f"result of {handle.id}")

    def _queue(self, workflow_id: str) -> asyncio.Future[None]:
        closed = asyncio.get_running_loop().create_future()
        self._queued.setdefault(workflow_id, []).append(closed)
        if self._watcher is None:
            self._watcher = asyncio.create_task(self._watch(), name="a2a result watcher")
        return closed

    def _dequeue(self, workflow_id: str, closed: asyncio.Future[None]) -> None:
        waiting = self._queued.get(workflow_id, [])
        if closed in waiting:
            waiting.remove(closed)
        if not waiting:
            self._queued.pop(workflow_id, None)
        closed.cancel()

    async def _watch(self) -> None:
        """List which queued waits' workflows have closed and wake them, until none is queued."""
        try:
            while self._queued and self._listing_works:
                await asyncio.sleep(WATCH_INTERVAL)
                ids = list(self._queued)
                for start in range(0, len(ids), LISTING_CHUNK):
                    for workflow_id in await self._closed_among(ids[start : start + LISTING_CHUNK]):
                        for closed in self._queued.get(workflow_id, []):
                            if not closed.done():
                                closed.set_result(None)
        finally:
            self._watcher = None

    async def _closed_among(self, ids: list[str]) -> list[str]:
        quoted = ", ".join(f"'{workflow_id}'" for workflow_id in ids)
        query = f"WorkflowId IN ({quoted}) AND {_CLOSED}"

        async def listing() -> list[str]:
            return [found.id async for found in self._client.list_workflows(query)]

        try:
            return await retrying(listing, "closed workflows")
        except RPCError as err:  # a server without this listing: queued waits get slots in turn
            _log.warning("result_listing_unavailable", error=err.message)
            self._listing_works = False
            return []


def _give_up(slot: asyncio.Future[Any], slots: asyncio.Semaphore) -> None:
    """Leave the queue for a long-poll slot, or the slot when it was acquired."""
    if slot.done() and not slot.cancelled():
        slots.release()
    else:
        slot.cancel()


def _listable(workflow_id: str) -> bool:
    """Whether the id can go into a visibility query as it is (no quoting needed)."""
    return _LISTABLE_ID.fullmatch(workflow_id) is not None


_LOADS: weakref.WeakKeyDictionary[
    Client, weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, ServerLoad]
] = weakref.WeakKeyDictionary()


def server_load(client: Client) -> ServerLoad:
    """The `ServerLoad` of `client` in the running loop (its `AgentPlugin`'s limit, if any)."""
    loop = asyncio.get_running_loop()
    per_loop = _LOADS.setdefault(client, weakref.WeakKeyDictionary())
    waits = per_loop.get(loop)
    if waits is None:
        runtime = AgentRuntime.of(client)
        settings = runtime.settings if runtime else None
        limit = (
            settings.result_long_polls
            if settings
            else AgentSettings.model_fields["result_long_polls"].default
        )
        waits = per_loop[loop] = ServerLoad(client, limit)
    return waits
