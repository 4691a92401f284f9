"""A user's own workflow and codec, sharing a worker with AgentPlugin."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel
from temporalio import workflow
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

WRAPPED = b"binary/user-wrapped"


class UserCodec(PayloadCodec):
    """Wraps every payload (a stand-in for a user's encryption codec)."""

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [
            Payload(metadata={"encoding": WRAPPED}, data=payload.SerializeToString())
            for payload in payloads
        ]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        decoded = []
        for payload in payloads:
            if payload.metadata.get("encoding") == WRAPPED:
                inner = Payload()
                inner.ParseFromString(payload.data)
                decoded.append(inner)
            else:
                decoded.append(payload)
        return decoded


class Strict(BaseModel):
    n: int


@workflow.defn(name="user.Validates")
class UserValidates:
    """The user's workflow: a pydantic error in it is a bug to fix, not a final failure."""

    @workflow.run
    async def run(self, value: str) -> int:
        return Strict.model_validate({"n": value}).n
