"""Agents the benchmarks run."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

from pydantic import BaseModel

from a2a_temporal import A2AAgent, AgentEvent, CancelledByCaller, NoAuth, RunContext, skill


class Text(BaseModel):
    text: str


class Count(BaseModel):
    n: int


class Rate(BaseModel):
    per_second: float
    seconds: float


class Blobs(BaseModel):
    count: int
    mib: int


class Trivial(A2AAgent):
    name = "trivial"

    @skill
    async def noop(self, ctx: RunContext[NoAuth], args: Text) -> str:
        return args.text.upper()

    @skill
    async def range(self, ctx: RunContext[NoAuth], args: Count) -> list[str]:
        return [f"i{i}" for i in range(args.n)]

    @skill
    async def fan(self, ctx: RunContext[NoAuth], args: Count) -> list[str]:
        results = await asyncio.gather(
            *(ctx.call("trivial", "noop", args={"text": f"t{i}"}) for i in range(args.n))
        )
        return [r.output for r in results]


class Streamer(A2AAgent):
    name = "streamer"
    cancelled_at: dict[str, float] = {}  # noqa: RUF012 - read by the cancel bench

    @skill(retries=0)
    async def deltas(self, ctx: RunContext[NoAuth], args: Count) -> int:
        """Emit n text deltas in bursts of 10 (about 2,000 a second), each stamped."""
        await _burst(args.n, lambda i: ctx.emit_event(_stamped_delta(f"{i} ")))
        return args.n

    @skill(retries=0)
    async def stamped(self, ctx: RunContext[NoAuth], args: Count) -> int:
        """As `deltas`, with each delta's emit time in its text: `<i>@<unix time> `."""
        await _burst(args.n, lambda i: ctx.emit_text_delta(f"{i}@{time.time():.6f} "))
        return args.n

    @skill(retries=0)
    async def steady(self, ctx: RunContext[NoAuth], args: Rate) -> int:
        """Emit `per_second` stamped text deltas a second for `seconds` (an LLM-like stream)."""
        sent = 0
        started = time.monotonic()
        while time.monotonic() - started < args.seconds:
            await ctx.emit_event(_stamped_delta(f"{sent} "))
            sent += 1
            await asyncio.sleep(1 / args.per_second)
        return sent

    @skill(retries=0)
    async def wait(self, ctx: RunContext[NoAuth], args: Count) -> str:
        await ctx.emit_progress("waiting")
        try:
            await asyncio.sleep(args.n)
        except CancelledByCaller:
            Streamer.cancelled_at[ctx.task_id] = time.monotonic()
            raise
        return "not cancelled"


def _stamped_delta(text: str) -> AgentEvent:
    return AgentEvent("text_delta", {"text": text, "t": time.time()})


async def _burst(n: int, emit: Callable[[int], Awaitable[None]]) -> None:
    """Call `emit` n times in bursts of 10 with a short pause between bursts."""
    for i in range(n):
        await emit(i)
        if i % 10 == 9:
            await asyncio.sleep(0.005)


class Artifacts(A2AAgent):
    name = "artifacts"

    @skill(retries=0)
    async def many(self, ctx: RunContext[NoAuth], args: Blobs) -> float:
        """Write `count` artifacts of `mib` MiB; return the seconds the writes took."""
        data = b"a" * (args.mib * 1024 * 1024)
        started = time.perf_counter()
        for i in range(args.count):
            await ctx.write_artifact(f"blob-{i}.bin", data)
        return time.perf_counter() - started

    @skill(retries=0)
    async def stream(self, ctx: RunContext[NoAuth], args: Blobs) -> int:
        chunk = b"s" * (1024 * 1024)

        def chunks() -> Iterator[bytes]:
            for _ in range(args.mib):
                yield chunk

        ref = await ctx.write_artifact_stream("stream.bin", chunks())
        return ref.size_bytes


class Url(BaseModel):
    url: str


class Remote(A2AAgent):
    name = "remote"

    @skill(retries=0)
    async def timed_call(self, ctx: RunContext[NoAuth], args: Url) -> float:
        """`ctx.call` the remote A2A agent at the URL once; return how long the call took."""
        started = time.perf_counter()
        result = await ctx.call(args.url, "upper", args={"text": "x"})
        elapsed = time.perf_counter() - started
        if result.output != "X":
            raise RuntimeError(f"the remote call returned {result.status}: {result.error}")
        return elapsed


class Marker(BaseModel):
    path: str


class Recovery(A2AAgent):
    name = "recovery"

    @skill(retries=5)
    async def mark(self, ctx: RunContext[NoAuth], args: Marker) -> int:
        """Append the start time; the first run then hangs until its worker is killed."""
        log = Path(args.path)
        first = not log.exists()
        with log.open("a") as out:
            out.write(f"{time.time()}\n")
        if first:
            await asyncio.sleep(300)
        return len(log.read_text().splitlines())


BENCH_AGENTS = [Trivial(), Streamer(), Artifacts(), Recovery(), Remote()]
