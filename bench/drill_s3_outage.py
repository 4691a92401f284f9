"""S3 unreachable from the workers: for a while mid-run, and for longer than the retry budget.

Workers (and the drill's client) reach S3 through a TCP proxy the drill takes
down. Each task marks a file once (a `ctx.step`), writes artifacts a pause
apart and returns an output over 256 KiB (kept in S3). Row one: the proxy is
down for `outage` seconds while every task is mid-run; every task must
complete with its output, each artifact's bytes in S3 as written, each event
once (read from the task's stream after it ends) and its mark once. Row two:
another worker's proxy stays down; each task must fail, naming the S3
endpoint, within a bound.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from a2a_temporal import CallResult, TaskHandle
from a2a_temporal.temporal.artifacts import artifact_key
from a2a_temporal.temporal.storage import ObjectStore
from a2a_temporal.testing import DevStack
from bench.drill_io_agents import big_output, part_bytes
from bench.drill_support import io_worker, lines, wait_until
from bench.drill_table import DrillRow
from tests.tcp_proxy import FlakyProxy


@dataclass(frozen=True)
class Shape:
    """How big a run of the drill is."""

    tasks: int
    outage: float
    parts: int
    pause: float
    doomed: int
    doomed_retries: int | None  # infra_retries of the doomed worker; None: the default
    bound: float  # seconds a doomed task may take to fail


SIZES = {
    "full": Shape(
        tasks=100, outage=20.0, parts=8, pause=1.0, doomed=5, doomed_retries=3, bound=300
    ),
    "ci": Shape(tasks=10, outage=10.0, parts=5, pause=0.4, doomed=2, doomed_retries=1, bound=45),
}
PART_KIB = 64
OUTPUT_KIB = 320  # over Temporal's 256 KiB: the output is kept in S3


async def drill(size: str) -> list[DrillRow]:
    """Run both rows at `size` ("full" or "ci") on one dev stack, side by side."""
    shape = SIZES[size]
    with tempfile.TemporaryDirectory() as tmp:
        async with DevStack(ui=False) as stack:
            s3_port = int(stack.s3_endpoint.rsplit(":", 1)[1])
            brief, endless = FlakyProxy(s3_port), FlakyProxy(s3_port)
            await brief.up()
            await endless.up()
            try:
                return list(
                    await asyncio.gather(
                        _outage(stack, brief, shape, Path(tmp)),
                        _beyond_budget(stack, endless, shape, Path(tmp)),
                    )
                )
            finally:
                await brief.down()
                await endless.down()


def _proxied(proxy: FlakyProxy) -> str:
    return f"http://127.0.0.1:{proxy.port}"


async def _outage(stack: DevStack, proxy: FlakyProxy, shape: Shape, tmp: Path) -> DrillRow:
    """Row one: the proxy down for `shape.outage` seconds while every task is mid-run."""
    queue = f"s3-outage-{uuid.uuid4().hex[:8]}"
    logs = tmp / "outage"
    logs.mkdir()
    endpoint = _proxied(proxy)
    async with io_worker(stack, queue, tmp / "outage-worker.log", s3_endpoint=endpoint):
        client = await stack.client(task_queue=queue, s3_endpoint=endpoint)
        args = {
            "parts": shape.parts,
            "part_kib": PART_KIB,
            "output_kib": OUTPUT_KIB,
            "pause": shape.pause,
            "log_dir": str(logs),
        }
        handles = [await client.start("writer", "write", args=args) for _ in range(shape.tasks)]
        await wait_until(
            lambda: len({line.split()[1] for line in lines(logs / "writes.log")}) == shape.tasks,
            60,
            "every task's first write",
        )
        await proxy.down()
        await asyncio.sleep(shape.outage)  # the fault's duration, not a readiness wait
        await proxy.up()
        back = time.time()
        results = await asyncio.wait_for(
            asyncio.gather(*(handle.result() for handle in handles)), 300
        )
        return await _outage_row(stack, shape, handles, results, logs, back)  # queries need it


async def _outage_row(
    stack: DevStack,
    shape: Shape,
    handles: list[TaskHandle],
    results: list[CallResult],
    logs: Path,
    back: float,
) -> DrillRow:
    marks = Counter(lines(logs / "marks.log"))
    events = await asyncio.gather(*(_event_counts(handle) for handle in handles))
    expected = Counter(
        [f"progress:wrote {i}" for i in range(shape.parts)]
        + [f"artifact:part-{i}.bin" for i in range(shape.parts)]
    )
    store = ObjectStore(stack.minio(), stack.bucket)
    missing = sum([await _missing_parts(store, handle.task_id, shape.parts) for handle in handles])
    completed = sum(
        result.status == "completed"
        and result.output == big_output(handle.task_id, OUTPUT_KIB)
        and marks[handle.task_id] == 1
        for handle, result in zip(handles, results, strict=True)
    )
    later = [float(line.split()[0]) for line in lines(logs / "writes.log")]
    retries = sum(counts["retry"] for counts in events)
    return DrillRow(
        fault=f"S3 unreachable for {shape.outage:g} s mid-run",
        tasks=shape.tasks,
        completed=completed,
        lost_events=sum(len(expected - counts) for counts in events),
        duplicated_events=sum(
            n - expected[key]
            for counts in events
            for key, n in counts.items()
            if key in expected and n > expected[key]
        ),
        missing_artifacts=missing,
        repeated_side_effects=sum(n - 1 for n in marks.values() if n > 1),
        recovery_seconds=min(t for t in later if t > back) - back,
        note=f"S3 back to the first artifact written after it; {shape.parts} artifacts of "
        f"{PART_KIB} KiB and a {OUTPUT_KIB} KiB output (kept in S3) a task; {retries} "
        "attempts retried; events read from each task's stream after it ended",
    )


async def _event_counts(handle: TaskHandle) -> Counter[str]:
    """How often each event of the task was on its stream (`kind:what`)."""
    counts: Counter[str] = Counter()
    async for event in handle.events():
        what = event.payload.get("message") or event.payload.get("name") or ""
        counts[event.kind if event.kind == "retry" else f"{event.kind}:{what}"] += 1
    return counts


async def _missing_parts(store: ObjectStore, task_id: str, parts: int) -> int:
    """How many of the task's artifacts are not in S3 as written."""
    missing = 0
    for index in range(parts):
        try:
            stored = await store.get(artifact_key(task_id, f"part-{index}.bin"))
        except FileNotFoundError:
            stored = b""
        missing += stored != part_bytes(task_id, index, PART_KIB)
    return missing


