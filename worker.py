"""Worker entrypoint: settings -> logging -> Client(plugins=[AgentPlugin]) -> Worker.run.

Agents come from `A2A_TEMPORAL_AGENTS` (comma-separated `module:attr`), by
default the demo agents; every other setting from `A2A_TEMPORAL_*` variables.
"""

from __future__ import annotations

import asyncio
import os

from a2a_temporal.settings import AgentSettings
from a2a_temporal.worker.run import (
    configure_logging,
    exit_process,
    load_agents,
    run_worker,
    stop_on_signals,
)

DEFAULT_AGENTS = "examples.agents:DEMO_AGENTS"


async def main() -> None:
    """Run the worker until SIGINT or SIGTERM."""
    settings = AgentSettings.from_env()
    configure_logging(settings)
    agents = load_agents(os.environ.get("A2A_TEMPORAL_AGENTS", DEFAULT_AGENTS).split(","))
    await run_worker(agents, settings, stop_on_signals())


if __name__ == "__main__":
    asyncio.run(main())
    exit_process(0)
