"""Pipelines vs raw temporalio: a 20-step linear pipeline, and a `map` over many items."""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid

from a2a_temporal import Pipeline
from bench.common import RAW_QUEUE, Harness, harness, median, report
from bench.raw import RawLimitedFanOut, RawSequential


def linear(steps: int) -> Pipeline:
    return Pipeline.parse(
        {
            "name": "linear",
            "steps": [
                {
                    "id": f"s{i}",
                    "agent": "trivial",
                    "skill": "noop",
                    "args": {"text": f"t{i}"},
                    "depends_on": [f"s{i - 1}"] if i else [],
                }
                for i in range(steps)
            ],
        }
    )


async def run_linear(h: Harness, steps: int, runs: int) -> None:
    ours, raw = [], []
    for i in range(runs + 1):
        started = time.perf_counter()
        state = await (await h.ours.start_pipeline(linear(steps))).result()
        ours_s = time.perf_counter() - started
        assert state.status == "completed", state.error
        started = time.perf_counter()
        await h.raw.execute_workflow(
            RawSequential.run, steps, id=f"raw-{uuid.uuid4()}", task_queue=RAW_QUEUE
        )
        raw_s = time.perf_counter() - started
        if i:
            ours.append(ours_s)
            raw.append(raw_s)
    report(
        f"{steps}-step linear pipeline, median of {runs}",
        median(ours),
        median(raw),
        "s",
        "target <= 1.3",
    )


async def run_map(h: Harness, items: int, limit: int) -> None:
    pipeline = Pipeline.parse(
        {
            "name": "mapped",
            "steps": [
                {"id": "src", "agent": "trivial", "skill": "range", "args": {"n": items}},
                {
                    "id": "each",
                    "agent": "trivial",
                    "skill": "noop",
                    "map": "${steps.src.output}",
                    "concurrency": limit,
                    "args": {"text": "${item}"},
                },
            ],
        }
    )
    started = time.perf_counter()
    state = await (await h.ours.start_pipeline(pipeline)).result()
    ours = time.perf_counter() - started
    assert state.status == "completed", state.error
    assert len(state.steps["each"].output) == items
    started = time.perf_counter()
    await h.raw.execute_workflow(
        RawLimitedFanOut.run, args=[items, limit], id=f"raw-{uuid.uuid4()}", task_queue=RAW_QUEUE
    )
    raw = time.perf_counter() - started
    report(
        f"map over {items} items, concurrency {limit} (continue-as-new runs: {state.runs})",
        ours,
        raw,
        "s",
        "target <= 1.10",
    )


async def main(steps: int, runs: int, items: int, limit: int) -> None:
    async with harness() as h:
        await run_linear(h, steps, runs)
        await run_map(h, items, limit)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=50)
    args = parser.parse_args()
    asyncio.run(main(args.steps, args.runs, args.items, args.concurrency))
