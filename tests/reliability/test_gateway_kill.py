"""The gateway SIGKILLed under open streams (the `bench.drill_gateway_kill` drill at CI size)."""

from __future__ import annotations

from bench.drill_gateway_kill import drill


async def test_streams_resubscribe_after_a_gateway_kill_and_get_every_delta_once() -> None:
    [row] = await drill("ci")
    assert row.clean, row
    assert f"all {row.tasks} resubscribed" in row.note, "every stream lost its gateway"
    assert row.recovery_seconds is not None
