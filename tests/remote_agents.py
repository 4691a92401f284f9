"""An agent whose skills call remote A2A agents by URL (hosted by in-process or spawned workers)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from a2a_temporal import A2AAgent, NoAuth, RunContext, skill


class Url(BaseModel):
    url: str
    text: str = "hi"


class Relay(A2AAgent):
    """Calls the agent at a URL and reports what came back."""

    name = "relay"

    @skill(retries=0)
    async def ask_remote(self, ctx: RunContext[NoAuth], args: Url) -> dict[str, Any]:
        """One `ctx.call` to a remote A2A agent."""
        result = await ctx.call(args.url, "", args={"text": args.text})
        return {"status": result.status, "output": result.output, "error": result.error}


RELAYS = [Relay()]
