"""What tracing and metrics cost: trivial-skill p50 latency and throughput, on vs off.

One dev stack; first a worker with both off, then one with `tracing` (spans
batched to an exporter that keeps nothing, so no network is measured) and
`metrics_port` on. A raw-temporalio workflow is timed beside each phase, so a
drift of the machine between the phases shows.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from collections.abc import Sequence

from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from temporalio.client import Client
from temporalio.contrib.opentelemetry import create_tracer_provider
from temporalio.worker import Worker

from a2a_temporal import TemporalA2AClient
from a2a_temporal._process import free_port
from a2a_temporal.testing import DevStack
from bench.agents import BENCH_AGENTS
from bench.common import RAW_QUEUE, median
from bench.raw import RawOneActivity, raw_noop


class _Discard(SpanExporter):
    """Counts the spans it is given and keeps none."""

    def __init__(self) -> None:
        self.spans = 0

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.spans += len(spans)
        return SpanExportResult.SUCCESS


async def _latencies(client: TemporalA2AClient, raw: Client, runs: int) -> tuple[float, float]:
    """p50 of `runs` sequential trivial skills and raw workflows, in ms (after ten warm-ups)."""
    ours, baseline = [], []
    for i in range(runs + 10):
        started = time.perf_counter()
        result = await client.call("trivial", "noop", args={"text": "x"})
        ours_s = time.perf_counter() - started
        assert result.ok, result.error
        started = time.perf_counter()
        await raw.execute_workflow(
            RawOneActivity.run, "x", id=f"raw-{uuid.uuid4()}", task_queue=RAW_QUEUE
        )
        if i >= 10:
            ours.append(ours_s)
            baseline.append(time.perf_counter() - started)
    return median(ours) * 1000, median(baseline) * 1000


async def _throughput(client: TemporalA2AClient, count: int) -> float:
    """Trivial skills per second, `count` at once (the second of two rounds)."""
    rate = 0.0
    for _ in range(2):
        started = time.perf_counter()
        results = await asyncio.gather(
            *(client.call("trivial", "noop", args={"text": f"t{i}"}) for i in range(count))
        )
        assert all(r.ok for r in results)
        rate = count / (time.perf_counter() - started)
    return rate


async def main(runs: int, count: int) -> None:
    async with DevStack(ui=False) as stack:
        raw = await stack.connect()
        async with Worker(
            raw, task_queue=RAW_QUEUE, workflows=[RawOneActivity], activities=[raw_noop]
        ):
            async with stack.worker(BENCH_AGENTS, task_queue="bench-plain") as plain:
                off, raw_off = await _latencies(plain, raw, runs)
                rate_off = await _throughput(plain, count)
            provider = create_tracer_provider()
            exporter = _Discard()
            provider.add_span_processor(BatchSpanProcessor(exporter))
            trace.set_tracer_provider(provider)
            async with stack.worker(
                BENCH_AGENTS, task_queue="bench-telemetry", tracing=True, metrics_port=free_port()
            ) as observed:
                on, raw_on = await _latencies(observed, raw, runs)
                rate_on = await _throughput(observed, count)
            provider.force_flush()
    print(
        f"trivial skill p50 latency over {runs} runs: tracing+metrics on {on:.4g} ms, "
        f"off {off:.4g} ms, ratio {on / off:.2f} (target <= 1.05); "
        f"raw beside them {raw_on:.4g} ms and {raw_off:.4g} ms"
    )
    print(
        f"{count} concurrent trivial runs: on {rate_on:.4g} runs/s, off {rate_off:.4g} runs/s, "
        f"ratio {rate_on / rate_off:.2f} (target >= 0.95); {exporter.spans} spans exported"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--count", type=int, default=200)
    args = parser.parse_args()
    asyncio.run(main(args.runs, args.count))
