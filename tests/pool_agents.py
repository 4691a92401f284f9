"""Two agents meant for two worker pools on different task queues, calling each other."""

from __future__ import annotations

from pydantic import BaseModel

from a2a_temporal import A2AAgent, NoAuth, RunContext, skill


class Text(BaseModel):
    text: str


class Pinger(A2AAgent):
    """Starts the round trip and echoes for the other pool."""

    name = "pinger"
    tags = ("pool-a",)

    @skill(retries=0)
    async def ping(self, ctx: RunContext[NoAuth], args: Text) -> str:
        """Call `ponger.pong`, which calls back `pinger.echo`."""
        reply = await ctx.call("ponger", "pong", args=args)
        assert reply.ok, reply.error
        return f"ping({reply.output})"

    @skill(retries=0)
    async def echo(self, ctx: RunContext[NoAuth], args: Text) -> str:
        """Upper-case the text."""
        return args.text.upper()


class Ponger(A2AAgent):
    """Answers pings by calling back into the first pool."""

    name = "ponger"
    tags = ("pool-b",)

    @skill(retries=0)
    async def pong(self, ctx: RunContext[NoAuth], args: Text) -> str:
        """Call `pinger.echo` (hosted by the other pool only)."""
        found = await ctx.discover.find(tag="pool-a")
        echo = await ctx.call("pinger", "echo", args=args)
        assert echo.ok, echo.error
        return f"pong({echo.output}, found={[card.name for card in found]})"


POOL_A = [Pinger()]
POOL_B = [Ponger()]
