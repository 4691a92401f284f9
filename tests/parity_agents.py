"""Skills that lean on asyncio's own cancellation machinery, for the parity tests."""

from __future__ import annotations

import asyncio

from pydantic import BaseModel

from a2a_temporal import A2AAgent, CancelledByCaller, MessageReply, NoAuth, RunContext, skill


class Seconds(BaseModel):
    seconds: float


class Asyncish(A2AAgent):
    """Uses timeouts, task groups, shields and calls with timeouts inside skills."""

    name = "asyncish"
    seen: list[str] = []  # noqa: RUF012 - read by the tests

    @skill(retries=0)
    async def reply(self, ctx: RunContext[NoAuth]) -> MessageReply:
        """Answer with a `MessageReply` (a message over A2A, an output elsewhere)."""
        return MessageReply(text="hi", data={"n": 1})

    @skill(retries=0)
    async def timeout_block(self, ctx: RunContext[NoAuth]) -> str:
        """`asyncio.timeout` around a long sleep."""
        try:
            async with asyncio.timeout(0.2):
                await asyncio.sleep(30)
        except TimeoutError:
            await ctx.emit_progress("timed out inside")
            return "caught TimeoutError"
        return "slept"

    @skill(retries=0)
    async def uncaught_timeout(self, ctx: RunContext[NoAuth]) -> str:
        """Let an `asyncio.timeout` escape the skill."""
        async with asyncio.timeout(0.2):
            await asyncio.sleep(30)
        return "slept"

    @skill(retries=0)
    async def wait_for(self, ctx: RunContext[NoAuth]) -> str:
        """`asyncio.wait_for` with a short limit."""
        try:
            await asyncio.wait_for(asyncio.sleep(30), 0.2)
        except TimeoutError:
            return "wait_for timed out"
        return "slept"

    @skill(retries=0)
    async def task_group(self, ctx: RunContext[NoAuth]) -> list[str]:
        """A task group whose member fails: the group holds only that error."""

        async def fail() -> None:
            await asyncio.sleep(0.05)
            raise ValueError("member failed")

        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(asyncio.sleep(30))
                group.create_task(fail())
        except ExceptionGroup as caught:
            return sorted(type(exc).__name__ for exc in caught.exceptions)
        return []

    @skill(retries=0)
    async def shielded(self, ctx: RunContext[NoAuth]) -> str:
        """A shielded section outlives the timeout that cancels its waiter."""

        async def work() -> str:
            await asyncio.sleep(0.4)
            return "finished"

        inner = asyncio.ensure_future(work())
        try:
            return await asyncio.wait_for(asyncio.shield(inner), 0.1)
        except TimeoutError:
            return f"shield kept working: {await inner}"

    @skill(retries=0)
    async def call_with_timeout(self, ctx: RunContext[NoAuth]) -> list[str | None]:
        """A call that outlives its timeout returns `canceled`; the skill goes on."""
        result = await ctx.call("asyncish", "sleepy", args=Seconds(seconds=60), timeout=1)
        await ctx.emit_progress("went on")
        return [result.status, result.error, result.task_id]

    @skill(retries=0)
    async def sleepy(self, ctx: RunContext[NoAuth], args: Seconds) -> str:
        """Sleep, recording how a cancel reaches the skill."""
        await ctx.emit_progress("sleeping")
        try:
            await asyncio.sleep(args.seconds)
        except asyncio.CancelledError as exc:
            Asyncish.seen.append(type(exc).__name__)
            raise
        return "woke"

    @skill(retries=0)
    async def catch_caller_cancel(self, ctx: RunContext[NoAuth], args: Seconds) -> str:
        """`except CancelledByCaller` around a wait catches only the caller's cancel."""
        await ctx.emit_progress("waiting")
        try:
            async with asyncio.timeout(0.1):
                await asyncio.sleep(1)
        except TimeoutError:
            Asyncish.seen.append("own timeout")
        await ctx.emit_progress("own timeout done")
        try:
            await asyncio.sleep(args.seconds)
        except CancelledByCaller:
            Asyncish.seen.append("caller cancel")
            raise
        return "not cancelled"


class Diarist(A2AAgent):
    """Logs through `ctx.log`, with a secret among the values."""

    name = "diarist"
    secrets = ("DIARY_KEY",)

    @skill(retries=0)
    async def note(self, ctx: RunContext[NoAuth]) -> str:
        """Log one line with a bound field and a secret value."""
        ctx.log.bind(step="one").info("noted", key=ctx.secret("DIARY_KEY"), n=1, more={"a": [1]})
        return "ok"


PARITY_AGENTS = [Asyncish()]
LOGGING_AGENTS = [Diarist()]
