"""Load on ONE worker process: many concurrent trivial runs, then many concurrent streams.

Every result must come back right and every text delta once, in order (a delta
out of its place counts as lost). The notes give throughput, p50/p95 latency
(start to result, as the caller sees it) and the worker's peak RSS (`VmHWM`).
"""

from __future__ import annotations

import asyncio
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from a2a_temporal import TemporalA2AClient
from a2a_temporal.testing import DevStack
from bench.drill_support import count_deltas, io_worker, peak_rss_mib, percentile
from bench.drill_table import DrillRow

SIZES = {"full": (2000, 200, 200), "ci": (200, 20, 50)}


@dataclass
class Stream:
    """What one streaming run delivered."""

    ok: bool
    lost: int
    duplicated: int
    seconds: float


async def drill(size: str, **worker_settings: Any) -> list[DrillRow]:
    """Run the load drill at `size` ("full" or "ci"); worker settings may override slots."""
    trivial, streams, deltas = SIZES[size]
    queue = f"load-{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory() as tmp:
        async with (
            DevStack(ui=False) as stack,
            io_worker(stack, queue, Path(tmp) / "worker.log", **worker_settings) as worker,
        ):
            assert worker.pid is not None
            client = await stack.client(task_queue=queue)
            first = await _trivial_row(client, trivial)
            first.note += f", worker peak RSS {peak_rss_mib(worker.pid):.0f} MiB"
            second = await _streaming_row(client, streams, deltas)
            second.note += f", worker peak RSS {peak_rss_mib(worker.pid):.0f} MiB (whole run)"
    return [first, second]


async def _trivial_row(client: TemporalA2AClient, count: int) -> DrillRow:
    async def one(i: int) -> tuple[bool, float]:
        started = time.monotonic()
        result = await client.call("trivial", "noop", args={"text": f"t{i}"})
        return result.status == "completed" and result.output == f"T{i}", (
            time.monotonic() - started
        )

    started = time.monotonic()
    runs = await asyncio.gather(*(one(i) for i in range(count)))
    wall = time.monotonic() - started
    latencies = [seconds for _, seconds in runs]
    return DrillRow(
        fault=f"none: {count:,} concurrent trivial runs on one worker",
        tasks=count,
        completed=sum(ok for ok, _ in runs),
        note=f"{count / wall:.0f} runs/s, latency p50 {percentile(latencies, 0.5):.2f} s "
        f"p95 {percentile(latencies, 0.95):.2f} s",
    )


async def _streaming_row(client: TemporalA2AClient, count: int, deltas: int) -> DrillRow:
    started = time.monotonic()
    runs = await asyncio.gather(*(_stream(client, deltas) for _ in range(count)))
    wall = time.monotonic() - started
    latencies = [run.seconds for run in runs]
    return DrillRow(
        fault=f"none: {count} concurrent streaming runs of {deltas} deltas on one worker",
        tasks=count,
        completed=sum(run.ok for run in runs),
        lost_events=sum(run.lost for run in runs),
        duplicated_events=sum(run.duplicated for run in runs),
        missing_artifacts=0,
        repeated_side_effects=0,
        recovery_seconds=None,
        note=f"{count * deltas / wall:.0f} deltas/s to live subscribers, {count / wall:.1f} "
        f"runs/s, latency p50 {percentile(latencies, 0.5):.2f} s "
        f"p95 {percentile(latencies, 0.95):.2f} s",
    )


async def _stream(client: TemporalA2AClient, deltas: int) -> Stream:
    """Start a streaming run, follow it live, and count its deltas against the expected ones."""
    started = time.monotonic()
    handle = await client.start("streamer", "deltas", args={"n": deltas})
    text = "".join(
        [event.payload["text"] async for event in handle.events() if event.kind == "text_delta"]
    )
    result = await handle.result()
    seconds = time.monotonic() - started
    lost, duplicated = count_deltas(text, deltas)
    return Stream(
        result.status == "completed" and result.output == deltas, lost, duplicated, seconds
    )
