"""Streaming text deltas: a burst of 10,000, then a steady stream for a while.

The burst: order, history size, emit-to-subscriber latency (targets: history
<= 500 events, p95 <= 500 ms; one signal per delta would cost at least one
history event per delta). The steady stream (50 deltas a second, like an LLM,
with one subscriber): history events per minute of streaming, which decide
how long a skill can stream before its task reaches Temporal's limits
(batches stretch out once a quarter of `history_budget` is used).
"""

from __future__ import annotations

import argparse
import asyncio
import time

from bench.common import Harness, harness, pct


async def steady(h: Harness, seconds: float, per_second: float) -> None:
    args = {"per_second": per_second, "seconds": seconds}
    handle = await h.ours.start("streamer", "steady", args=args)
    latencies = [
        time.time() - event.payload["t"]
        async for event in handle.events()
        if event.kind == "text_delta"
    ]
    result = await handle.result()
    assert result.ok, result.error
    history = await h.ours.temporal.get_workflow_handle(handle.task_id).fetch_history()
    per_minute = len(history.events) / (seconds / 60)
    print(
        f"steady stream of {per_second:g} deltas/s for {seconds:g} s: {result.output} deltas, "
        f"{len(history.events)} history events = {per_minute:.0f} per minute of streaming "
        f"(an hour at this rate: ~{per_minute * 60:.0f}, before pacing); "
        f"p95 emit-to-subscriber {pct(latencies, 0.95) * 1000:.0f} ms"
    )


async def main(deltas: int, seconds: float) -> None:
    async with harness() as h:
        await steady(h, seconds, 50.0)
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
    parser.add_argument("--seconds", type=float, default=60.0, help="steady stream length")
    args = parser.parse_args()
    asyncio.run(main(args.deltas, args.seconds))
