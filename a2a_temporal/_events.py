"""Batched, coalescing publication of a task's events to its workflow stream."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Self

from temporalio.contrib.workflow_streams import WorkflowStreamClient

from a2a_temporal.models import EVENTS_TOPIC, EventRecord
from a2a_temporal.types import AgentEvent

__all__ = ["EventPublisher"]

_PROGRESS_DETAILS_INTERVAL = 1.0


class EventPublisher:
    """Buffers events and flushes them as one signal per batch interval.

    Consecutive `text_delta` events are merged into one before sending, so a
    token stream costs a handful of signals, not one per token.

    Args:
        stream: Stream client of the task's workflow.
        interval: Longest time an event waits before it is sent.
        on_progress: Called with the latest progress message at most once a second.
        suppress: How many of the first events to drop: an attempt resumed after
            waiting for an answer re-runs the skill, whose first events were
            already sent by the attempt before it.
    """

    def __init__(
        self,
        stream: WorkflowStreamClient,
        interval: float,
        on_progress: Callable[[str], Awaitable[None]] | None = None,
        suppress: int = 0,
    ) -> None:
        self._stream = stream
        self._topic = stream.topic(EVENTS_TOPIC, type=EventRecord)
        self._interval = interval
        self._on_progress = on_progress
        self._pending: list[EventRecord] = []
        self._wake = asyncio.Event()
        self._flusher: asyncio.Task[None] | None = None
        self._latest_progress: str | None = None
        self._progress_sent_at = 0.0
        self._suppress = suppress
        self.emitted = 0

    async def __aenter__(self) -> Self:
        """Start the background flusher."""
        self._flusher = asyncio.create_task(self._run())
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop the flusher and send what is left."""
        if self._flusher is not None:
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
        await self.flush(force_progress=True)

    def publish(self, event: AgentEvent) -> None:
        """Queue `event`; merges it into the previous one when both are text deltas."""
        self.emitted += 1
        if self.emitted <= self._suppress:
            return
        last = self._pending[-1] if self._pending else None
        if event.kind == "text_delta" and last is not None and last.kind == "text_delta":
            last.payload["text"] = last.payload.get("text", "") + event.payload.get("text", "")
        else:
            self._pending.append(EventRecord(kind=event.kind, payload=dict(event.payload)))
        if event.kind == "progress":
            self._latest_progress = str(event.payload.get("message", ""))
        self._wake.set()

    async def flush(self, *, force_progress: bool = False) -> None:
        """Send every queued event now and wait until the server has them."""
        batch, self._pending = self._pending, []
        for record in batch:
            self._topic.publish(record)
        await self._stream.flush()
        await self._report_progress(force=force_progress)

    async def _report_progress(self, *, force: bool) -> None:
        if self._on_progress is None or self._latest_progress is None:
            return
        now = time.monotonic()
        if force or now - self._progress_sent_at >= _PROGRESS_DETAILS_INTERVAL:
            message, self._latest_progress = self._latest_progress, None
            self._progress_sent_at = now
            await self._on_progress(message)

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            await asyncio.sleep(self._interval)
            self._wake.clear()
            await self.flush()
