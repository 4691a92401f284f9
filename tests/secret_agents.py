"""An agent that declares a secret, uses it, and lets it slip into an exception."""

from __future__ import annotations

from a2a_temporal import A2AAgent, NoAuth, RunContext, skill

SECRET = "s3cr3t-token-9f2c71"


class Keeper(A2AAgent):
    """Talks to a service with the `TOKEN` secret."""

    name = "keeper"
    secrets = ("TOKEN",)

    @skill(retries=1)
    async def refused(self, ctx: RunContext[NoAuth]) -> str:
        """Streams, then fails with the token in the exception's message (twice: one retry)."""
        token = ctx.secret("TOKEN")
        await ctx.emit_progress("connecting")
        await ctx.emit_text_delta("hello ")
        raise PermissionError(f"the service refused token {token} (token={token[:4]}...)")

    @skill(retries=0)
    async def uses(self, ctx: RunContext[NoAuth]) -> str:
        """Uses the token without showing it."""
        token = ctx.secret("TOKEN")
        await ctx.emit_text_delta(f"signed with a key of {len(token)} characters")
        await ctx.write_artifact("report.txt", b"signed")
        return "ok"


KEEPERS = [Keeper()]
