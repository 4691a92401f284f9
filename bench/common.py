"""The shared harness: one dev stack, our worker and a raw-temporalio worker side by side."""

from __future__ import annotations

import contextlib
import statistics
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from temporalio.client import Client
from temporalio.worker import Worker

from a2a_temporal import TemporalA2AClient
from a2a_temporal.testing import DevStack
from bench.agents import BENCH_AGENTS
from bench.raw import (
    RawFanOut,
    RawLimitedFanOut,
    RawOneActivity,
    RawSequential,
    raw_noop,
)

RAW_QUEUE = "raw-baseline"


@dataclass
class Harness:
    stack: DevStack
    ours: TemporalA2AClient
    raw: Client


@contextlib.asynccontextmanager
async def harness() -> AsyncIterator[Harness]:
    async with DevStack(ui=False) as stack:
        raw = await stack.connect()
        async with (
            stack.worker(BENCH_AGENTS, task_queue="bench-agents", lean_task_history=True) as ours,
            Worker(
                raw,
                task_queue=RAW_QUEUE,
                workflows=[RawOneActivity, RawFanOut, RawSequential, RawLimitedFanOut],
                activities=[raw_noop],
                max_concurrent_workflow_tasks=100,
            ),
        ):
            yield Harness(stack, ours, raw)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def report(name: str, ours: float, raw: float, unit: str, target: str) -> None:
    ratio = ours / raw if raw else float("inf")
    print(f"{name}: ours {ours:.4g} {unit}, raw {raw:.4g} {unit}, ratio {ratio:.2f} ({target})")


def median(values: list[float]) -> float:
    return statistics.median(values)


async def alternating(
    ours: Callable[[], Awaitable[float]], raw: Callable[[], Awaitable[float]], rounds: int
) -> tuple[list[float], list[float]]:
    """Each side's figure over `rounds` rounds, the side going first alternating.

    On one dev server the later run meets a bigger database and a warmer
    worker; alternating spreads that over both sides instead of one.
    """
    ours_figures: list[float] = []
    raw_figures: list[float] = []
    for round_ in range(rounds):
        if round_ % 2:
            raw_figures.append(await raw())
            ours_figures.append(await ours())
        else:
            ours_figures.append(await ours())
            raw_figures.append(await raw())
    return ours_figures, raw_figures
