"""Agents that run code in the sandbox, for the tests that go through Temporal."""

from __future__ import annotations

from pydantic import BaseModel

from a2a_temporal import A2AAgent, NoAuth, RunContext, SandboxSpec, skill
from examples.code_runner import CodeRunner


class Edit(BaseModel):
    command: str


class WorkspaceEditor(A2AAgent):
    """Runs a shell command over a read-write copy of the caller's workspace."""

    name = "workspace-editor"
    workspace_access = "write"

    @skill(retries=0)
    async def edit(self, ctx: RunContext[NoAuth], args: Edit) -> list[str]:
        """Run `command` in the box; return what the workspace holds afterwards."""
        async with ctx.sandbox.session(SandboxSpec(workspace="rw")) as box:
            result = await box.run(args.command)
            if result.exit_code != 0:
                raise RuntimeError(result.stderr.decode())
        return await ctx.workspace.list()


SANDBOX_AGENTS: list[A2AAgent] = [CodeRunner(), WorkspaceEditor()]
