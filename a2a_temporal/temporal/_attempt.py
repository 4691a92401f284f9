"""An attempt's link to its task's workflow: fenced updates, registration and the cancel watch.

Every update an attempt sends carries its `AttemptToken`; the workflow refuses
those of an attempt that a newer one replaced, so a worker that was only
paused cannot write into its task after it lost it. A retried attempt first
announces itself (the `attempt` update), which fences the older one off
before anything of the new one lands.

Heartbeats carry a caller's cancel to an activity only as often as the SDK
sends them (every 0.8 x heartbeat timeout), so after a short while an
attempt also holds a `watch` update open; the workflow answers it the
moment the task is cancelled.

A worker that stood still (SIGSTOP, a frozen VM) past its heartbeat timeout
lost its attempt without knowing, and its skill resumes before any refused
update can tell it: after such a stall `confirm_current` asks the workflow
(a fenced update) before the next side effect runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self, TypeVar

from temporalio import activity
from temporalio.api.enums.v1 import TimeoutType
from temporalio.client import (
    Client,
    WorkflowHandle,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from a2a_temporal.errors import CancelledByCaller, InfrastructureError
from a2a_temporal.temporal.models import AttemptStart, AttemptToken, Parked
from a2a_temporal.temporal.wire import (
    ATTEMPT_UPDATE,
    SUPERSEDED_ERROR_TYPE,
    TASK_CANCELED_ERROR_TYPE,
    UNKNOWN_ATTEMPT_ERROR_TYPE,
    WATCH_UPDATE,
)

__all__ = ["AttemptLink", "AwaitingInput", "Superseded", "previous_failure"]

_T = TypeVar("_T")
WATCH_AFTER = 0.5
_RETRY_PAUSE = 0.5
_UNKNOWN_ATTEMPT_TRIES = 40
_ANNOUNCE_GRACE = 10.0
_TRANSIENT = (
    RPCStatusCode.UNAVAILABLE,
    RPCStatusCode.DEADLINE_EXCEEDED,
    RPCStatusCode.RESOURCE_EXHAUSTED,
    RPCStatusCode.ABORTED,
)


class _UnknownAttempt(Exception):
    """A workflow task that has not yet seen this attempt's announcement answered."""


class Superseded(BaseException):
    """A newer attempt of this task has started; this one must stop.

    A `BaseException`, so `except Exception` in skill code lets it through.
    """


class AwaitingInput(BaseException):
    """Raised through the skill to end the attempt while it waits for an answer.

    A `BaseException`, so `except Exception` in skill code lets it through.
    """

    def __init__(self, parked: Parked) -> None:
        super().__init__(f"waiting for an answer to {parked.question_id}")
        self.parked = parked


