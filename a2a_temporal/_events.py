"""Batched, coalescing publication of a task's events to its workflow stream."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, Self

from temporalio.contrib.workflow_streams import WorkflowStreamClient

from a2a_temporal._event_replay import Divergence, EventReplay, SentEvent, effective_events
from a2a_temporal.models import EVENTS_TOPIC, EventRecord
from a2a_temporal.types import AgentEvent

__all__ = ["EventPublisher", "sent_events"]

_PROGRESS_DETAILS_INTERVAL = 1.0


class EventPublisher:
    """Buffers events and flushes them as one signal per batch interval.

    Consecutive `text_delta` events are merged into one before sending, so a
    token stream costs a handful of signals, not one per token.

    Args:
        stream: Stream client of the task's workflow.
        interval: Longest time an event waits before it is sent.
        on_progress: Called with the latest progress message at most once a second.
        replay: For a retried or resumed attempt, which runs the skill again:
            matches its events against those already sent (see `sent_events`).
    """

    def __init__(
        self,
        stream: WorkflowStreamClient,
        interval: float,
        on_progress: Callable[[str], Awaitable[None]] | None = None,
        replay: EventReplay | None = None,
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
        self._replay = replay
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
        if self._replay is not None and self._replay.active:
            self._release(*self._replay.offer(event))
        else:
            self._queue(event)

    def finish_replay(self) -> None:
        """The skill returned: say which earlier events it did not emit again."""
        if self._replay is not None:
            self._release(*self._replay.finish())

    def _release(self, divergence: Divergence | None, events: list[AgentEvent]) -> None:
        if divergence is not None:
            self.announce(divergence.event())
        for event in events:
            self._queue(event)

    def _queue(self, event: AgentEvent) -> None:
        last = self._pending[-1] if self._pending else None
        if event.kind == "text_delta" and last is not None and last.kind == "text_delta":
            last.payload["text"] = last.payload.get("text", "") + event.payload.get("text", "")
            last.seq = self.emitted
        else:
            record = EventRecord(kind=event.kind, payload=dict(event.payload), seq=self.emitted)
            self._pending.append(record)
        if event.kind == "progress":
            self._latest_progress = str(event.payload.get("message", ""))
        self._wake.set()

    def announce(self, event: AgentEvent) -> None:
        """Queue an event of the runtime itself (not counted as one of the skill's)."""
        self._pending.append(EventRecord(kind=event.kind, payload=dict(event.payload)))
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


async def sent_events(stream: WorkflowStreamClient) -> list[SentEvent]:
    """Return the skill's events earlier attempts got onto the task's stream that still stand."""
    end = await stream.get_offset()
    records: list[tuple[int, str, dict[str, Any], bool]] = []
    if end == 0:
        return []
    async for item in stream.subscribe([EVENTS_TOPIC], result_type=EventRecord):
        record = item.data
        records.append((item.offset, record.kind, record.payload, record.seq > 0))
        if item.offset >= end - 1:
            break
    return effective_events(records)
