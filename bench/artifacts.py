"""Artifact writes: 100 x 1 MiB throughput vs raw `minio` put_object, and the peak-RSS
cost of one 200 MiB streamed artifact in a worker process.

`ctx.write_artifact` is timed inside the skill (the writes, with their events
and heartbeats, not the call around them: `bench.skill_latency` measures that).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import tempfile
import time
from pathlib import Path

from bench.common import harness, report


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc status")


async def throughput(count: int) -> None:
    async with harness() as h:
        await h.ours.call("artifacts", "many", args={"count": 2, "mib": 1})  # warm-up
        result = await h.ours.call("artifacts", "many", args={"count": count, "mib": 1})
        assert result.ok, result.error
        ours = count / result.output  # timed inside the skill: the writes, not the call
        s3 = h.stack.minio()
        data = b"a" * (1024 * 1024)
        started = time.perf_counter()
        for i in range(count):
            await asyncio.to_thread(
                s3.put_object, h.stack.bucket, f"raw/blob-{i}.bin", io.BytesIO(data), len(data)
            )
        raw = count / (time.perf_counter() - started)
        report(f"write_artifact {count} x 1 MiB", ours, raw, "MiB/s", "target >= 0.8")


async def streamed_rss(mib: int) -> None:
    with tempfile.TemporaryDirectory() as logs:
        async with harness() as h:
            worker = h.stack.worker_process(
                "bench.agents:BENCH_AGENTS", Path(logs) / "worker.log", task_queue="rss-worker"
            )
            worker.start()
            try:
                client = await h.stack.client(task_queue="rss-worker")
                warm = await client.call("artifacts", "stream", args={"count": 1, "mib": 1})
                assert warm.ok, warm.error
                assert worker.pid is not None
                before = peak_rss_mib(worker.pid)
                result = await client.call("artifacts", "stream", args={"count": 1, "mib": mib})
                assert result.ok, result.error
                after = peak_rss_mib(worker.pid)
            finally:
                await worker.stop()
    print(
        f"streamed artifact of {mib} MiB: worker peak RSS {before:.0f} -> {after:.0f} MiB, "
        f"+{after - before:.1f} MiB (target < 64 MiB)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--stream-mib", type=int, default=200)
    args = parser.parse_args()
    asyncio.run(streamed_rss(args.stream_mib))
    asyncio.run(throughput(args.count))
