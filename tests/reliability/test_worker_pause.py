"""A worker paused past its heartbeat timeout (the `bench.drill_worker_pause` drill at CI size)."""

from __future__ import annotations

from bench.drill_table import markdown
from bench.drill_worker_pause import drill


async def test_a_resumed_stale_worker_duplicates_no_event_artifact_or_side_effect() -> None:
    [row] = await drill("ci")
    assert row.clean, markdown([row])
    assert " 0 attempts retried" not in row.note, "no attempt was taken over"
    assert row.recovery_seconds is not None