async def _beyond_budget(stack: DevStack, proxy: FlakyProxy, shape: Shape, tmp: Path) -> DrillRow:
    """Row two: S3 stays unreachable; every task fails naming the endpoint, within the bound."""
    queue = f"s3-down-{uuid.uuid4().hex[:8]}"
    endpoint = _proxied(proxy)
    retries: dict[str, Any] = {}
    if shape.doomed_retries is not None:
        retries["infra_retries"] = shape.doomed_retries
    async with io_worker(stack, queue, tmp / "doomed-worker.log", s3_endpoint=endpoint, **retries):
        await proxy.down()
        client = await stack.client(task_queue=queue)  # the client reaches S3; the worker not
        args = {"parts": 1, "part_kib": 1, "output_kib": 1, "pause": 0, "log_dir": str(tmp)}
        started = time.monotonic()
        handles = [await client.start("writer", "write", args=args) for _ in range(shape.doomed)]
        results = await asyncio.wait_for(
            asyncio.gather(*(handle.result() for handle in handles)), shape.bound
        )
        took = time.monotonic() - started
    named = sum(
        result.status == "failed" and endpoint.removeprefix("http://") in (result.error or "")
        for result in results
    )
    budget = "default" if shape.doomed_retries is None else str(shape.doomed_retries)
    return DrillRow(
        fault="S3 unreachable beyond the retry budget",
        tasks=shape.doomed,
        completed=named,
        note=f"completed = failed naming the S3 endpoint; all within {took:.0f} s "
        f"(infra_retries {budget}, bound {shape.bound:g} s): "
        f"{(results[0].error or '').split(' (setting')[0]}",
    )
