"""Agents the exposure tests attack: artifacts, workspaces, sandbox floods."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from a2a_temporal import A2AAgent, ArtifactRef, NoAuth, RunContext, ScopedAuth, skill
from a2a_temporal.sandbox.interface import SandboxSpec

MIB = 2**20


class Foreign(BaseModel):
    uri: str


class Leaker(A2AAgent):
    """Stores one artifact, then announces artifacts whose URIs point elsewhere."""

    name = "leaker"

    @skill(retries=0)
    async def leak(self, ctx: RunContext[NoAuth], args: Foreign) -> str:
        """Write `own.txt`; announce `stolen.txt` and `own.txt` at `args.uri`."""
        await ctx.write_artifact("own.txt", b"mine", "text/plain")
        await ctx.emit_artifact(ArtifactRef("stolen.txt", args.uri, "text/plain", 5))
        await ctx.emit_artifact(ArtifactRef("own.txt", args.uri, "text/plain", 5))
        return "announced"


class Note(BaseModel):
    text: str


class Notes(A2AAgent):
    """Keeps a note in an anonymous caller's workspace and reports what was there before."""

    name = "notes"
    workspace_access = "write"

    @skill(retries=0)
    async def keep(self, ctx: RunContext[NoAuth], args: Note) -> dict[str, Any]:
        """What `notes.txt` held before (None when absent); then write `args.text` there."""
        return await _keep(ctx, args.text)


class SignedNotes(A2AAgent):
    """`Notes` for callers with a subject."""

    name = "signed-notes"
    auth_model = ScopedAuth
    workspace_access = "write"

    @skill(retries=0)
    async def keep(self, ctx: RunContext[ScopedAuth], args: Note) -> dict[str, Any]:
        """What `notes.txt` held before (None when absent); then write `args.text` there."""
        return await _keep(ctx, args.text)


async def _keep(ctx: RunContext[Any], text: str) -> dict[str, Any]:
    try:
        before: str | None = (await ctx.workspace.read("notes.txt")).decode()
    except FileNotFoundError:
        before = None
    await ctx.workspace.write("notes.txt", text.encode())
    return {"before": before, "files": await ctx.workspace.list()}


FLOOD = (
    "import sys\n"
    "sys.stderr.write('e\\n' * (1 << 19)); sys.stderr.flush()\n"
    "sys.stdout.write('x' * (1 << 20)); sys.stdout.flush()\n"
)


class Flooder(A2AAgent):
    """Runs sandboxed code that floods its output, or its write-back."""

    name = "flooder"
    workspace_access = "write"

    @skill(retries=0, timeout=120)
    async def flood(self, ctx: RunContext[NoAuth]) -> dict[str, Any]:
        """1 MiB of short lines on stderr and 1 MiB on stdout, streamed."""
        async with ctx.sandbox.session() as box:
            result = await box.run(["python3", "-c", FLOOD], stream=True)
        return {
            "exit_code": result.exit_code,
            "stdout": len(result.stdout),
            "stderr": len(result.stderr),
            "truncated": result.truncated,
        }

    @skill(retries=0, timeout=120)
    async def write_back(self, ctx: RunContext[NoAuth]) -> list[str]:
        """Write three 1 MiB files in an `rw` session; return what the workspace holds."""
        command = "for n in 1 2 3; do head -c 1048576 /dev/zero > workspace/big-$n; done"
        async with ctx.sandbox.session(SandboxSpec(workspace="rw")) as box:
            await box.run(command)
        return await ctx.workspace.list()


EXPOSURE_AGENTS: list[A2AAgent] = [Leaker(), Notes(), SignedNotes(), Flooder()]
