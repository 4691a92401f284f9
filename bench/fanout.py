"""A skill fanning out 50 concurrent `ctx.call`s vs a raw parent running 50 child workflows."""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid

from bench.common import RAW_QUEUE, harness, median, report
from bench.raw import RawFanOut


async def main(width: int, runs: int) -> None:
    async with harness() as h:
        ours, raw = [], []
        for i in range(runs + 1):  # the first run of each warms up
            started = time.perf_counter()
            result = await h.ours.call("trivial", "fan", args={"n": width})
            ours_s = time.perf_counter() - started
            assert result.ok, result.error
            assert result.output == [f"T{n}" for n in range(width)]
            started = time.perf_counter()
            await h.raw.execute_workflow(
                RawFanOut.run, width, id=f"raw-{uuid.uuid4()}", task_queue=RAW_QUEUE
            )
            raw_s = time.perf_counter() - started
            if i:
                ours.append(ours_s)
                raw.append(raw_s)
        report(
            f"fan-out of {width} calls, median wall time over {runs} runs",
            median(ours),
            median(raw),
            "s",
            "target <= 1.10",
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--width", type=int, default=50)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(main(args.width, args.runs))
