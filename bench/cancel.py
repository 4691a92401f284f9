"""Cancel request to `CancelledByCaller` in the handler: p50/p95 over repeated runs.

The raw-temporalio comparison is the activity heartbeat throttle a plain worker
uses by default (0.8 x heartbeat timeout, at most 60 s), printed beside ours.
"""

from __future__ import annotations

import argparse
import asyncio
import time

from bench.agents import Streamer
from bench.common import harness, pct


async def main(runs: int) -> None:
    latencies: list[float] = []
    async with harness() as h:
        for _ in range(runs):
            handle = await h.ours.start("streamer", "wait", args={"n": 60})
            async for event in handle.events():
                assert event.kind == "progress"
                break
            requested = time.monotonic()
            await handle.cancel()
            result = await handle.result()
            assert result.status == "canceled", result
            latencies.append(Streamer.cancelled_at[handle.task_id] - requested)
        heartbeat_timeout = h.ours.settings.heartbeat_timeout.total_seconds()
    print(
        f"cancel -> CancelledByCaller over {runs} runs: p50 {pct(latencies, 0.5):.2f} s, "
        f"p95 {pct(latencies, 0.95):.2f} s (target p95 <= 2 s); a raw worker with the same "
        f"{heartbeat_timeout:g} s heartbeat timeout throttles heartbeats to "
        f"{0.8 * heartbeat_timeout:g} s"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    asyncio.run(main(parser.parse_args().runs))
