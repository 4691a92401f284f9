"""Time from SIGKILL of a worker to its pipeline moving again on a fresh worker.

The skill's activity heartbeats every 0.5 s (`heartbeat_interval`); the server
retries it elsewhere once `heartbeat_timeout` passes without one. The figure is
that timeout plus the new worker's start-up plus the retry's scheduling.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from a2a_temporal import Pipeline
from a2a_temporal._process import ManagedProcess
from a2a_temporal.testing import DevStack


def worker(stack: DevStack, heartbeat_timeout: float, log: Path) -> ManagedProcess:
    return stack.worker_process(
        "bench.agents:BENCH_AGENTS",
        log,
        task_queue="recovery",
        heartbeat_timeout=heartbeat_timeout,
    )


async def lines(path: Path, count: int, limit: float = 120) -> None:
    async with asyncio.timeout(limit):
        while not path.exists() or len(path.read_text().splitlines()) < count:
            await asyncio.sleep(0.02)


async def main(heartbeat_timeout: float) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        marks = Path(tmp) / "marks.log"
        pipeline = Pipeline.parse(
            {
                "name": "recovery",
                "steps": [
                    {
                        "id": "mark",
                        "agent": "recovery",
                        "skill": "mark",
                        "args": {"path": str(marks)},
                    },
                ],
            }
        )
        async with DevStack(ui=False) as stack:
            first = worker(stack, heartbeat_timeout, Path(tmp) / "w1.log")
            second = worker(stack, heartbeat_timeout, Path(tmp) / "w2.log")
            try:
                first.start()
                await stack.wait_for_agents(["recovery"], "recovery")
                client = await stack.client(task_queue="recovery")
                handle = await client.start_pipeline(pipeline)
                await lines(marks, 1)
                assert first.process is not None
                first.process.kill()
                killed = time.time()
                second.start()
                await lines(marks, 2)
                resumed = float(marks.read_text().splitlines()[1])
                state = await handle.result()
                assert state.status == "completed", state.error
            finally:
                await first.stop()
                await second.stop()
    print(
        f"SIGKILL to the step running again on a fresh worker: {resumed - killed:.2f} s "
        f"(heartbeat_timeout {heartbeat_timeout:g} s, heartbeats every 0.5 s; the new "
        "worker was started right after the kill)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--heartbeat-timeout", type=float, default=5.0)
    asyncio.run(main(parser.parse_args().heartbeat_timeout))
