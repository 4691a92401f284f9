"""One trivial skill, run sequentially: p50 latency vs a raw workflow running one activity."""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid

from bench.common import RAW_QUEUE, harness, median, report
from bench.raw import RawOneActivity


async def main(runs: int) -> None:
    async with harness() as h:
        ours, raw = [], []
        for i in range(runs + 10):  # the first ten warm both paths up
            started = time.perf_counter()
            result = await h.ours.call("trivial", "noop", args={"text": "x"})
            ours_s = time.perf_counter() - started
            assert result.ok, result.error
            started = time.perf_counter()
            await h.raw.execute_workflow(
                RawOneActivity.run, "x", id=f"raw-{uuid.uuid4()}", task_queue=RAW_QUEUE
            )
            raw_s = time.perf_counter() - started
            if i >= 10:
                ours.append(ours_s)
                raw.append(raw_s)
        report(
            f"trivial skill p50 latency over {runs} runs",
            median(ours) * 1000,
            median(raw) * 1000,
            "ms",
            "target <= 1.05",
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=50)
    asyncio.run(main(parser.parse_args().runs))
