"""Reading and writing task journals in S3, encoded by the client's data converter.

The journal holds what the task's history held before (answers, call
records, remembered values, events), so it goes through the same payload
codec: with payload encryption on, S3 holds only ciphertext.
"""

from __future__ import annotations

from temporalio.converter import DataConverter

from a2a_temporal.temporal.artifacts import storage_errors
from a2a_temporal.temporal.journal import Journal, JournalUpdate, journal_key
from a2a_temporal.temporal.models import JournalRef
from a2a_temporal.temporal.sealed import SEALED_MIME_TYPE, SealedValues
from a2a_temporal.temporal.storage import ObjectStore

__all__ = ["JournalStore"]


class JournalStore:
    """Task journals in the bucket.

    Args:
        store: The bucket.
        converter: The data converter of the client the workers use (its payload
            codec applies; large-payload storage does not, the journal is in S3).
    """

    def __init__(self, store: ObjectStore, converter: DataConverter) -> None:
        self._store = store
        self._sealed = SealedValues(converter)

    async def read(self, ref: JournalRef) -> Journal:
        """The journal `ref` points at.

        Raises:
            InfrastructureError: S3 failed.
            FileNotFoundError: The object is missing.
        """
        with storage_errors():
            data = await self._store.get(ref.key)
        return await self._sealed.load(data, Journal)

    async def extend(self, update: JournalUpdate) -> JournalRef:
        """Write the previous journal with `update`'s records added; return where it is.

        The key depends only on the task and the generation, so a retried
        write replaces the same object with the same content.
        """
        previous = await self.read(update.previous) if update.previous else Journal()
        journal = previous.merged(update)
        data = await self._sealed.dump(journal)
        key = journal_key(update.task_id, update.generation)
        with storage_errors():
            await self._store.put_bytes(key, data, SEALED_MIME_TYPE)
        return JournalRef(
            key=key,
            calls=max(journal.calls, default=-1) + 1,
            events=update.events_before,
        )
