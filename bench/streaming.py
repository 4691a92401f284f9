"""10,000 text deltas from one skill: order, history size, emit-to-subscriber latency.

These figures are absolute (history <= 500 events, p95 <= 500 ms). The raw
alternative, one signal per delta, would cost at least one history event per
delta; the script prints that bound beside ours.
"""

from __future__ import annotations

import argparse
import asyncio
import time

from bench.common import harness, pct


async def main(deltas: int) -> None:
    async with harness() as h:
        handle = await h.ours.start("streamer", "deltas", args={"n": deltas})
        received: list[str] = []
        latencies: list[float] = []
        async for event in handle.events():
            if event.kind == "text_delta":
                latencies.append(time.time() - event.payload["t"])
                received.append(event.payload["text"])
        result = await handle.result()
        assert result.ok, result.error
        history = await h.ours.temporal.get_workflow_handle(handle.task_id).fetch_history()
    text = "".join(received)
    expected = "".join(f"{i} " for i in range(deltas))
    print(
        f"{deltas} text deltas: all received in order: {text == expected}; "
        f"{len(received)} stream items after coalescing"
    )
    print(
        f"history events: {len(history.events)} (target <= 500; one signal per delta "
        f"would be >= {deltas})"
    )
    print(
        f"emit-to-subscriber latency of the oldest delta in each batch: "
        f"p50 {pct(latencies, 0.5) * 1000:.0f} ms, p95 {pct(latencies, 0.95) * 1000:.0f} ms "
        "(target p95 <= 500 ms)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--deltas", type=int, default=10_000)
    asyncio.run(main(parser.parse_args().deltas))
