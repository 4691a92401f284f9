"""How often an attempt sends its event batches, so its task's history stays bounded.

Each batch costs a handful of history events (the update, a workflow task,
each subscriber's poll). A skill that streams for minutes sends a batch every
`base` seconds. Once its task has used a quarter of the history budget, the
interval stretches so that the rest of the budget lasts until the attempt's
deadline at the cost per batch measured so far: an hour of streaming stays
within Temporal's limits, with batches a second or so apart instead of 150 ms.

Pure: no I/O, unit-tested on its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from a2a_temporal.temporal.models import PublishAck

__all__ = ["BYTES_BUDGET", "Pacing"]

BYTES_BUDGET = 40 * 1024 * 1024
_BURST_SHARE = 0.25
_ASSUMED_EVENTS_PER_BATCH = 10.0
_ASSUMED_BYTES_PER_BATCH = 4096.0


@dataclass
class Pacing:
    """Chooses the wait before the next batch from the acks of the batches sent.

    Args:
        base: Interval while the history is small.
        deadline: When the attempt must end (a `time.monotonic()` value).
        budget_events: History length the attempt may reach.
        budget_bytes: History size the attempt may reach.
        longest: Upper bound of the interval.
    """

    base: float
    deadline: float
    budget_events: int
    budget_bytes: int = BYTES_BUDGET
    longest: float = 30.0
    first: PublishAck | None = None
    last: PublishAck | None = None
    acks: int = 0

    def record(self, ack: PublishAck) -> None:
        """Take the history size the workflow reported after a batch."""
        if self.first is None:
            self.first = ack
        self.last = ack
        self.acks += 1

    def interval(self, now: float) -> float:
        """Seconds to wait before sending the next batch."""
        last, first = self.last, self.first
        if last is None or first is None:
            return self.base
        if (
            last.history_length < self.budget_events * _BURST_SHARE
            and last.history_bytes < self.budget_bytes * _BURST_SHARE
        ):
            return self.base
        batches = max(1, self.acks - 1)
        per_batch_events = (
            (last.history_length - first.history_length) / batches
            if self.acks > 1
            else _ASSUMED_EVENTS_PER_BATCH
        )
        per_batch_bytes = (
            (last.history_bytes - first.history_bytes) / batches
            if self.acks > 1
            else _ASSUMED_BYTES_PER_BATCH
        )
        remaining = max(0.0, self.deadline - now)
        left_events = self.budget_events - last.history_length
        left_bytes = self.budget_bytes - last.history_bytes
        if left_events <= 0 or left_bytes <= 0:
            return self.longest
        needed = max(
            remaining * max(per_batch_events, 1.0) / left_events,
            remaining * max(per_batch_bytes, 1.0) / left_bytes,
        )
        return min(max(self.base, needed), self.longest)
