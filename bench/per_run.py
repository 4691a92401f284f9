"""What one trivial run costs, ours vs raw temporalio: requests to the servers and CPU here.

Requests are counted by the servers themselves: the Temporal dev server's
`service_requests` metric by operation (its frontend and history services
each count a request they serve, so most operations show 2 per run), and
the S3 server's request log. CPU is this process's (`time.process_time`):
the client, both workers and their activities all run in it; and the dev
stack's servers' (the Temporal dev server and the S3 server, from /proc).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

from bench.common import RAW_QUEUE, Harness, harness
from bench.raw import RawOneActivity

_OPERATION = re.compile(r'^service_requests\{.*operation="([^"]+)".*\} (\S+)$')
S3_REQUESTS = "S3 requests"


async def counts(h: Harness, http: httpx.AsyncClient) -> collections.Counter[str]:
    """Requests served so far, by operation."""
    metrics = await http.get(f"http://127.0.0.1:{h.stack.ports['metrics']}/metrics")
    served: collections.Counter[str] = collections.Counter()
    for line in metrics.text.splitlines():
        if match := _OPERATION.match(line):
            served[match.group(1)] += int(float(match.group(2)))
    served[S3_REQUESTS] = len((h.stack.data_dir / "s3.log").read_text().splitlines())
    return served


def servers_cpu(h: Harness) -> float:
    """CPU seconds the dev stack's server processes have used so far."""
    ticks = 0
    for server in h.stack.processes:
        assert server.process is not None
        fields = Path(f"/proc/{server.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


async def measure(
    h: Harness, http: httpx.AsyncClient, count: int, run: Callable[[int], Awaitable[Any]]
) -> tuple[collections.Counter[str], float, float]:
    """Requests, CPU seconds here and in the servers of `count` concurrent runs."""
    before = await counts(h, http)
    cpu, servers = time.process_time(), servers_cpu(h)
    await asyncio.gather(*(run(i) for i in range(count)))
    await asyncio.sleep(2)  # the metrics of the last requests land a moment later
    cpu, servers = time.process_time() - cpu, servers_cpu(h) - servers
    after = await counts(h, http)
    after.subtract(before)
    return after, cpu, servers


async def main(count: int) -> None:
    async with harness() as h, httpx.AsyncClient() as http:

        async def ours(i: int) -> None:
            result = await h.ours.call("trivial", "noop", args={"text": f"p{i}"})
            assert result.ok, result.error

        async def raw(i: int) -> None:
            await h.raw.execute_workflow(
                RawOneActivity.run, f"p{i}", id=f"raw-{uuid.uuid4()}", task_queue=RAW_QUEUE
            )

        await measure(h, http, 20, ours)  # warm-up: caches, connections, pollers
        await measure(h, http, 20, raw)
        ours_requests, ours_cpu, ours_servers = await measure(h, http, count, ours)
        raw_requests, raw_cpu, raw_servers = await measure(h, http, count, raw)
    print(f"{count} concurrent trivial runs a side; requests per run:")
    print(f"  {'operation':36} {'ours':>6} {'raw':>6}")
    for operation in sorted(set(ours_requests) | set(raw_requests)):
        mine, theirs = ours_requests[operation] / count, raw_requests[operation] / count
        if mine or theirs:
            print(f"  {operation:36} {mine:6.2f} {theirs:6.2f}")
    print(
        f"CPU of this process per run: ours {ours_cpu / count * 1000:.1f} ms, "
        f"raw {raw_cpu / count * 1000:.1f} ms"
    )
    print(
        f"CPU of the servers per run: ours {ours_servers / count * 1000:.1f} ms, "
        f"raw {raw_servers / count * 1000:.1f} ms"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=200)
    asyncio.run(main(parser.parse_args().count))
