"""Oversized arguments and results: stored aside, or refused at once with a clear error."""

from __future__ import annotations

from pydantic import BaseModel

from a2a_temporal import A2AAgent, InMemoryA2AClient, NoAuth, RunContext, skill
from a2a_temporal.testing import DevStack
from tests.temporal_helpers import history, running, skill_attempts

MIB = 2**20


class Text(BaseModel):
    text: str


class Measurer(A2AAgent):
    """Takes big text; returns a little, or a lot."""

    name = "measurer"

    @skill(retries=2)
    async def size(self, ctx: RunContext[NoAuth], args: Text) -> int:
        """How long the text is."""
        return len(args.text)

    @skill(retries=2)
    async def words(self, ctx: RunContext[NoAuth], args: Text) -> list[str]:
        """Every word: about twice the text's size as JSON."""
        return args.text.split()


async def test_big_args_are_offloaded_and_too_big_results_fail_at_once(stack: DevStack) -> None:
    three, thirty = "ab " * (MIB + 1), "a " * (15 * MIB)
    async with running(stack, [Measurer()]) as client:
        small = await client.call("measurer", "size", args={"text": three})
        large = await client.call("measurer", "size", args={"text": thirty})
        too_big = await client.call("measurer", "words", args={"text": thirty})
        attempts = skill_attempts(await history(client, too_big.task_id))
    local = await InMemoryA2AClient([Measurer()]).call("measurer", "words", args={"text": thirty})
    assert (small.status, small.output) == ("completed", len(three))
    assert (large.status, large.output) == ("completed", len(thirty))
    expected = (
        "OutputNotSerializable: skill 'words' returned 60.0 MiB of JSON, over the 50 MiB a "
        "result may hold; write it with ctx.write_artifact and return its name"
    )
    assert (too_big.status, too_big.error) == ("failed", expected)
    assert attempts == 1, "not retried: it would be too big again"
    assert (local.status, local.error) == ("failed", expected), "the same in-process"
