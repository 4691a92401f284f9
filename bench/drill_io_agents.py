"""Agents the S3-outage, gateway-kill and load drills run (workers load `IO_AGENTS`)."""

from __future__ import annotations

import asyncio
import hashlib
import time
from pathlib import Path

from pydantic import BaseModel

from a2a_temporal import A2AAgent, NoAuth, RunContext, skill
from bench.agents import Streamer, Trivial


class Writes(BaseModel):
    parts: int
    part_kib: int
    output_kib: int
    pause: float
    log_dir: str


class Paced(BaseModel):
    n: int
    per_second: float


class Hold(BaseModel):
    seconds: float
    log: str


def part_bytes(task_id: str, index: int, kib: int) -> bytes:
    """The bytes `Writer.write` stores as part `index` of task `task_id` (checked afterwards)."""
    seed = hashlib.sha256(f"{task_id}/{index}".encode()).digest()
    return (seed * (kib * 1024 // len(seed) + 1))[: kib * 1024]


def big_output(task_id: str, kib: int) -> str:
    """The output `Writer.write` returns: over 256 KiB, so it is kept in S3."""
    return (task_id + ";") * (kib * 1024 // (len(task_id) + 1) + 1)


def paced_text(n: int) -> str:
    """The text `Pacer.paced` streams: `0 1 2 ... n-1 `."""
    return "".join(f"{i} " for i in range(n))


def _append(path: str | Path, line: str) -> None:
    with Path(path).open("a") as out:
        out.write(line + "\n")


class Writer(A2AAgent):
    """Writes artifacts and returns a large output, one side effect journaled per task."""

    name = "writer"

    @skill(retries=0)
    async def write(self, ctx: RunContext[NoAuth], args: Writes) -> str:
        """Mark once (a step), then write `parts` artifacts `pause` s apart; log each write."""
        logs = Path(args.log_dir)
        await ctx.step("mark", _append, str(logs / "marks.log"), ctx.task_id)
        for index in range(args.parts):
            data = part_bytes(ctx.task_id, index, args.part_kib)
            await ctx.write_artifact(f"part-{index}.bin", data)
            _append(logs / "writes.log", f"{time.time()} {ctx.task_id} {index}")
            await ctx.emit_progress(f"wrote {index}")
            await asyncio.sleep(args.pause)
        return big_output(ctx.task_id, args.output_kib)


class Pacer(A2AAgent):
    """Streams text deltas at a steady rate (a model writing its answer)."""

    name = "pacer"

    @skill(retries=0)
    async def paced(self, ctx: RunContext[NoAuth], args: Paced) -> int:
        """Emit `n` text deltas `<i> `, `per_second` a second."""
        started = time.monotonic()
        for i in range(args.n):
            await ctx.emit_text_delta(f"{i} ")
            wait = started + (i + 1) / args.per_second - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
        return args.n


class Holder(A2AAgent):
    """Holds a slot for a while and logs when it held it (for the slot-limit test)."""

    name = "holder"

    @skill(retries=0)
    async def hold(self, ctx: RunContext[NoAuth], args: Hold) -> None:
        """Log `start end` of `seconds` held."""
        started = time.time()
        await asyncio.sleep(args.seconds)
        _append(Path(args.log), f"{started} {time.time()}")


IO_AGENTS = [Trivial(), Streamer(), Writer(), Pacer(), Holder()]
