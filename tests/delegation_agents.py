"""Agents that pass a caller's identity down a chain of calls, for the delegation tests."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from a2a_temporal import A2AAgent, RunContext, ScopedAuth, skill


class Hop(BaseModel):
    agent: str
    scopes: list[str] | None = None


class Route(BaseModel):
    hops: list[Hop] = []
    then: str = "whoami"


class Relay(A2AAgent):
    """Says who it runs as, then calls the next hop, narrowing the scopes when told."""

    name = "relay_a"
    auth_model = ScopedAuth

    @skill(retries=0)
    async def whoami(self, ctx: RunContext[ScopedAuth], args: Route) -> list[dict[str, Any]]:
        """This hop's identity, then the next hops' (or why the next call failed)."""
        auth = ctx.auth
        me: dict[str, Any] = {
            "agent": ctx.agent,
            "subject": auth.subject,
            "scopes": sorted(auth.scopes),
            "actors": list(auth.actors),
        }
        if not args.hops:
            if args.then == "whoami":
                return [me]
            result = await ctx.call(self.name, args.then)
            return [me, {"status": result.status, "error": result.error}]
        hop, rest = args.hops[0], args.hops[1:]
        next_args = {"hops": [h.model_dump() for h in rest], "then": args.then}
        result = await ctx.call(hop.agent, "whoami", args=next_args, scopes=hop.scopes)
        if not result.ok:
            return [me, {"status": result.status, "error": result.error}]
        return [me, *result.output]

    @skill(retries=0, scopes=("admin",))
    async def admin_only(self, ctx: RunContext[ScopedAuth]) -> str:
        """Needs the `admin` scope."""
        return f"admin work for {ctx.auth.subject}"

    @skill(retries=0)
    async def impersonate(self, ctx: RunContext[ScopedAuth]) -> dict[str, Any]:
        """Try to become root and another task, then call an admin-only skill."""
        refused = []
        for field, value in (
            ("auth", ScopedAuth(subject="root", scopes=("admin",))),
            ("task_id", "victim.task/0"),
        ):
            try:
                setattr(ctx, field, value)
            except AttributeError:
                refused.append(field)
        result = await ctx.call(self.name, "admin_only", scopes=["admin"])
        return {"refused": refused, "admin": result.status, "subject": ctx.auth.subject}


class RelayB(Relay):
    name = "relay_b"


class RelayC(Relay):
    name = "relay_c"


class RelayD(Relay):
    name = "relay_d"


class Who(BaseModel):
    """An identity model that keeps no actor chain."""

    model_config = ConfigDict(extra="forbid")

    subject: str


class Depth(BaseModel):
    n: int


class Recurser(A2AAgent):
    """Calls itself `n` times; its auth model drops the chain, the runtime keeps it."""

    name = "recurser"
    auth_model = Who

    @skill(retries=0)
    async def down(self, ctx: RunContext[Who], args: Depth) -> list[str]:
        """`ok` per level reached, then why the next call did not run."""
        if args.n == 0:
            return ["ok"]
        result = await ctx.call(self.name, "down", args={"n": args.n - 1})
        return ["ok", *(result.output if result.ok else [str(result.error)])]


DELEGATION_AGENTS = [Relay(), RelayB(), RelayC(), RelayD(), Recurser()]
