"""The `ctx.step`s of a task and what its runs spent, kept by `SkillRunWorkflow`.

A base class of the workflow (Temporal collects inherited handlers), like the
question handlers. Steps arrive in batches (`a2a.steps`); a re-run reads them
back with the `a2a.steps` query. When the task continues as new the records
go to its journal and the usage is carried on.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from pydantic import TypeAdapter
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from a2a_temporal.core.names import is_descendant
    from a2a_temporal.core.types import StepRecord, Usage
    from a2a_temporal.temporal import wire
    from a2a_temporal.temporal.journal import (
        MAX_STEPS_PER_BATCH,
        STEP_INLINE_LIMIT,
        step_object_prefix,
    )
    from a2a_temporal.temporal.models import AttemptToken, CarriedRun, StepBatch


__all__ = ["StepHandlers", "StepLog"]

_JSON: TypeAdapter[Any] = TypeAdapter(Any)


class StepLog:
    """A task's recorded steps (since its journal was written) and its usage."""

    def __init__(self, carried: CarriedRun) -> None:
        self.records = {record.key: record for record in carried.steps}
        self.superseded = list(carried.superseded_steps)
        self.usage = carried.usage
        self.calls_usage = dict(carried.calls_usage)

    @property
    def total(self) -> Usage:
        """What the skill's runs and the task's ended calls spent."""
        return sum(self.calls_usage.values(), self.usage)

    def apply(self, batch: StepBatch) -> None:
        """Record a batch: its steps (superseded ones as tombstones), usage and ended calls."""
        for record in batch.records:
            self.records[record.key] = record
            if record.superseded:
                if record.key not in self.superseded:
                    self.superseded.append(record.key)
            else:
                self.usage = self.usage + record.usage
        self.usage = self.usage + batch.usage
        for task_id, usage in batch.calls.items():
            self.add_call(task_id, usage)

    def add_call(self, task_id: str, usage: Usage) -> None:
        """Count what an ended call (and its subtree) spent; once per call, however often told.

        An empty report (a cancelled child's, whose usage is not known here)
        does not replace one the attempt gave.
        """
        if not usage.empty or task_id not in self.calls_usage:
            self.calls_usage[task_id] = usage

    def archived(self) -> list[StepRecord]:
        """Hand the records over to the journal; forget them here."""
        records, self.records = list(self.records.values()), {}
        return records


class StepHandlers(ABC):
    """The update that records steps and the query a re-run reads them with."""

    _steps: StepLog

    @abstractmethod
    def _check_token(self, token: AttemptToken) -> None:
        """Refuse a request from an attempt that is not the current one."""

    @workflow.update(name=wire.STEPS_UPDATE)
    def record_steps(self, batch: StepBatch) -> None:
        """Record the steps an attempt finished, and the usage it recorded outside them."""
        self._steps.apply(batch)

    @record_steps.validator
    def _check_steps(self, batch: StepBatch) -> None:
        self._check_token(batch.token)
        if len(batch.records) > MAX_STEPS_PER_BATCH or len(batch.calls) > MAX_STEPS_PER_BATCH:
            raise ValueError(f"at most {MAX_STEPS_PER_BATCH} steps and calls per batch")
        prefix = step_object_prefix(workflow.info().workflow_id)
        for record in batch.records:
            if record.stored is not None and not record.stored.startswith(prefix):
                raise ValueError(f"step {record.key!r} names a value outside {prefix}")
            if record.stored is None and len(_JSON.dump_json(record.value)) > STEP_INLINE_LIMIT:
                raise ValueError(
                    f"step {record.key!r} holds over {STEP_INLINE_LIMIT} bytes: store it in S3"
                )
        for task_id in batch.calls:
            if not is_descendant(task_id, workflow.info().workflow_id):
                raise ValueError(f"{task_id!r} is not a call of this task")

    @workflow.query(name=wire.STEPS_QUERY)
    def recorded_steps(self) -> list[StepRecord]:
        """The steps recorded since the task's journal was written."""
        return list(self._steps.records.values())
