"""Durable steps: what recording one costs, and what resuming after a question costs.

1. Per-step overhead: a skill that awaits ten trivial coroutines together, bare
   vs as `ctx.step`s (one batch, one update): p50 of the difference, per step.
2. Resume: a skill makes 50 steps (each a counted "model request"), asks a
   question and parks; after the answer, how long until its result, and how
   many requests the resumed run sent again (the target is 0).
3. With `--stored N`: a skill makes N steps of 100 KiB each (stored in S3),
   then asks and parks; after the answer the re-run replays all N. The task's
   history (length, bytes) is printed and replayed with Temporal's `Replayer`.
"""

from __future__ import annotations

import argparse
import asyncio
import time

from pydantic import BaseModel

from a2a_temporal import A2AAgent, NoAuth, RunContext, TemporalA2AClient, skill
from a2a_temporal.testing import DevStack
from bench.common import median


class Steps(BaseModel):
    n: int


class Stepper(A2AAgent):
    name = "stepper"

    def __init__(self) -> None:
        self.requests = 0

    async def _model(self, prompt: str) -> str:
        self.requests += 1
        return prompt.upper()

    @skill(retries=0)
    async def bare(self, ctx: RunContext[NoAuth], args: Steps) -> int:
        """Await `n` trivial coroutines together."""
        return len(await asyncio.gather(*(self._model(f"p{i}") for i in range(args.n))))

    @skill(retries=0)
    async def stepped(self, ctx: RunContext[NoAuth], args: Steps) -> int:
        """The same, each a step."""
        steps = (ctx.step("model", self._model, f"p{i}") for i in range(args.n))
        return len(await asyncio.gather(*steps))

    @skill(retries=0)
    async def stored(self, ctx: RunContext[NoAuth], args: Steps) -> int:
        """`n` steps of 100 KiB, a question, then the sum of their lengths."""
        total = 0
        for i in range(args.n):
            total += len(await ctx.step("blob", _blob, i))
        await ctx.ask("go on?")
        return total

    @skill(retries=0)
    async def resume(self, ctx: RunContext[NoAuth], args: Steps) -> str:
        """`n` steps one after another, then a question."""
        for i in range(args.n):
            await ctx.step("model", self._model, f"p{i}")
        return await ctx.ask("go on?")


async def _p50(client: TemporalA2AClient, skill_name: str, n: int, runs: int) -> float:
    times = []
    for i in range(runs + 5):  # five warm-ups
        started = time.perf_counter()
        result = await client.call("stepper", skill_name, args={"n": n})
        assert result.ok, result.error
        if i >= 5:
            times.append(time.perf_counter() - started)
    return median(times)


async def _resume(client: TemporalA2AClient, agent: Stepper, n: int) -> tuple[float, int]:
    handle = await client.start("stepper", "resume", args={"n": n})
    async for event in handle.events():
        if event.kind == "question":
            while (await handle.state()).parked_on is None:
                await asyncio.sleep(0.02)
            before = agent.requests
            started = time.perf_counter()
            await handle.answer(str(event.payload["id"]), "yes")
            result = await handle.result()
            assert result.ok, result.error
            return time.perf_counter() - started, agent.requests - before
    raise AssertionError("the skill never asked")


def _blob(i: int) -> str:
    return f"{i:06d}" + "x" * (100 * 1024 - 6)


async def _stored(client: TemporalA2AClient, n: int) -> None:
    from temporalio.worker import Replayer

    from a2a_temporal.worker.plugin import AgentPlugin

    started = time.perf_counter()
    handle = await client.start("stepper", "stored", args={"n": n})
    async for event in handle.events():
        if event.kind == "question":
            while (await handle.state()).parked_on is None:
                await asyncio.sleep(0.05)
            await handle.answer(str(event.payload["id"]), "yes")
    result = await handle.result()
    assert result.ok, result.error
    assert result.output == n * 100 * 1024
    took = time.perf_counter() - started
    histories = [
        h async for h in client.temporal.list_workflows(f"WorkflowId = '{handle.task_id}'")
    ]
    replayer = Replayer(workflows=[], plugins=[AgentPlugin([Stepper()], client.settings)])
    for run in histories:
        history = await client.temporal.get_workflow_handle(
            handle.task_id, run_id=run.run_id
        ).fetch_history()
        await replayer.replay_workflow(history)
        size = sum(event.ByteSize() for event in history.events)
        print(
            f"{n} steps of 100 KiB, a park and a resume: {took:.1f} s; run {run.run_id[:8]}: "
            f"{len(history.events)} history events, {size / 1024:.0f} KiB, replayed"
        )


async def main(runs: int, stored: int) -> None:
    agent = Stepper()
    async with (
        DevStack(ui=False) as stack,
        stack.worker([agent], task_queue="bench-steps", input_park_after="PT0.2S") as client,
    ):
        bare = await _p50(client, "bare", 10, runs)
        stepped = await _p50(client, "stepped", 10, runs)
        resumed, resent = await _resume(client, agent, 50)
        if stored:
            await _stored(client, stored)
    per_step = (stepped - bare) / 10 * 1000
    print(
        f"10 steps in one batch, p50 over {runs} runs: {stepped * 1000:.1f} ms vs "
        f"{bare * 1000:.1f} ms bare: {per_step:.1f} ms per step (target <= 10)"
    )
    print(
        f"resuming a 50-step skill after its question: {resumed * 1000:.0f} ms to the result, "
        f"{resent} model requests sent again (target 0)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--stored", type=int, default=0, help="also N steps of 100 KiB each")
    args = parser.parse_args()
    asyncio.run(main(args.runs, args.stored))
