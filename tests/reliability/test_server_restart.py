"""The Temporal server restarted under load (the `bench.drill_server_restart` drill at CI size)."""

from __future__ import annotations

from bench.drill_server_restart import drill
from bench.drill_table import markdown


async def test_workers_and_clients_ride_out_a_server_restart_losing_nothing() -> None:
    [row] = await drill("ci")
    assert row.clean, markdown([row])
    assert row.recovery_seconds is not None
