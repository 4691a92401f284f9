"""SIGKILL the worker at random moments under load; a fresh worker starts each time.

`Workload` (bench/drill_tasks.py) runs its pipelines: a stepper task (each step a
`ctx.step` marker, a `ctx.call` whose callee marks in a `ctx.step`, an artifact
and a progress event; a question halfway, answered by the subscriber), then a
check step that takes the stepper's first reply and marks once. At
random moments (between 10 % and 80 % of the markers written) the running worker
is SIGKILLed and a new worker process started at once. Every pipeline must finish
with every event once, every artifact's bytes in S3 and every marker once
(but for repeats `ctx.step` documents: see `Workload.unrecorded_repeats`).
"""

from __future__ import annotations

import random
import tempfile
import time
import uuid
from pathlib import Path

from a2a_temporal._process import ManagedProcess
from a2a_temporal.testing import DevStack
from bench.drill_support import wait_until
from bench.drill_table import DrillRow
from bench.drill_tasks import Workload

SIZES = {"full": (100, 6, 1.0, 3), "ci": (10, 4, 0.5, 1)}  # pipelines, steps, pause, kills
HEARTBEAT_TIMEOUT = 3.0


async def drill(size: str) -> list[DrillRow]:
    """Run the drill at `size` ("full" or "ci")."""
    tasks, steps, pause, kills = SIZES[size]
    queue = f"kill-{uuid.uuid4().hex[:8]}"
    moments = sorted(random.uniform(0.1, 0.8) for _ in range(kills))
    killed: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        async with DevStack(ui=False) as stack:
            work = Workload(stack, queue, Path(tmp), tasks, steps, pause, pipelines=True)
            workers = [work.worker("worker-0", heartbeat_timeout=HEARTBEAT_TIMEOUT)]
            try:
                workers[0].start()
                await stack.wait_for_agents(["stepper", "callee"], queue)
                await work.start(await stack.client(task_queue=queue))
                for n, moment in enumerate(moments, 1):
                    await _wait_marks(work, int(work.expected_marks * moment))
                    killed.append(_kill(workers[-1]))
                    workers.append(work.worker(f"worker-{n}", heartbeat_timeout=HEARTBEAT_TIMEOUT))
                    workers[-1].start()
                await work.finish(600)
            finally:
                for worker in workers:
                    await worker.stop()
            counts = await work.counts()
            explained = work.unrecorded_repeats([(moment, moment) for moment in killed])
            recoveries = [(work.first_mark_after(moment) or moment) - moment for moment in killed]
            slowest = max(work.slowest_resume(moment) for moment in killed)
    counts["repeated_side_effects"] -= explained
    return [
        DrillRow(
            fault=f"worker SIGKILLed {kills} time(s) at random moments under {tasks} pipelines "
            "(a fresh worker process each time)",
            tasks=tasks,
            **counts,
            recovery_seconds=max(recoveries),
            note=f"SIGKILL to the next marker written (slowest of {kills}; steps waiting for a "
            f"worker go on once the fresh one polls); every pipeline cut by a kill resumed within "
            f"{slowest:.1f} s (heartbeat_timeout {HEARTBEAT_TIMEOUT:g} s); "
            f"{work.retried()} attempts retried; "
            f"{explained} marker(s) written again because the kill came between a step's "
            "function and its record (ctx.step's documented at-least-once window, not counted); "
            f"each pipeline a stepper task of {steps} steps (each a ctx.step marker, a ctx.call "
            "whose callee marks in a ctx.step, a 16 KiB artifact and a progress event; a "
            "question halfway), then a check step marking once; events = progress, artifact, "
            "question, the pipeline's step events and the question it relays",
        )
    ]


async def _wait_marks(work: Workload, marks: int) -> None:
    """Wait until `marks` markers are written."""
    await wait_until(lambda: len(work.marked()) >= marks, 300, f"{marks} markers")


def _kill(worker: ManagedProcess) -> float:
    """SIGKILL the worker and reap it; the time of the kill."""
    assert worker.process is not None
    worker.process.kill()
    moment = time.time()
    worker.process.wait()
    return moment
