"""Values kept in S3 outside any history, encoded like payloads (so encrypted when they are).

A task's journal and the webhooks of an ended task live in the bucket. They
go through the client's data converter, payload codec included and external
storage left out (they are in S3 already): with payload encryption on, the
bucket holds only ciphertext.
"""

from __future__ import annotations

import dataclasses
from typing import TypeVar

from temporalio.api.common.v1 import Payloads
from temporalio.converter import DataConverter

__all__ = ["SEALED_MIME_TYPE", "SealedValues"]

SEALED_MIME_TYPE = "application/x-protobuf"

T = TypeVar("T")


class SealedValues:
    """Encodes values to bytes and back with a client's data converter.

    Args:
        converter: The data converter of the client the workers use.
    """

    def __init__(self, converter: DataConverter) -> None:
        self._converter = dataclasses.replace(converter, external_storage=None)

    async def dump(self, value: object) -> bytes:
        """`value` as bytes to store."""
        payloads = await self._converter.encode([value])
        return Payloads(payloads=payloads).SerializeToString()

    async def load(self, data: bytes, kind: type[T]) -> T:
        """The value `dump` made `data` from.

        Raises:
            TypeError: `data` does not hold a `kind`.
        """
        try:
            payloads = Payloads.FromString(data).payloads
            [value] = await self._converter.decode(payloads, [kind])
        except Exception as exc:  # a malformed object: protobuf, codec or JSON errors
            raise TypeError(f"not a stored {kind.__name__}: {exc}") from None
        if not isinstance(value, kind):
            raise TypeError(f"not a stored {kind.__name__}")
        return value
