"""500 concurrent trivial skill runs: throughput vs 500 concurrent raw one-activity workflows."""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid

from bench.common import RAW_QUEUE, harness, report
from bench.raw import RawOneActivity


async def main(count: int) -> None:
    async with harness() as h:

        async def ours() -> float:
            started = time.perf_counter()
            results = await asyncio.gather(
                *(h.ours.call("trivial", "noop", args={"text": f"t{i}"}) for i in range(count))
            )
            assert all(r.ok for r in results)
            return count / (time.perf_counter() - started)

        async def raw() -> float:
            started = time.perf_counter()
            await asyncio.gather(
                *(
                    h.raw.execute_workflow(
                        RawOneActivity.run, f"t{i}", id=f"raw-{uuid.uuid4()}", task_queue=RAW_QUEUE
                    )
                    for i in range(count)
                )
            )
            return count / (time.perf_counter() - started)

        await ours()  # warm-up at a smaller scale is not representative; run both twice
        await raw()
        ours_rate, raw_rate = await ours(), await raw()
        report(
            f"{count} concurrent trivial runs, throughput",
            ours_rate,
            raw_rate,
            "runs/s",
            "target >= 0.8",
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=500)
    asyncio.run(main(parser.parse_args().count))
