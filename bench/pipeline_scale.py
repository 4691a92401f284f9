"""Very wide and very deep pipelines of trivial skills: end to end, and cancelled midway.

`--steps` independent steps (default 5,000) and a `--chain`-step chain listed
dependents-first (default 2,000). Each runs to completion once, and once more
to be cancelled when about half of its steps are done; the script prints the
time to completion, the time from the cancel request to the pipeline ending
and to no child task running any more (Temporal cancels them when the
pipeline closes), and how many child tasks ran at once at most.
`--cancel-only` runs only the wide pipeline's cancel.
"""

from __future__ import annotations

import argparse
import asyncio
import time

from a2a_temporal import Pipeline, PipelineHandle
from bench.common import Harness, harness


def wide(steps: int) -> Pipeline:
    return Pipeline.parse(
        {
            "name": "wide",
            "steps": [
                {"id": f"s{i}", "agent": "trivial", "skill": "noop", "args": {"text": f"{i}"}}
                for i in range(steps)
            ],
        }
    )


def reversed_chain(length: int) -> Pipeline:
    return Pipeline.parse(
        {
            "name": "chain",
            "steps": [
                {
                    "id": f"s{i}",
                    "agent": "trivial",
                    "skill": "noop",
                    "args": {"text": f"{i}"},
                    "depends_on": [f"s{i + 1}"] if i + 1 < length else [],
                }
                for i in reversed(range(length))
            ],
        }
    )


async def to_completion(h: Harness, name: str, pipeline: Pipeline) -> None:
    started = time.perf_counter()
    handle = await h.ours.start_pipeline(pipeline)
    state = await handle.result()
    took = time.perf_counter() - started
    assert state.status == "completed", state.error
    done = sum(step.status == "completed" for step in state.steps.values())
    rate = done / took
    print(f"{name}: completed {done} steps in {took:.1f} s ({rate:.1f} steps/s), {state.runs} runs")


async def cancelled_midway(h: Harness, name: str, pipeline: Pipeline) -> None:
    handle = await h.ours.start_pipeline(pipeline)
    half = len(pipeline.steps) // 2
    while await _completed(handle) < half:
        await asyncio.sleep(1.0)
    asked = time.perf_counter()
    await handle.cancel()
    state = await handle.result()
    took = time.perf_counter() - asked
    statuses = [step.status for step in state.steps.values()]
    leftover = await _running_children(h, handle.pipeline_id)
    async with asyncio.timeout(300):
        while await _running_children(h, handle.pipeline_id):
            await asyncio.sleep(0.2)
    settled = time.perf_counter() - asked
    print(
        f"{name}: cancelled at {statuses.count('completed')} of {len(statuses)} steps done; "
        f"ended {state.status} {took:.1f} s after the request; "
        f"{statuses.count('canceled')} canceled, {statuses.count('skipped')} skipped; "
        f"children running then: {leftover}, none {settled:.1f} s after the request"
    )


async def _completed(handle: PipelineHandle) -> int:
    state = await handle.state()
    return sum(step.status == "completed" for step in state.steps.values())


async def _running_children(h: Harness, pipeline_id: str) -> int:
    query = f'WorkflowId STARTS_WITH "{pipeline_id}/" AND ExecutionStatus = "Running"'
    return len([w async for w in h.ours.temporal.list_workflows(query)])


async def main(steps: int, chain: int, cancel_only: bool) -> None:
    async with harness() as h:
        if cancel_only:
            await cancelled_midway(h, f"{steps} independent steps", wide(steps))
            return
        await to_completion(h, f"{steps} independent steps", wide(steps))
        await cancelled_midway(h, f"{steps} independent steps", wide(steps))
        await to_completion(h, f"{chain}-step reversed chain", reversed_chain(chain))
        await cancelled_midway(h, f"{chain}-step reversed chain", reversed_chain(chain))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=5_000)
    parser.add_argument("--chain", type=int, default=2_000)
    parser.add_argument("--cancel-only", action="store_true")
    args = parser.parse_args()
    asyncio.run(main(args.steps, args.chain, args.cancel_only))
