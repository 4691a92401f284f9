"""SIGSTOP a worker past its heartbeat timeout, let a second take over, then SIGCONT it.

`Workload` (bench/drill_tasks.py) runs its stepper tasks on one worker with a
short `heartbeat_timeout`. Once a quarter of the markers are written the worker
is SIGSTOPped and a second worker started; when every unfinished task has made
progress on the second worker (its attempt was retried there), the first is
resumed with SIGCONT. Its stale attempts carry on from where they stopped: the
fencing must refuse their events, calls and questions, and they must write no
marker, artifact or event twice (but for repeats `ctx.step` documents: see
`Workload.unrecorded_repeats`).

Each worker has a slot for every stepper and its callee: a stepper holds its
slot while its call runs, so with fewer slots than tasks the callees would wait
for slots the steppers hold.
"""

from __future__ import annotations

import os
import signal
import tempfile
import time
import uuid
from pathlib import Path

from a2a_temporal._process import ManagedProcess
from a2a_temporal.testing import DevStack
from bench.drill_support import wait_until
from bench.drill_table import DrillRow
from bench.drill_tasks import Workload

SIZES = {"full": (100, 6, 1.0), "ci": (10, 4, 0.5)}  # tasks, steps, seconds between steps
HEARTBEAT_TIMEOUT = 3.0


async def drill(size: str) -> list[DrillRow]:
    """Run the drill at `size` ("full" or "ci")."""
    tasks, steps, pause = SIZES[size]
    queue = f"pause-{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory() as tmp:
        async with DevStack(ui=False) as stack:
            work = Workload(stack, queue, Path(tmp), tasks, steps, pause)
            settings = {
                "heartbeat_timeout": HEARTBEAT_TIMEOUT,
                "worker_max_concurrent_activities": 2 * tasks,  # a stepper and its callee each
            }
            paused, taker = work.worker("paused", **settings), work.worker("taker", **settings)
            try:
                paused.start()
                await stack.wait_for_agents(["stepper", "callee"], queue)
                await work.start(await stack.client(task_queue=queue))
                await wait_until(
                    lambda: len(work.marked()) >= work.expected_marks // 4, 120, "a quarter done"
                )
                stopped = _signal(paused, signal.SIGSTOP)
                taker.start()
                await wait_until(lambda: _taken_over(work, stopped), 180, "the takeover")
                resumed = _signal(paused, signal.SIGCONT)
                await work.finish(300)
            finally:
                _signal(paused, signal.SIGCONT)
                await paused.stop()  # its stale attempts end before anything is counted
                await taker.stop()
            counts = await work.counts()
            recovery = work.first_mark_after(stopped)
            explained = work.unrecorded_repeats([(stopped, stopped)])
    counts["repeated_side_effects"] -= explained
    return [
        DrillRow(
            fault=f"worker SIGSTOPped past its heartbeat timeout ({HEARTBEAT_TIMEOUT:g} s) "
            f"under {tasks} tasks, another takes over, SIGCONT after {resumed - stopped:.0f} s",
            tasks=tasks,
            **counts,
            recovery_seconds=None if recovery is None else recovery - stopped,
            note=f"SIGSTOP to the first marker written after it, by the second worker "
            "(started right after the SIGSTOP; a call started then needs no takeover); every "
            f"task had moved on there {resumed - stopped:.0f} s after the SIGSTOP, when the "
            f"SIGCONT came; {work.retried()} attempts retried; {explained} marker(s) written "
            "again because the SIGSTOP came between a step's function and its record "
            "(ctx.step's documented at-least-once window, not counted); "
            f"{steps} steps a task, each a ctx.step marker, a ctx.call (its callee marks in a "
            "ctx.step), a 16 KiB artifact and a progress event, a question halfway; "
            "events = progress, artifact, question",
        )
    ]


def _signal(process: ManagedProcess, sig: signal.Signals) -> float:
    """Send `sig` to the process (if it runs); the time it was sent."""
    if process.process is not None and process.process.poll() is None:
        os.kill(process.process.pid, sig)
    return time.time()


def _taken_over(work: Workload, stopped: float) -> bool:
    """Every task has ended or made progress since the stop (so on the other worker)."""
    moved = work.tasks_marked_after(stopped)
    return all(w.status or w.handle.task_id in moved for w in work.watches)
