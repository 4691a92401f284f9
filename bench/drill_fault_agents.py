"""Agents the worker-kill, server-restart and worker-pause drills run (`FAULT_AGENTS`)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from pydantic import BaseModel

from a2a_temporal import A2AAgent, NoAuth, RunContext, skill
from bench.drill_io_agents import part_bytes


class Job(BaseModel):
    steps: int
    part_kib: int
    pause: float
    marks: str


class Echo(BaseModel):
    text: str
    marks: str


def mark(path: str, key: str) -> None:
    """The drills' side effect: append `<unix time> <key>` to `path` (counted afterwards)."""
    with Path(path).open("a") as out:
        out.write(f"{time.time()} {key}\n")


def progress(index: int) -> str:
    """The progress message `Stepper.run` emits after step `index`."""
    return f"step {index}"


class Stepper(A2AAgent):
    """A job of several steps: each marks once, calls the callee, writes an artifact, reports."""

    name = "stepper"

    @skill(retries=0)
    async def run(self, ctx: RunContext[NoAuth], args: Job) -> list[str]:
        """Run `steps` steps `pause` s apart, asking a question halfway; return the replies."""
        replies = []
        for index in range(args.steps):
            await ctx.step("mark", mark, args.marks, f"{ctx.task_id}#{index}")
            reply = await ctx.call("callee", "echo", args={"text": f"{index}", "marks": args.marks})
            replies.append(str(reply.output))
            await ctx.write_artifact(
                f"part-{index}.bin", part_bytes(ctx.task_id, index, args.part_kib)
            )
            await ctx.emit_progress(progress(index))
            if index == args.steps // 2:
                replies.append(await ctx.ask(f"go on after step {index}?"))
            await asyncio.sleep(args.pause)
        return replies


class Callee(A2AAgent):
    """What the stepper calls: marks once (a step) and echoes."""

    name = "callee"

    @skill(retries=0)
    async def echo(self, ctx: RunContext[NoAuth], args: Echo) -> str:
        """Mark once under this call's task id, return the text."""
        await ctx.step("mark", mark, args.marks, ctx.task_id)
        return args.text


FAULT_AGENTS = [Stepper(), Callee()]
