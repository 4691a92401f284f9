"""Keeping a task's continue-as-new state bounded: records go to its journal, the stream is trimmed.

At continue-as-new a task hands the records its future re-runs replay
(answered questions, calls, remembered values, the skill's events) to the
`archive_journal` activity, which stores them in S3, and carries on only a
reference; its event stream keeps the newest events, within a count and a
size, for subscribers that are behind.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.contrib.workflow_streams import WorkflowStream

with workflow.unsafe.imports_passed_through():
    from a2a_temporal.core.types import StepRecord
    from a2a_temporal.temporal import wire
    from a2a_temporal.temporal.journal import ArchivedEvent, JournalUpdate
    from a2a_temporal.temporal.models import (
        CallStarted,
        CarriedRun,
        EventRecord,
        JournalRef,
        QuestionState,
        SkillOptions,
    )

__all__ = ["RETAINED_EVENTS", "RETAINED_WIRE_BYTES", "Archivist", "trim_stream"]

RETAINED_EVENTS = 500
RETAINED_WIRE_BYTES = 64 * 1024
_ARCHIVE_TIMEOUT = timedelta(seconds=60)


class Archivist:
    """The journal a task has, and the replayable events emitted since it was written."""

    def __init__(self, carried: CarriedRun) -> None:
        self.ref = carried.journal
        self._events: list[ArchivedEvent] = []

    def note(self, offset: int, record: EventRecord) -> None:
        """Keep an event a re-run matches its own against (the skill's, and divergences)."""
        if record.seq > 0 or record.kind == "diverged":
            self._events.append(
                ArchivedEvent(
                    offset=offset,
                    kind=record.kind,
                    payload=record.payload,
                    from_skill=record.seq > 0,
                    step=record.step,
                )
            )

    async def archive(
        self,
        *,
        generation: int,
        questions: list[QuestionState],
        calls: list[CallStarted],
        keep_calls: int,
        memo: dict[str, Any],
        events_before: int,
        options: SkillOptions,
        steps: list[StepRecord],
    ) -> JournalRef:
        """Store the journal with this run's records added (in an activity); return where."""
        update = JournalUpdate(
            task_id=workflow.info().workflow_id,
            generation=generation,
            previous=self.ref,
            keep_calls=keep_calls,
            questions=questions,
            calls=calls,
            memo=memo,
            events=self._events,
            events_before=events_before,
            steps=steps,
        )
        ref: JournalRef = await workflow.execute_activity(
            wire.ARCHIVE_JOURNAL_ACTIVITY,
            update,
            result_type=JournalRef,
            task_queue=options.task_queue,
            start_to_close_timeout=_ARCHIVE_TIMEOUT,
            retry_policy=RetryPolicy(
                initial_interval=timedelta(seconds=options.infra_backoff_seconds),
                maximum_interval=timedelta(seconds=30),
                maximum_attempts=options.infra_retries + 1,
            ),
            summary=f"archive {len(questions)} questions, {len(calls)} calls",
        )
        self.ref = ref
        self._events = []
        return ref


def trim_stream(stream: WorkflowStream) -> None:
    """Drop all but the newest events, at most `RETAINED_EVENTS` and `RETAINED_WIRE_BYTES`."""
    state = stream.get_state()
    kept, size = 0, 0
    for item in reversed(state.log):
        size += len(item.data)
        if kept == RETAINED_EVENTS or size > RETAINED_WIRE_BYTES:
            break
        kept += 1
    stream.truncate(state.base_offset + len(state.log) - kept)
