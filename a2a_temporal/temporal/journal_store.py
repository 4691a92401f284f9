"""Reading and writing task journals in S3, encoded by the client's data converter.

The journal holds what the task's history held before (answers, call
records, remembered values, events), so it goes through the same payload
codec: with payload encryption on, S3 holds only ciphertext.
"""

from __future__ import annotations

import dataclasses

from temporalio.api.common.v1 import Payloads
from temporalio.converter import DataConverter

from a2a_temporal.temporal.artifacts import storage_errors
from a2a_temporal.temporal.journal import Journal, JournalUpdate, journal_key
from a2a_temporal.temporal.models import JournalRef
from a2a_temporal.temporal.storage import ObjectStore

__all__ = ["JournalStore"]

_MIME_TYPE = "application/x-protobuf"


class JournalStore:
    """Task journals in the bucket.

    Args:
        store: The bucket.
        converter: The data converter of the client the workers use (its payload
            codec applies; large-payload storage does not, the journal is in S3).
    """

    def __init__(self, store: ObjectStore, converter: DataConverter) -> None:
        self._store = store
        self._converter = dataclasses.replace(converter, external_storage=None)

    async def read(self, ref: JournalRef) -> Journal:
        """The journal `ref` points at.

        Raises:
            InfrastructureError: S3 failed.
            FileNotFoundError: The object is missing.
        """
        with storage_errors():
            data = await self._store.get(ref.key)
        [journal] = await self._converter.decode(Payloads.FromString(data).payloads, [Journal])
        if not isinstance(journal, Journal):
            raise TypeError(f"{ref.key} does not hold a journal")
        return journal

    async def extend(self, update: JournalUpdate) -> JournalRef:
        """Write the previous journal with `update`'s records added; return where it is.

        The key depends only on the task and the generation, so a retried
        write replaces the same object with the same content.
        """
        previous = await self.read(update.previous) if update.previous else Journal()
        journal = previous.merged(update)
        payloads = await self._converter.encode([journal])
        key = journal_key(update.task_id, update.generation)
        with storage_errors():
            await self._store.put_bytes(
                key, Payloads(payloads=payloads).SerializeToString(), _MIME_TYPE
            )
        return JournalRef(
            key=key,
            calls=max(journal.calls, default=-1) + 1,
            events=update.events_before,
        )
