"""An attempt's durable steps: recorded ones looked up, new ones sent to the workflow in batches.

Steps finished in one event-loop turn go to the task's workflow as one
`a2a.steps` update, with the usage recorded since the last batch; a step's
`ctx.step` returns only once its record is in the workflow. A value over
`STEP_INLINE_LIMIT` bytes of JSON is stored in S3 (under a key naming its
digest, so no attempt overwrites another's) and the workflow keeps the key.
A re-run reads the records once: from the task's journal (earlier runs) and
from its workflow (this one). Superseding a step records a tombstone for each
step an earlier attempt recorded from there on, so no later run replays them.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from typing import Any

import structlog
from temporalio.client import Client

from a2a_temporal.core.types import StepRecord, Usage
from a2a_temporal.errors import InfrastructureError
from a2a_temporal.temporal._attempt import AttemptLink
from a2a_temporal.temporal._batches import TurnBatcher
from a2a_temporal.temporal.artifacts import storage_errors
from a2a_temporal.temporal.journal import (
    STEP_INLINE_LIMIT,
    JournalView,
    step_object_key,
    step_object_prefix,
)
from a2a_temporal.temporal.models import StepBatch
from a2a_temporal.temporal.storage import ObjectStore
from a2a_temporal.temporal.wire import STEPS_QUERY, STEPS_UPDATE

__all__ = ["StepBook"]

_log = structlog.get_logger("a2a_temporal.steps")


class _StepBatcher(TurnBatcher[StepRecord, None]):
    """Sends the steps of one turn, and the usage recorded since the last, as one update."""

    def __init__(self, link: AttemptLink, book: StepBook) -> None:
        super().__init__(link)
        self._book = book

    async def _send(self, batch: list[tuple[StepRecord, asyncio.Future[None]]]) -> None:
        await self._book.send([record for record, _ in batch])
        for _, future in batch:
            if not future.done():
                future.set_result(None)


class StepBook:
    """The steps of one attempt's task.

    Args:
        link: The attempt's link to its workflow.
        client: For the workflow's query of this run's steps.
        store: Where large values go.
        task_id: The task.
        journal: The records of earlier runs (continue-as-new).
        rerun: Whether any step may have been recorded before (else none is looked up).
    """

    def __init__(
        self,
        link: AttemptLink,
        client: Client,
        store: ObjectStore,
        task_id: str,
        journal: JournalView,
        rerun: bool,
    ) -> None:
        self._link = link
        self._client = client
        self._store = store
        self._task_id = task_id
        self._journal = journal
        self._earlier: dict[str, StepRecord] | None = None if rerun else {}
        self._loading: asyncio.Task[dict[str, StepRecord]] | None = None
        self._batcher = _StepBatcher(link, self)
        self._pending_usage = Usage()
        self._pending_calls: dict[str, Usage] = {}
        self._batches = 0

    async def recorded(self, key: str) -> StepRecord | None:
        """The record of step `key` from an earlier attempt or run, if one stands."""
        earlier = await self._earlier_records()
        record = earlier.get(key)
        return None if record is None or record.superseded else record

    async def _earlier_records(self) -> dict[str, StepRecord]:
        if self._earlier is None:
            if self._loading is None:
                self._loading = asyncio.ensure_future(self._load())
            self._earlier = await asyncio.shield(self._loading)
        return self._earlier

    async def _load(self) -> dict[str, StepRecord]:
        await self._link.ready()
        handle = self._client.get_workflow_handle(self._task_id)
        current: list[StepRecord] = await handle.query(STEPS_QUERY, result_type=list[StepRecord])
        return {**self._journal.steps(), **{record.key: record for record in current}}

    async def value(self, record: StepRecord) -> Any:
        """A record's value (read from S3 when it was stored there, under this task only)."""
        if record.stored is None:
            return record.value
        if not record.stored.startswith(step_object_prefix(self._task_id)):
            raise InfrastructureError(
                f"step {record.key!r} names a value outside this task's steps ({record.stored})"
            )
        try:
            with storage_errors():
                data = await self._store.get(record.stored)
        except FileNotFoundError:
            raise InfrastructureError(
                f"the value of step {record.key!r} is missing from the bucket ({record.stored})"
            ) from None
        return json.loads(data)

    async def record(self, record: StepRecord) -> None:
        """Make `record` durable (its value stored first when large); return once it is."""
        data = json.dumps(record.value, separators=(",", ":")).encode()
        if len(data) > STEP_INLINE_LIMIT:
            digest = hashlib.sha256(data).hexdigest()[:16]
            key = step_object_key(self._task_id, record.key, digest)
            with storage_errors():
                await self._store.put_bytes(key, data, "application/json")
            record = record.model_copy(update={"value": None, "stored": key})
        await self._batcher.submit(record)

    async def supersede(self, from_seq: int) -> list[str]:
        """Replace the steps earlier attempts recorded from order `from_seq` on; their names."""
        earlier = await self._earlier_records()
        dropped = sorted(
            (r for r in earlier.values() if r.seq >= from_seq and not r.superseded),
            key=lambda r: r.seq,
        )
        tombstones = [StepRecord(key=r.key, seq=r.seq, digest="", superseded=True) for r in dropped]
        for tombstone in tombstones:
            earlier[tombstone.key] = tombstone
        if tombstones:
            await self.send(tombstones)
        return [record.key for record in dropped]

    def add_usage(self, usage: Usage) -> None:
        """Usage recorded outside a step: sent with the next batch, or by `flush`."""
        self._pending_usage = self._pending_usage + usage

    def add_call(self, task_id: str, usage: Usage) -> None:
        """What a call that ended spent: sent with the next batch, or by `flush`."""
        self._pending_calls[task_id] = usage

    async def send(self, records: list[StepRecord]) -> None:
        """One `a2a.steps` update with `records`, and the usage and ended calls pending."""
        usage, self._pending_usage = self._pending_usage, Usage()
        calls, self._pending_calls = self._pending_calls, {}
        self._batches += 1
        try:
            await self._link.update(
                STEPS_UPDATE,
                StepBatch(token=self._link.token, records=records, usage=usage, calls=calls),
                type(None),
                self._link.update_id("steps", self._batches),
            )
        except BaseException:
            self._pending_usage = usage + self._pending_usage
            self._pending_calls = {**calls, **self._pending_calls}
            raise

    async def flush(self) -> None:
        """Send the usage still pending (the attempt is ending); log it when it cannot be."""
        if self._pending_usage.empty and not self._pending_calls:
            return
        try:
            await self.send([])
        except Exception as exc:
            _log.warning(
                "usage_not_recorded", usage=self._pending_usage.model_dump(), error=str(exc)
            )

    async def aclose(self) -> None:
        """Stop sending."""
        await self._batcher.aclose()
