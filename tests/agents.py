"""Agents used by the tests."""

from __future__ import annotations

import asyncio

from pydantic import BaseModel, Field

from a2a_temporal import A2AAgent, NoAuth, RunContext, ScopedAuth, skill


class Text(BaseModel):
    text: str


class Count(BaseModel):
    n: int = Field(ge=0, le=1000)


class Words(BaseModel):
    words: list[str]
    count: int


class Delay(BaseModel):
    seconds: float


class Splitter(A2AAgent):
    """Splits text into words."""

    name = "splitter"
    tags = ("text",)
    capabilities = ("tokenize",)

    @skill(description="Split text on whitespace.", tags=("nlp",))
    async def split(self, ctx: RunContext[NoAuth], args: Text) -> Words:
        await ctx.emit_progress("splitting", fraction=0.5)
        words = args.text.split()
        return Words(words=words, count=len(words))

    @skill
    async def upper(self, ctx: RunContext[NoAuth], args: Text) -> str:
        """Upper-case the text."""
        return args.text.upper()


class Analyst(A2AAgent):
    """Counts words through the splitter."""

    name = "analyst"
    tags = ("text", "report")

    @skill
    async def report(self, ctx: RunContext[NoAuth], args: Text) -> dict[str, object]:
        """Split the text through the splitter, upper-case it too, write a report."""
        split, upper = await asyncio.gather(
            ctx.call("splitter", "split", args={"text": args.text}),
            ctx.call("splitter", "upper", args=args),
        )
        assert split.ok and upper.ok
        report = f"{split.output['count']} words: {upper.output}"
        ref = await ctx.write_artifact("report.txt", report.encode(), "text/plain")
        return {"report": report, "artifact": ref.uri, "children": [split.task_id, upper.task_id]}

    @skill
    async def nested(self, ctx: RunContext[NoAuth], args: Count) -> int:
        """Call itself recursively n levels deep."""
        if args.n == 0:
            return 0
        child = await ctx.call("analyst", "nested", args=Count(n=args.n - 1))
        return int(child.output) + 1


class Slow(A2AAgent):
    """Sleeps, for cancellation and timeouts."""

    name = "slow"

    @skill(retries=0)
    async def sleep(self, ctx: RunContext[NoAuth], args: Delay) -> str:
        """Sleep for the given time."""
        await ctx.emit_progress("sleeping")
        await asyncio.sleep(args.seconds)
        return "woke"

    @skill(retries=0)
    async def poll(self, ctx: RunContext[NoAuth], args: Delay) -> str:
        """Loop calling check_cancelled."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + args.seconds
        while loop.time() < deadline:
            ctx.check_cancelled()
            await asyncio.sleep(0.01)
        return "done"

    @skill(retries=0)
    async def delegate(self, ctx: RunContext[NoAuth], args: Delay) -> str:
        """Call slow.sleep and wait for it."""
        result = await ctx.call("slow", "sleep", args=args)
        return result.status


class Flaky(A2AAgent):
    """Fails a set number of times before it succeeds."""

    name = "flaky"

    def __init__(self, failures: int = 1) -> None:
        self.failures = failures
        self.attempts = 0

    @skill(retries=2)
    async def work(self, ctx: RunContext[NoAuth]) -> int:
        """Fail `failures` times, then return the attempt count."""
        self.attempts += 1
        if self.attempts <= self.failures:
            raise ValueError(f"boom {self.attempts}")
        return self.attempts

    @skill(retries=0, timeout=0.2)
    async def hang(self, ctx: RunContext[NoAuth]) -> None:
        """Outlive the skill timeout."""
        await asyncio.sleep(5)


class Vault(A2AAgent):
    """Needs scopes and secrets."""

    name = "vault"
    auth_model = ScopedAuth
    workspace_access = "write"

    @skill(scopes=("vault:read",))
    async def reveal(self, ctx: RunContext[ScopedAuth], args: Text) -> str:
        """Return the length of a named secret."""
        return f"{ctx.auth.subject}:{len(ctx.secret(args.text))}"

    @skill
    async def admin(self, ctx: RunContext[ScopedAuth]) -> str:
        """Check scopes inside the handler."""
        ctx.require_scopes("vault:admin", "vault:read")
        return "ok"

    @skill
    async def store(self, ctx: RunContext[ScopedAuth], args: Text) -> list[str]:
        """Write to the workspace and list it."""
        await ctx.workspace.write("notes/a.txt", args.text.encode())
        return await ctx.workspace.list("notes/")
