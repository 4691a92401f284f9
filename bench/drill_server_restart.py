"""Stop the Temporal server mid-run and start it again on the same SQLite file and port.

`Workload` (bench/drill_tasks.py) runs its stepper tasks on one worker process,
followed by one subscriber each (the driver's client). Once a quarter of the
markers are written, `DevStack.restart_temporal` stops the dev server (SIGTERM),
leaves it down for a while and starts it again in place. Nobody reconnects
anything by hand: the worker, the subscribers and the result waits must ride it
out, every task finish, every event arrive once, every artifact be in S3 and
every marker be written once (but for the repeats `ctx.step` documents: see
`Workload.unrecorded_repeats`).
"""

from __future__ import annotations

import tempfile
import time
import uuid
from pathlib import Path

from a2a_temporal.testing import DevStack
from bench.drill_support import wait_until
from bench.drill_table import DrillRow
from bench.drill_tasks import Workload

SIZES = {"full": (100, 6, 1.0, 5.0), "ci": (10, 4, 0.5, 2.0)}  # tasks, steps, pause, down


async def drill(size: str) -> list[DrillRow]:
    """Run the drill at `size` ("full" or "ci")."""
    tasks, steps, pause, down = SIZES[size]
    queue = f"restart-{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory() as tmp:
        async with DevStack(ui=False) as stack:
            work = Workload(stack, queue, Path(tmp), tasks, steps, pause)
            worker = work.worker("worker")
            try:
                worker.start()
                await stack.wait_for_agents(["stepper", "callee"], queue)
                await work.start(await stack.client(task_queue=queue))
                await wait_until(
                    lambda: len(work.marked()) >= work.expected_marks // 4, 120, "a quarter done"
                )
                stopped = time.time()
                await stack.restart_temporal(down_for=down)
                up = time.time()
                await work.finish(600)
                worker.check_alive()
            finally:
                await worker.stop()
            counts = await work.counts()
            explained = work.unrecorded_repeats([(stopped, up)])
            recovery = work.first_mark_after(up)
            slowest = work.slowest_resume(stopped)
    counts["repeated_side_effects"] -= explained
    return [
        DrillRow(
            fault=f"Temporal server stopped and restarted in place (same SQLite file and port, "
            f"down {up - stopped:.1f} s) under {tasks} tasks",
            tasks=tasks,
            **counts,
            recovery_seconds=None if recovery is None else recovery - stopped,
            note=f"server stop to the first marker written after it answered again; every "
            f"running task wrote its next marker within {slowest:.1f} s of the stop; "
            f"{work.retried()} attempts retried; {explained} marker(s) written again because "
            "the outage came between a step's function and its record (ctx.step's documented "
            f"at-least-once window, not counted); {steps} steps a task, each a ctx.step marker, "
            "a ctx.call (its callee marks in a ctx.step), a 16 KiB artifact and a progress "
            "event, a question halfway; events = progress, artifact, question",
        )
    ]
