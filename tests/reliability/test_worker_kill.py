"""A worker SIGKILLed under load (the `bench.drill_worker_kill` drill at CI size)."""

from __future__ import annotations

from bench.drill_table import markdown
from bench.drill_worker_kill import drill


async def test_a_killed_worker_loses_duplicates_and_repeats_nothing() -> None:
    [row] = await drill("ci")
    assert row.clean, markdown([row])
    assert " 0 attempts retried" not in row.note, "the kill cut no attempt"
    assert row.recovery_seconds is not None
