"""The demo: analyse this repository with four cooperating agents.

Run with `python -m examples.demo`. It starts the embedded dev stack, runs the
agents in-process, prints what each task did and saves the artifacts.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path

from a2a_temporal import InMemoryA2AClient
from a2a_temporal.testing import DevStack
from examples.agents import DEMO_AGENTS, RepoArgs

REPO_ROOT = Path(__file__).resolve().parent.parent


async def run_demo(out_dir: Path) -> int:
    """Run the demo; return the process exit code."""
    started = time.monotonic()
    async with DevStack() as stack:
        print(f"dev stack up in {stack.startup_seconds:.1f}s")
        print(f"  Temporal {stack.temporal_address}  UI {stack.ui_url}  S3 {stack.s3_endpoint}")
        client = InMemoryA2AClient(agents=DEMO_AGENTS)
        result = await client.call(
            "coordinator", "analyse_repository", args=RepoArgs(root=str(REPO_ROOT))
        )
        for task_id, ctx in client.contexts.items():
            progress = [e.payload["message"] for e in ctx.events if e.kind == "progress"]
            last = progress[-1] if progress else "-"
            print(f"  {task_id:<70} {len(ctx.events):>3} events  last: {last}")
        if not result.ok:
            print(f"demo {result.status}: {result.error}")
            return 1
        await asyncio.to_thread(out_dir.mkdir, parents=True, exist_ok=True)
        for ctx in client.contexts.values():
            for name, data in ctx.artifacts.items():
                await asyncio.to_thread((out_dir / name).write_bytes, data)
                print(f"  artifact {out_dir / name} ({len(data)} bytes)")
        print(f"summary: {result.output}")
    print(f"done in {time.monotonic() - started:.1f}s")
    return 0


def main() -> None:
    """Parse arguments and run the demo."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default="demo-output", help="where to save artifacts")
    raise SystemExit(asyncio.run(run_demo(Path(parser.parse_args().out))))


if __name__ == "__main__":
    main()
