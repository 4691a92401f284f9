"""Helpers the drills share: worker processes, polling, percentiles, peak memory."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from a2a_temporal._process import ManagedProcess
from a2a_temporal.testing import DevStack
from bench.drill_io_agents import paced_text

IO_AGENTS = "bench.drill_io_agents:IO_AGENTS"
IO_AGENT_NAMES = ("trivial", "streamer", "writer", "pacer", "holder")


@contextlib.asynccontextmanager
async def io_worker(
    stack: DevStack, queue: str, log: Path, **settings: Any
) -> AsyncIterator[ManagedProcess]:
    """A worker process for `IO_AGENTS` on `queue`, yielded once registered; stopped after."""
    worker = stack.worker_process(IO_AGENTS, log, task_queue=queue, **settings)
    try:
        worker.start()
        await stack.wait_for_agents(IO_AGENT_NAMES, queue)
        yield worker
    finally:
        await worker.stop()


async def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll `condition` every 20 ms until it holds.

    Raises:
        TimeoutError: It did not hold within `timeout` seconds (the message says `what`).
    """
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {timeout:g} s for {what}")
        await asyncio.sleep(0.02)


def percentile(values: list[float], q: float) -> float:
    """The `q` quantile (0..1) of `values`, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def peak_rss_mib(pid: int) -> float:
    """The process's peak resident set (`VmHWM` in /proc), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM for process {pid}")


def lines(path: Path) -> list[str]:
    """The file's lines; none when it does not exist yet."""
    return path.read_text().splitlines() if path.exists() else []


def count_deltas(text: str, deltas: int) -> tuple[int, int]:
    """Lost and duplicated deltas of text that should be `0 1 ... deltas-1 `.

    A delta out of its place counts as lost (in order is part of exactly once).
    """
    got = text.split()
    seen = Counter(got)
    duplicated = sum(n - 1 for n in seen.values())
    expected = paced_text(deltas).split()
    lost = sum(1 for token in expected if token not in seen)
    if not lost and not duplicated and got != expected:
        lost = sum(1 for a, b in zip(got, expected, strict=True) if a != b)
    return lost, duplicated
