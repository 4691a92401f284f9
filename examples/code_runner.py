"""An agent that runs a user-given Python snippet in the sandbox.

The snippet runs as `python3 main.py` in a fresh box (no network, 256 MiB,
the timeout asked for), its output streams live as events, and every file it
leaves in `out/` becomes an artifact of the task. On Temporal, cancelling the
task kills the snippet's whole process tree; a crashed worker's leftovers are
swept by the next worker on that machine.
"""

from __future__ import annotations

import mimetypes

from pydantic import BaseModel, Field

from a2a_temporal import A2AAgent, NoAuth, RunContext, SandboxSpec, skill

OUTPUT_DIR = "out/"


class SnippetArgs(BaseModel):
    code: str = Field(min_length=1, description="Python source to run")
    stdin: str = Field(default="", description="What the snippet reads on stdin")
    timeout_s: float = Field(default=30.0, gt=0, le=3600, description="Wall-clock limit")
    memory_mib: int = Field(default=256, ge=32, le=4096)


class SnippetResult(BaseModel):
    exit_code: int
    stdout: str
    stderr: str
    timed_out: bool
    truncated: bool
    files: list[str] = Field(description="Artifacts made from the files the snippet wrote to out/")


class CodeRunner(A2AAgent):
    """Runs Python snippets in an isolated sandbox and keeps the files they write."""

    name = "code-runner"
    tags = ("demo", "sandbox")
    capabilities = ("python",)

    @skill(retries=0)
    async def run_python(self, ctx: RunContext[NoAuth], args: SnippetArgs) -> SnippetResult:
        """Run `code` with `python3`; files it writes under `out/` become artifacts."""
        spec = SandboxSpec(timeout_s=args.timeout_s, memory_mib=args.memory_mib)
        async with ctx.sandbox.session(spec) as box:
            await box.write("main.py", args.code.encode())
            await box.write(f"{OUTPUT_DIR}.keep", b"")
            await ctx.emit_progress("running the snippet")
            result = await box.run(["python3", "main.py"], stdin=args.stdin.encode(), stream=True)
            files = []
            for path in await box.list(OUTPUT_DIR):
                name = path.removeprefix(OUTPUT_DIR)
                if name == ".keep":
                    continue
                mime = mimetypes.guess_type(name)[0] or "application/octet-stream"
                await ctx.write_artifact(name, await box.read(path), mime)
                files.append(name)
        return SnippetResult(
            exit_code=result.exit_code,
            stdout=result.stdout.decode(errors="replace"),
            stderr=result.stderr.decode(errors="replace"),
            timed_out=result.timed_out,
            truncated=result.truncated,
            files=files,
        )
