"""The A2A gateway's `ListTasks`: a page of 100 tasks, from the listing vs read in full.

Starts `--tasks` trivial tasks through `a2a-temporal serve` (blocking
`SendMessage`s, ten at a time), then lists them with the official SDK client,
`page_size=100`: the default request (target: a page in under 0.5 s), built
from the visibility listing itself, and one with `includeArtifacts` and
`historyLength`, which reads every listed task in full (its event stream, its
result, its files) as every listing did before; and raw temporalio's
`list_workflows` of the same page.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from a2a.client.client import Client
from a2a.types import a2a_pb2 as pb
from temporalio.client import Client as TemporalClient

from bench.common import harness, median
from bench.gateway import gateway
from bench.sdk_client import sdk_client, send_until_completed

PAGE = 100


async def started(client: Client, tasks: int) -> None:
    sends = asyncio.Semaphore(10)

    async def one(i: int) -> None:
        async with sends:
            await send_until_completed(client, "noop", {"text": f"t{i}"})

    await asyncio.gather(*(one(i) for i in range(tasks)))


async def page_seconds(client: Client, request: pb.ListTasksRequest, runs: int) -> float:
    timings = []
    for _ in range(runs + 1):  # the first one warms up
        started_at = time.perf_counter()
        listed = await client.list_tasks(request)
        timings.append(time.perf_counter() - started_at)
        assert len(listed.tasks) == PAGE, len(listed.tasks)
    return median(timings[1:])


async def raw_page_seconds(raw: TemporalClient, runs: int) -> float:
    """A page of the same workflows listed with raw temporalio (the floor under ours)."""
    query = 'WorkflowType = "a2a.SkillRun" AND A2AAgent = "trivial"'
    timings = []
    for _ in range(runs + 1):
        started_at = time.perf_counter()
        listing = raw.list_workflows(query, page_size=PAGE)
        await listing.fetch_next_page()
        timings.append(time.perf_counter() - started_at)
        assert len(listing.current_page or []) == PAGE
    return median(timings[1:])


async def main(tasks: int, runs: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-listing-") as logs:
        async with harness() as h, gateway(h.stack, Path(logs)) as url:
            await h.stack.wait_for_agents(["trivial"], "bench-agents")
            async with sdk_client(f"{url}/agents/trivial") as client:
                await started(client, tasks)
                await asyncio.sleep(1)  # visibility catches up with the last ones
                cheap = await page_seconds(client, pb.ListTasksRequest(page_size=PAGE), runs)
                asked = pb.ListTasksRequest(
                    page_size=PAGE, include_artifacts=True, history_length=10
                )
                full = await page_seconds(client, asked, runs)
            raw = await raw_page_seconds(h.raw, runs)
    print(
        f"ListTasks, a page of {PAGE} completed tasks, median of {runs}: "
        f"{cheap * 1000:.0f} ms from the listing ({cheap / PAGE * 1000:.1f} ms per task; "
        f"target < 500 ms a page); {full * 1000:.0f} ms with includeArtifacts and historyLength, "
        f"every task read in full ({full / PAGE * 1000:.1f} ms per task); "
        f"ratio {full / cheap:.1f}; raw temporalio `list_workflows` of the same page "
        f"{raw * 1000:.0f} ms (ratio {cheap / raw:.2f})"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=PAGE)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(main(args.tasks, args.runs))
