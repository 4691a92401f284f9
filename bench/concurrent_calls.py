"""Thousands of concurrent calls from one client: every result back, ours vs raw temporalio.

Both sides start every run at once and wait for every result from one client,
on the same dev server; the server refuses long polls beyond its per-namespace
limit. Prints, per side, how many results came back, how many waits raised
(and with what), and how long the whole took.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from bench.common import RAW_QUEUE, harness
from bench.raw import RawOneActivity


async def _all_at_once(count: int, run: Callable[[int], Awaitable[Any]]) -> str:
    started = time.perf_counter()
    outcomes = await asyncio.gather(*(run(i) for i in range(count)), return_exceptions=True)
    took = time.perf_counter() - started
    raised = collections.Counter(
        repr(outcome)[:80] for outcome in outcomes if isinstance(outcome, BaseException)
    )
    returned = count - sum(raised.values())
    errors = "; ".join(f"{n} x {error}" for error, n in raised.most_common(3)) or "none"
    return f"{returned} of {count} returned in {took:.1f}s, raised: {errors}"


async def main(counts: list[int]) -> None:
    async with harness() as h:

        async def ours(i: int) -> Any:
            result = await h.ours.call("trivial", "noop", args={"text": f"c{i}"})
            assert result.ok, result.error
            return result

        async def raw(i: int) -> Any:
            return await h.raw.execute_workflow(
                RawOneActivity.run, f"c{i}", id=f"raw-{uuid.uuid4()}", task_queue=RAW_QUEUE
            )

        for count in counts:
            print(f"{count} concurrent calls, ours: {await _all_at_once(count, ours)}")
            print(f"{count} concurrent calls, raw:  {await _all_at_once(count, raw)}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--counts", type=int, nargs="+", default=[2000, 5000])
    asyncio.run(main(parser.parse_args().counts))
