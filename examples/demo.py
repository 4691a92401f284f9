"""The demo: four agents analyse this repository on Temporal, on the embedded dev stack.

Run with `python -m examples.demo`. It starts the Temporal dev server and an S3
server, runs a worker for the demo agents, starts the coordinator, prints its
progress live, then saves the report, JSON data and SVG chart from S3 to
`demo-output/` and prints where to see the run in the Temporal UI.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import time
from pathlib import Path
from urllib.parse import quote

from a2a_temporal import TemporalA2AClient
from a2a_temporal.runner import exit_process
from a2a_temporal.testing import DevStack
from examples.agents import DEMO_AGENTS, RepoArgs

REPO_ROOT = Path(__file__).resolve().parent.parent


async def run_demo(out_dir: Path, *, keep: bool = False) -> int:
    """Run the demo; return the process exit code."""
    started = time.monotonic()
    async with DevStack() as stack:
        print(
            f"dev stack up in {stack.startup_seconds:.1f}s: Temporal {stack.temporal_address}, "
            f"UI {stack.ui_url}, S3 {stack.s3_endpoint}",
            flush=True,
        )
        async with stack.worker(DEMO_AGENTS) as client:
            code = await _analyse(client, stack, out_dir)
            print(f"done in {time.monotonic() - started:.1f}s", flush=True)
            if keep:
                print("the dev stack stays up for the UI; press Ctrl-C to stop", flush=True)
                await _wait_for_interrupt()
    return code


async def _analyse(client: TemporalA2AClient, stack: DevStack, out_dir: Path) -> int:
    handle = await client.start(
        "coordinator", "analyse_repository", args=RepoArgs(root=str(REPO_ROOT)), caller="demo"
    )
    print(f"task {handle.task_id}", flush=True)
    async for event in handle.events():
        if event.kind == "progress":
            fraction = event.payload.get("fraction")
            bar = _bar(fraction) if fraction is not None else " " * 22
            print(f"  {bar} {event.payload['message']}", flush=True)
    result = await handle.result()
    if not result.ok:
        print(f"demo {result.status}: {result.error}", flush=True)
        return 1
    summary = result.output
    print(
        f"  {_bar(1.0)} {summary['files']} files, {summary['lines']} lines, "
        f"{summary['functions']} functions, {summary['classes']} classes, docstring coverage "
        f"{summary['doc_coverage']:.0%}",
        flush=True,
    )
    report = client.get_task(summary["report_task"])
    await asyncio.to_thread(out_dir.mkdir, parents=True, exist_ok=True)
    for ref in await report.artifacts():
        target = out_dir / ref.name
        await asyncio.to_thread(target.write_bytes, await report.read_artifact(ref.name))
        print(f"artifact {ref.uri} -> {target} ({ref.size_bytes} bytes)", flush=True)
    print(
        f"Temporal UI: {stack.ui_url}/namespaces/{stack.namespace}/workflows/"
        f"{quote(handle.task_id, safe='')}",
        flush=True,
    )
    return 0


def _bar(fraction: float, width: int = 20) -> str:
    done = round(fraction * width)
    return "[" + "#" * done + "." * (width - done) + "]"


async def _wait_for_interrupt() -> None:
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.Event().wait()


def main() -> None:
    """Parse arguments and run the demo."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default="demo-output", help="where to save artifacts")
    parser.add_argument("--keep", action="store_true", help="keep the stack up for the UI")
    args = parser.parse_args()
    try:
        code = asyncio.run(run_demo(Path(args.out), keep=args.keep))
    except KeyboardInterrupt:
        code = 130
    exit_process(code)


if __name__ == "__main__":
    main()
