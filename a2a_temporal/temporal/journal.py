"""A task's journal: what re-runs of its skill replay instead of asking its workflow again.

Pure models. When a task continues as new, its workflow hands the records of
its earlier runs (answered questions, started calls, remembered values and
the skill's events) to an activity that stores them in S3 as one object,
and carries only a `JournalRef` on. An attempt reads the journal once when it
starts and answers its re-run's questions, calls and `ctx._remember`s from
it, so the workflow keeps, and continue-as-new carries, a bounded state.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from a2a_temporal.core.types import StepRecord
from a2a_temporal.temporal.models import CallStarted, JournalRef, QuestionState

__all__ = [
    "MAX_STEPS_PER_BATCH",
    "MISSING",
    "STEP_INLINE_LIMIT",
    "ArchivedEvent",
    "Journal",
    "JournalUpdate",
    "JournalView",
    "journal_key",
    "step_object_key",
    "step_object_prefix",
]

STEP_INLINE_LIMIT = 4 * 1024
"""Bytes of JSON up to which a step's value is kept in the workflow itself (more: in S3)."""

MAX_STEPS_PER_BATCH = 1000
"""Step records (and ended calls) one `a2a.steps` update may carry."""


MISSING: Any = object()
"""What `JournalView.memo` returns for a key the journal does not hold."""


def journal_key(task_id: str, generation: int) -> str:
    """The S3 key of the journal a task wrote when it continued as new the `generation`th time."""
    return f"journals/{task_id}/{generation}.journal"


def step_object_prefix(task_id: str) -> str:
    """Where the large step values of task `task_id` are stored, and nothing else."""
    return f"tasks/{task_id}/steps/"


def step_object_key(task_id: str, key: str, value_digest: str) -> str:
    """The S3 key of step `key`'s value, named by its digest: no attempt overwrites another's."""
    return f"{step_object_prefix(task_id)}{key}.{value_digest}.json"


class ArchivedEvent(BaseModel):
    """An event a re-run's events are matched against (see `_event_replay`)."""

    offset: int
    kind: str
    payload: dict[str, Any]
    from_skill: bool
    step: str | None = None


class Journal(BaseModel):
    """The records themselves."""

    questions: dict[str, QuestionState] = Field(default_factory=dict)
    calls: dict[int, CallStarted] = Field(default_factory=dict)
    memo: dict[str, Any] = Field(default_factory=dict)
    events: list[ArchivedEvent] = Field(default_factory=list)
    steps: dict[str, StepRecord] = Field(default_factory=dict)

    def merged(self, update: JournalUpdate) -> Journal:
        """This journal with `update`'s records added (calls past `keep_calls` dropped)."""
        calls = {seq: call for seq, call in self.calls.items() if seq < update.keep_calls}
        calls.update((call.seq, call) for call in update.calls)
        return Journal(
            questions={**self.questions, **{q.id: q for q in update.questions}},
            calls=calls,
            memo={**self.memo, **update.memo},
            events=[*self.events, *update.events],
            steps={**self.steps, **{step.key: step for step in update.steps}},
        )


class JournalUpdate(BaseModel):
    """Input of the `archive_journal` activity: the records one run adds to the journal."""

    task_id: str
    generation: int
    previous: JournalRef | None = None
    keep_calls: int = Field(description="calls of the previous journal that still stand")
    questions: list[QuestionState] = Field(default_factory=list)
    calls: list[CallStarted] = Field(default_factory=list)
    memo: dict[str, Any] = Field(default_factory=dict)
    events: list[ArchivedEvent] = Field(default_factory=list)
    events_before: int = Field(description="the stream offset the events go up to")
    steps: list[StepRecord] = Field(default_factory=list)


class JournalView:
    """What one attempt replays from its task's journal (nothing when the task has none).

    Args:
        journal: The journal, read when the attempt started.
        ref: The reference the attempt was given (which calls still stand).
    """

    def __init__(self, journal: Journal | None = None, ref: JournalRef | None = None) -> None:
        self._journal = journal or Journal()
        self._calls_below = ref.calls if ref else 0

    @property
    def events(self) -> list[ArchivedEvent]:
        """The skill's events (and divergences) before the journal was written."""
        return self._journal.events

    def call(self, seq: int) -> CallStarted | None:
        """The recorded call number `seq`, if the journal holds it and it still stands."""
        return self._journal.calls.get(seq) if seq < self._calls_below else None

    def supersede_calls_from(self, seq: int) -> None:
        """The re-run departs at call `seq`: later records no longer stand."""
        self._calls_below = min(self._calls_below, seq)

    def steps(self) -> dict[str, StepRecord]:
        """The steps earlier runs recorded, by name (`name#occurrence`)."""
        return dict(self._journal.steps)

    def question(self, question_id: str) -> QuestionState | None:
        """The answered (or timed-out) question `question_id`, if the journal holds it."""
        return self._journal.questions.get(question_id)

    def memo(self, key: str) -> Any:
        """The value remembered under `key`, or `MISSING`."""
        return self._journal.memo.get(key, MISSING)
