"""500 concurrent trivial skill runs: throughput vs 500 concurrent raw one-activity workflows."""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid

from bench.common import RAW_QUEUE, alternating, harness, median, report
from bench.raw import RawOneActivity


async def main(count: int, rounds: int) -> None:
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

        await ours()  # warm-up: both workers, the server and the client's caches
        await raw()
        ours_rates, raw_rates = await alternating(ours, raw, rounds)
        pairs = zip(ours_rates, raw_rates, strict=True)
        rounds_text = ", ".join(f"{o:.1f}/{r:.1f}" for o, r in pairs)
        report(
            f"{count} concurrent trivial runs, throughput, median of {rounds} alternating "
            f"rounds (ours/raw runs/s: {rounds_text})",
            median(ours_rates),
            median(raw_rates),
            "runs/s",
            "target >= 0.95",
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    asyncio.run(main(args.count, args.rounds))
