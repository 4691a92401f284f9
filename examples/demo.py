"""The demo: a durable multi-agent pipeline analyses this repository on the embedded stack.

Run with `python -m examples.demo --auto-approve`. It starts the Temporal dev
server and an S3 server, runs a worker for the demo agents and starts the
`repo-analysis` pipeline: a planner splits the source files into batches,
analyser agents measure the batches in parallel (a `map` step), a reporter
writes a Markdown report, a JSON file and an SVG chart to S3, and a reviewer
asks a human to approve (answered by the flag, or at the prompt). The terminal
shows the steps live, then where the artifacts are and the run's UI link.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path
from urllib.parse import quote

from a2a_temporal import PipelineHandle, PipelineState, TemporalA2AClient
from a2a_temporal.testing import DevStack
from a2a_temporal.worker.run import exit_process, stop_on_signals
from examples.agents import DEMO_AGENTS, repo_pipeline

REPO_ROOT = Path(__file__).resolve().parent.parent
_POLL_SECONDS = 0.3


async def run_demo(out_dir: Path, *, auto_approve: bool, keep: bool = False) -> int:
    """Run the demo; return the process exit code."""
    started = time.monotonic()
    async with DevStack() as stack:
        print(
            f"dev stack up in {stack.startup_seconds:.1f}s: Temporal {stack.temporal_address}, "
            f"UI {stack.ui_url}, S3 {stack.s3_endpoint}",
            flush=True,
        )
        async with stack.worker(DEMO_AGENTS) as client:
            handle = await client.start_pipeline(repo_pipeline(str(REPO_ROOT)))
            print(f"pipeline {handle.pipeline_id}", flush=True)
            state = await _follow(client, handle, auto_approve=auto_approve)
            code = await _report(client, state, out_dir)
            print(
                f"Temporal UI: {stack.ui_url}/namespaces/{stack.namespace}/workflows/"
                f"{quote(handle.pipeline_id, safe='')}",
                flush=True,
            )
            print(f"done in {time.monotonic() - started:.1f}s", flush=True)
            if keep:
                print("the dev stack stays up for the UI; press Ctrl-C to stop", flush=True)
                await stop_on_signals().wait()
    print(
        "the dev stack has stopped"
        if keep
        else "the dev stack has stopped, so the UI link "
        "is gone; run the demo with --keep to keep it up and open the link",
        flush=True,
    )
    return code


async def _follow(
    client: TemporalA2AClient, handle: PipelineHandle, *, auto_approve: bool
) -> PipelineState:
    """Print the step table whenever it changes; answer the reviewer's question."""
    shown = ""
    answered: set[str] = set()
    while True:
        state = await handle.state()
        table = _table(state)
        if table != shown:
            print(table, flush=True)
            shown = table
        if state.status != "running":
            return state
        review = state.steps["review"]
        if review.status == "running" and review.task_ids:
            await _review(client, review.task_ids[-1], answered, auto_approve=auto_approve)
        await asyncio.sleep(_POLL_SECONDS)


async def _review(
    client: TemporalA2AClient, task_id: str, answered: set[str], *, auto_approve: bool
) -> None:
    task = client.get_task(task_id)
    for question in await task.questions():
        if question.answered or question.id in answered:
            continue
        print(f"reviewer asks: {question.prompt}", flush=True)
        if auto_approve:
            approved = True
            print("  auto-approved (--auto-approve)", flush=True)
        else:
            reply = await asyncio.to_thread(input, "  approve? [y/N] ")
            approved = reply.strip().lower() in ("y", "yes")
        await task.answer(question.id, {"approved": approved, "comment": "from the demo"})
        answered.add(question.id)


def _table(state: PipelineState) -> str:
    rows = [f"[{state.status}]"]
    for step_id, step in state.steps.items():
        detail = ""
        if step.items_total:
            done = len(step.item_results)
            detail = f"{_bar(done / step.items_total)} {done}/{step.items_total} batches"
        elif step.started_at and step.finished_at:
            detail = f"{(step.finished_at - step.started_at).total_seconds():.1f}s"
        rows.append(f"  {step_id:<8} {step.status:<10} {detail}")
    return "\n".join(rows)


def _bar(fraction: float, width: int = 16) -> str:
    done = round(fraction * width)
    return "[" + "#" * done + "." * (width - done) + "]"


async def _report(client: TemporalA2AClient, state: PipelineState, out_dir: Path) -> int:
    if state.status != "completed":
        print(f"pipeline {state.status}: {state.error}", flush=True)
        return 1
    summary = state.steps["report"].output
    print(
        f"{summary['files']} files, {summary['lines']} lines, {summary['functions']} "
        f"functions, {summary['classes']} classes, docstring coverage "
        f"{summary['doc_coverage']:.0%}; approved: {state.steps['review'].output['approved']}",
        flush=True,
    )
    report = client.get_task(state.steps["report"].task_ids[-1])
    await asyncio.to_thread(out_dir.mkdir, parents=True, exist_ok=True)
    for ref in state.steps["report"].artifacts:
        target = out_dir / ref.name
        await asyncio.to_thread(target.write_bytes, await report.read_artifact(ref.name))
        print(f"artifact {ref.uri} -> {target} ({ref.size_bytes} bytes)", flush=True)
    return 0


def main() -> None:
    """Parse arguments and run the demo."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default="demo-output", help="where to save artifacts")
    parser.add_argument("--auto-approve", action="store_true", help="answer the reviewer yes")
    parser.add_argument("--keep", action="store_true", help="keep the stack up for the UI")
    args = parser.parse_args()
    try:
        code = asyncio.run(run_demo(Path(args.out), auto_approve=args.auto_approve, keep=args.keep))
    except KeyboardInterrupt:
        code = 130
    exit_process(code)


if __name__ == "__main__":
    main()
