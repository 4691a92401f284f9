"""An agent written strictly against the seed contract's signatures (DESIGN.md section 1)."""

from __future__ import annotations

from pydantic import BaseModel

from a2a_temporal import (
    A2AAgent,
    A2AClient,
    AgentEvent,
    ArtifactRef,
    CallResult,
    MissingScopes,
    RunContext,
    ScopedAuth,
    skill,
)


class Job(BaseModel):
    word: str


class Conformant(A2AAgent):
    """Uses every method of the contract the way the contract declares it."""

    name = "conformant"
    tags = ("conformance",)
    auth_model = ScopedAuth
    workspace_access = "write"

    @skill(scopes=("conf:run",), retries=0)
    async def exercise(self, ctx: RunContext[ScopedAuth], args: Job) -> dict[str, object]:
        """Touch every part of the contract and report what it saw."""
        await ctx.check_cancelled()
        ctx.require_scopes(["conf:run"])
        try:
            ctx.require_scopes(["conf:run", "conf:admin"])
            missing: tuple[str, ...] = ()
        except MissingScopes as exc:
            missing = exc.missing
        await ctx.emit_event(AgentEvent("custom", {"word": args.word}))
        await ctx.emit_progress(f"working on {args.word}")
        await ctx.emit_text_delta("hello ")
        await ctx.emit_text_delta(args.word)
        ref: ArtifactRef = await ctx.write_artifact("out.txt", args.word.encode(), "text/plain")
        await ctx.emit_artifact(ref)
        await ctx.emit_error("a minor problem", code="E_MINOR")
        token = ctx.secret("TOKEN")
        try:
            ctx.secret("MISSING")
            unknown_secret = ""
        except KeyError as exc:
            unknown_secret = str(exc)
        await ctx.workspace.write(f"{args.word}.txt", b"noted")
        listed = await ctx.workspace.list(args.word)
        ran = await ctx.sandbox.run(
            ["cat", "in.txt"], files={"in.txt": args.word.encode()}, stdin=None, timeout=30.0
        )
        sandbox = [ran.exit_code, ran.stdout.decode()]
        found = [card.name for card in await ctx.discover.find(tag="conformance")]
        echoed: CallResult = await ctx.call(
            "conformant", "echo", args={"word": args.word}, grant=None, timeout=60.0
        )
        has_client = isinstance(ctx._a2a_client(), A2AClient)
        return {
            "subject": ctx.auth.subject,
            "task_id_is_str": isinstance(ctx.task_id, str) and bool(ctx.task_id),
            "missing": list(missing),
            "artifact": [ref.name, ref.mime_type, ref.size_bytes],
            "token_length": len(token),
            "unknown_secret": "MISSING" in unknown_secret,
            "listed": listed,
            "sandbox": sandbox,
            "found": found,
            "echo": [echoed.status, echoed.output],
            "has_client": has_client,
        }

    @skill(scopes=("conf:run",), retries=0)
    async def echo(self, ctx: RunContext[ScopedAuth], args: Job) -> str:
        """Return the word, upper-cased, as seen by a callee."""
        await ctx.check_cancelled()
        return f"{args.word.upper()} for {ctx.auth.subject}"
