"""Batched, coalescing publication of an attempt's events to its task's stream."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Coroutine, Sequence
from types import TracebackType
from typing import Any, Self

from temporalio.common import MetricMeter
from temporalio.contrib.workflow_streams import WorkflowStreamClient

from a2a_temporal.core.types import AgentEvent
from a2a_temporal.temporal import metrics
from a2a_temporal.temporal._attempt import AttemptLink, Superseded
from a2a_temporal.temporal._event_replay import Divergence, EventReplay, SentEvent, effective_events
from a2a_temporal.temporal._pacing import Pacing
from a2a_temporal.temporal.journal import ArchivedEvent
from a2a_temporal.temporal.models import EventRecord, PublishAck, PublishBatch
from a2a_temporal.temporal.tracing import span
from a2a_temporal.temporal.wire import EVENTS_TOPIC, PUBLISH_UPDATE

__all__ = ["EventPublisher", "sent_events"]

_MAX_BATCH_CHARS = 512 * 1024
_MAX_MERGED_TEXT = 64 * 1024


class EventPublisher:
    """Buffers events and sends them as one `publish` update per interval.

    Consecutive `text_delta` events are merged into one (of at most 64 Ki
    characters) before sending, so a token stream costs a handful of updates,
    not one per token; the interval
    comes from `pacing`, which stretches it when the task's history grows.

    Args:
        link: The attempt's link to its workflow.
        pacing: Chooses the interval between batches.
        replay: For an attempt that runs the skill again (a retry or a resume):
            loads the events already on the stream, to match the re-run's
            events against (see `sent_events`). The skill starts at once;
            its events wait until this is loaded.
        on_failure: Called when a batch cannot be delivered (the error is
            then raised from `flush` and on exit).
        meter: Where delivered batches' sizes are counted (`metrics.EVENT_BYTES`).
    """

    def __init__(
        self,
        link: AttemptLink,
        pacing: Pacing,
        replay: Callable[[], Coroutine[Any, Any, EventReplay]] | None = None,
        on_failure: Callable[[BaseException], None] | None = None,
        meter: MetricMeter = MetricMeter.noop,
    ) -> None:
        self._link = link
        self._meter = meter
        self._pacing = pacing
        self._load_replay = replay
        self._on_failure = on_failure
        self._replay: EventReplay | None = None
        self._replay_task: asyncio.Task[EventReplay] | None = None
        self._early: list[tuple[AgentEvent | None, str | None]] = []
        self._pending: list[EventRecord] = []
        self._pending_chars = 0
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self._flusher: asyncio.Task[None] | None = None
        self._batches = 0
        self._inflight: tuple[str, list[EventRecord]] | None = None
        self.failure: BaseException | None = None
        self.emitted = 0

    async def __aenter__(self) -> Self:
        """Start loading the replay (if any) and the background flusher."""
        if self._load_replay is not None:
            self._replay_task = asyncio.create_task(self._load_replay())
        self._flusher = asyncio.create_task(self._run())
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop the flusher and send what is left (unless this attempt can no longer send)."""
        if self._flusher is not None:
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
        if self.failure is not None or self._link.superseded:
            if exc_type is None:
                raise self.failure or Superseded("a newer attempt of this task started")
            return
        try:
            await self.flush()
        except Exception:
            if exc_type is None:
                raise
        finally:
            if self._replay_task is not None and not self._replay_task.done():
                self._replay_task.cancel()
                with contextlib.suppress(BaseException):
                    await self._replay_task

    def publish(self, event: AgentEvent, step: str | None = None) -> None:
        """Queue one of the skill's events (emitted inside `step`, if any)."""
        self.emitted += 1
        if self._replay_task is not None and self._replay is None:
            self._early.append((event, step))
        else:
            self._offer(event, step)
        self._wake.set()

    def skip_step(self, step: str) -> None:
        """A re-run got step `step`'s recorded value: its earlier events are not coming again."""
        if self._replay_task is not None and self._replay is None:
            self._early.append((None, step))
        elif self._replay is not None:
            self._replay.skip_step(step)

    def _offer(self, event: AgentEvent | None, step: str | None) -> None:
        if event is None:
            if self._replay is not None and step is not None:
                self._replay.skip_step(step)
        elif self._replay is not None and self._replay.active:
            divergence, events = self._replay.offer(event)
            self._release(divergence, events, step)
        else:
            self._queue(event, step)

    async def finish_replay(self) -> None:
        """The skill returned: say which earlier events it did not emit again."""
        await self._ready()
        if self._replay is not None:
            self._release(*self._replay.finish())

    async def _ready(self) -> None:
        """Wait for the replay to load, then pass the events held meanwhile through it."""
        if self._replay_task is None or self._replay is not None:
            return
        self._replay = await asyncio.shield(self._replay_task)
        early, self._early = self._early, []
        for event, step in early:
            self._offer(event, step)

    def _release(
        self, divergence: Divergence | None, events: list[AgentEvent], step: str | None = None
    ) -> None:
        if divergence is not None:
            self.announce(divergence.event())
        for event in events:
            self._queue(event, step)

    def _queue(self, event: AgentEvent, step: str | None = None) -> None:
        last = self._pending[-1] if self._pending else None
        text = str(event.payload.get("text", "")) if event.kind == "text_delta" else ""
        if (
            event.kind == "text_delta"
            and last is not None
            and last.kind == "text_delta"
            and last.step == step
            and len(last.payload.get("text", "")) + len(text) <= _MAX_MERGED_TEXT
        ):
            last.payload["text"] = last.payload.get("text", "") + text
            last.seq = self.emitted
            self._pending_chars += len(text)
        else:
            record = EventRecord(
                kind=event.kind, payload=dict(event.payload), seq=self.emitted, step=step
            )
            self._pending.append(record)
            self._pending_chars += len(str(record.payload))
        if self._pending_chars >= _MAX_BATCH_CHARS:
            self._wake.set()

    def announce(self, event: AgentEvent) -> None:
        """Queue an event of the runtime itself (not counted as one of the skill's)."""
        self._pending.append(EventRecord(kind=event.kind, payload=dict(event.payload)))
        self._wake.set()

    async def flush(self) -> None:
        """Send every queued event now and wait until the workflow has them.

        Raises:
            Superseded: A newer attempt replaced this one.
            InfrastructureError: Temporal could not be reached.
        """
        await self._ready()
        while self._inflight is not None or self._pending:
            await self._send_batch()

    async def _send_batch(self) -> None:
        """Send one batch: an interrupted one again, else everything queued.

        An interrupted batch keeps its update id, so the workflow applies it once.
        """
        if self.failure is not None:
            raise self.failure
        await self._ready()
        async with self._lock:
            if self._inflight is None:
                if not self._pending:
                    return
                batch, self._pending, self._pending_chars = self._pending, [], 0
                self._batches += 1
                self._inflight = (self._link.update_id("publish", self._batches), batch)
            update_id, records = self._inflight
            with span("a2a.events", events=len(records)):
                ack = await self._link.update(
                    PUBLISH_UPDATE,
                    PublishBatch(token=self._link.token, records=records),
                    PublishAck,
                    update_id,
                )
            self._inflight = None
            self._pacing.record(ack)
            size = sum(len(record.model_dump_json()) for record in records)
            metrics.count(self._meter, metrics.EVENT_BYTES, size)

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            if self._pending_chars < _MAX_BATCH_CHARS:
                await asyncio.sleep(self._pacing.interval(time.monotonic()))
            self._wake.clear()
            try:
                await self._send_batch()
            except BaseException as exc:
                if isinstance(exc, asyncio.CancelledError):
                    raise
                self.failure = exc
                if self._on_failure is not None:
                    self._on_failure(exc)
                return


async def sent_events(
    stream: WorkflowStreamClient, archived: Sequence[ArchivedEvent] = (), start: int = 0
) -> list[SentEvent]:
    """Return the skill's events earlier attempts got onto the task's stream that still stand.

    Args:
        stream: The task's stream.
        archived: The events its journal holds (those at offsets below `start`).
        start: Where on the stream the events the journal does not hold begin.
    """
    end = await stream.get_offset()
    records = [(e.offset, e.kind, e.payload, e.from_skill) for e in archived]
    steps = {e.offset: e.step for e in archived if e.step}
    if end <= start:
        return effective_events(records, steps)
    async for item in stream.subscribe([EVENTS_TOPIC], from_offset=start, result_type=EventRecord):
        record = item.data
        records.append((item.offset, record.kind, record.payload, record.seq > 0))
        if record.step:
            steps[item.offset] = record.step
        if item.offset >= end - 1:
            break
    return effective_events(records, steps)