class AttemptLink:
    """Sends an attempt's updates to its task's workflow.

    Args:
        client: Temporal client of the activity.
        task_id: The task's workflow id.
        token: This attempt's token.
        announce: For a retried attempt, why it was retried: the attempt
            announces itself before any other update.
        on_cancel: Called once when the workflow says the task was cancelled.
        on_superseded: Called once when a newer attempt replaced this one.
        stall_after: Seconds the event loop may stand still before `stalled` says
            this attempt may have been replaced (None: never).
    """

    def __init__(
        self,
        client: Client,
        task_id: str,
        token: AttemptToken,
        *,
        announce: str | None = None,
        on_cancel: Callable[[], None],
        on_superseded: Callable[[], None],
        stall_after: float | None = None,
    ) -> None:
        self.handle: WorkflowHandle[Any, Any] = client.get_workflow_handle(task_id)
        self.token = token
        self._announce = announce
        self._on_cancel = on_cancel
        self._on_superseded = on_superseded
        self._registered: asyncio.Task[None] | None = None
        self._watch: asyncio.Task[None] | None = None
        self.superseded = False
        self.cancel_requested = False
        self._stall_after = stall_after
        self._clock: asyncio.Task[None] | None = None
        self._ticked = time.monotonic()
        self._stalled = False

    async def __aenter__(self) -> Self:
        """Announce a retried attempt and start the cancel watch."""
        if self._announce is not None:
            start = AttemptStart(token=self.token, reason=self._announce)
            self._registered = asyncio.create_task(
                self._send(ATTEMPT_UPDATE, start, None, f"attempt-{self._suffix()}")
            )
        self._watch = asyncio.create_task(self._watch_cancel())
        if self._stall_after is not None:
            self._clock = asyncio.create_task(self._tick(self._stall_after))
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop watching; let an announcement in flight land (its `retry` event tells why)."""
        if self._registered is not None and not self._registered.done():
            with contextlib.suppress(BaseException):
                async with asyncio.timeout(_ANNOUNCE_GRACE):
                    await asyncio.shield(self._registered)
        for task in (self._watch, self._registered, self._clock):
            if task is None:
                continue
            if not task.done():
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
            elif not task.cancelled() and (error := task.exception()) is not None:
                activity.logger.warning("attempt bookkeeping failed: %r", error)

    async def ready(self) -> None:
        """Wait until a retried attempt has announced itself (older attempts are fenced off)."""
        if self._registered is not None:
            await asyncio.shield(self._registered)

    def stalled(self) -> bool:
        """Whether the event loop stood still over `stall_after` s since the last check."""
        if self._stall_after is None:
            return False
        return self._stalled or time.monotonic() - self._ticked > self._stall_after

    def clear_stall(self) -> None:
        """The workflow confirmed this attempt after a stall."""
        self._stalled = False
        self._ticked = time.monotonic()

    async def _tick(self, stall_after: float) -> None:
        """Notice the event loop standing still (the process paused) for over `stall_after` s."""
        while True:
            before = time.monotonic()
            await asyncio.sleep(min(stall_after / 4, 0.25))
            if time.monotonic() - before > stall_after:
                self._stalled = True
            self._ticked = time.monotonic()

    def _suffix(self) -> str:
        return f"{self.token.run}-{self.token.attempt}"

    def update_id(self, kind: str, number: int | str) -> str:
        """An update id unique to this attempt, so a resent update is not applied twice."""
        return f"{kind}-{self._suffix()}-{number}"

    async def update(
        self, name: str, arg: Any, result_type: type[_T], update_id: str | None = None
    ) -> _T:
        """Send update `name` once this attempt is announced.

        Raises:
            Superseded: A newer attempt replaced this one.
            CancelledByCaller: The task was cancelled (e.g. while waiting for an answer).
            InfrastructureError: Temporal could not be reached.
        """
        await self.ready()
        result: _T = await self._send(name, arg, result_type, update_id)
        return result

    async def _send(
        self, name: str, arg: Any, result_type: type[Any] | None, update_id: str | None
    ) -> Any:
        for _ in range(_UNKNOWN_ATTEMPT_TRIES):
            try:
                return await self._send_once(name, arg, result_type, update_id)
            except _UnknownAttempt:
                await asyncio.sleep(_RETRY_PAUSE)
        raise InfrastructureError(f"the task's workflow does not know attempt {self._suffix()}")

    async def _send_once(
        self, name: str, arg: Any, result_type: type[Any] | None, update_id: str | None
    ) -> Any:
        try:
            return await self.handle.execute_update(
                name, arg, id=update_id, result_type=result_type
            )
        except WorkflowUpdateFailedError as err:
            cause = err.cause
            kind = cause.type if isinstance(cause, ApplicationError) else None
            if kind == UNKNOWN_ATTEMPT_ERROR_TYPE:
                raise _UnknownAttempt from None
            if kind == SUPERSEDED_ERROR_TYPE:
                self.superseded = True
                raise Superseded(str(cause)) from None
            if kind == TASK_CANCELED_ERROR_TYPE:
                raise CancelledByCaller(str(cause)) from None
            raise
        except WorkflowUpdateRPCTimeoutOrCancelledError as err:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise asyncio.CancelledError(f"update {name} was abandoned") from None
            raise InfrastructureError(f"Temporal did not answer update {name}: {err}") from None
        except RPCError as err:
            if err.status in _TRANSIENT or _workflow_task_failed(err):
                raise InfrastructureError(f"Temporal is unreachable: {err.message}") from None
            raise

    async def _watch_cancel(self) -> None:
        await asyncio.sleep(WATCH_AFTER)
        while True:
            try:
                outcome = await self.update(
                    WATCH_UPDATE, self.token, str, self.update_id("watch", 0)
                )
                break
            except Superseded:
                outcome = "superseded"
                break
            except (InfrastructureError, RPCError):
                await asyncio.sleep(_RETRY_PAUSE)
        if outcome == "canceled":
            self.cancel_requested = True
            self._on_cancel()
        elif outcome == "superseded":
            self.superseded = True
            self._on_superseded()


def _workflow_task_failed(err: RPCError) -> bool:
    """The server dropped the update with the workflow task carrying it (WorkflowNotReady).

    It happens when the server restarts under a running task; the update was not
    applied and may be sent again.
    """
    return err.status == RPCStatusCode.FAILED_PRECONDITION and "workflow task failure" in (
        err.message
    )


async def previous_failure(client: Client, task_id: str) -> str:
    """Why the previous attempt of this activity ended, as the server recorded it."""
    info = activity.info()
    try:
        description = await client.get_workflow_handle(task_id).describe()
    except RPCError:
        return "the previous attempt ended without a result"
    for pending in description.raw_description.pending_activities:
        if pending.activity_id != info.activity_id or not pending.HasField("last_failure"):
            continue
        failure = pending.last_failure
        if failure.HasField("timeout_failure_info"):
            kind = failure.timeout_failure_info.timeout_type
            if kind == TimeoutType.TIMEOUT_TYPE_HEARTBEAT:
                seconds = info.heartbeat_timeout.total_seconds() if info.heartbeat_timeout else 0
                return f"worker lost: no heartbeat for {seconds:g}s"
            return f"attempt timed out ({TimeoutType.Name(kind)})"
        return failure.message or "the previous attempt failed"
    return "the previous attempt ended without a result"
