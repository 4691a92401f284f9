"""How long `DevStack` takes until Temporal and S3 both answer (median of runs)."""

from __future__ import annotations

import argparse
import asyncio
import statistics

from a2a_temporal.testing import DevStack


async def main(runs: int) -> None:
    times = []
    for _ in range(runs):
        async with DevStack() as stack:
            times.append(stack.startup_seconds)
    print(
        f"DevStack startup over {runs} runs: median {statistics.median(times):.2f}s, "
        f"max {max(times):.2f}s"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    asyncio.run(main(parser.parse_args().runs))
