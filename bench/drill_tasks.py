"""The workload the worker-kill, server-restart and worker-pause drills put under a fault.

`Workload` starts `tasks` runs of `stepper.run` (bench/drill_fault_agents.py), each
step a `ctx.step` marker, a `ctx.call`, an artifact and a progress event, with a
question halfway; one subscriber per task follows its events and answers the
question. With `pipelines`, each run is instead the `work` step of a two-step
pipeline whose `check` step (a callee marking once) takes `work`'s first reply;
the subscriber follows the pipeline's events too (its step events and the
question relayed from `work`). Afterwards `counts` counts, per task: progress,
artifact and question events (and pipeline events) lost or duplicated; artifacts
whose bytes in S3 differ from those written; marker lines (stepper's, callee's
and check's steps) written more than once, except those `ctx.step` documents as
possible (docs/steps.md, "Exactly once, where it can be"): a step whose function
returned just before a fault, its record never landing.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from temporalio.service import RPCError

from a2a_temporal._process import ManagedProcess
from a2a_temporal.temporal.client import TemporalA2AClient
from a2a_temporal.temporal.handles import PipelineHandle, TaskHandle
from a2a_temporal.temporal.pipeline import Pipeline
from a2a_temporal.testing import DevStack
from bench.drill_fault_agents import progress
from bench.drill_io_agents import part_bytes
from bench.drill_support import lines

FAULT_AGENTS = "bench.drill_fault_agents:FAULT_AGENTS"
ANSWER = "go on"
PIPELINE_EVENTS = [
    "work running",
    "work completed",
    "check running",
    "check completed",
    "pipeline completed",
]
"""A drill pipeline's step and pipeline events, each once and in this order."""
RECORD_WINDOW = 10.0
"""Seconds before a fault in which a marker may be written and its step's record lost.

One round trip when idle; under the full-size drills on two busy cores a record
took seconds to land (up to 5.4 s between a marker and the SIGKILL that cut it).
"""


@dataclass
class Watch:
    """What one task's subscriber saw (with `pipeline`, `handle` is its `work` step's task)."""

    handle: TaskHandle
    pipeline: PipelineHandle | None = None
    progress: list[str] = field(default_factory=list)
    artifacts: list[str] = field(default_factory=list)
    questions: list[str] = field(default_factory=list)
    retries: list[str] = field(default_factory=list)
    pipeline_events: list[str] = field(default_factory=list)
    relayed_questions: list[str] = field(default_factory=list)
    status: str = ""
    output: object = None


@dataclass
class Workload:
    """`tasks` stepper runs of `steps` steps on `queue`, their markers in `tmp`/marks.log."""

    stack: DevStack
    queue: str
    tmp: Path
    tasks: int
    steps: int
    pause: float
    pipelines: bool = False
    part_kib: int = 16
    watches: list[Watch] = field(default_factory=list)
    _running: list[asyncio.Task[None]] = field(default_factory=list)

    @property
    def marks(self) -> Path:
        """The side-effect log: one `<time> <key>` line per marker written."""
        return self.tmp / "marks.log"

    @property
    def expected_marks(self) -> int:
        """Markers a clean run writes: one per stepper step, one per call, one per check step."""
        return (2 * self.steps + self.pipelines) * self.tasks

    def worker(self, name: str, **settings: object) -> ManagedProcess:
        """A (not started) worker process for the drill's agents on its queue.

        It has an activity slot for every stepper and its callee (a stepper holds
        its slot while its call runs) unless `settings` say otherwise.
        """
        log = self.tmp / f"{name}.log"
        settings = {"worker_max_concurrent_activities": 2 * self.tasks, **settings}
        return self.stack.worker_process(FAULT_AGENTS, log, task_queue=self.queue, **settings)

    def marked(self) -> list[tuple[float, str]]:
        """The markers written so far, as (unix time, key)."""
        found = []
        for line in lines(self.marks):
            stamp, key = line.split(" ", 1)
            found.append((float(stamp), key))
        return found

    def tasks_marked_after(self, moment: float) -> set[str]:
        """The tasks (stepper task ids) with a marker written after `moment`."""
        return {_family(key) for t, key in self.marked() if t > moment}

    def retried(self) -> int:
        """Retry events the subscribers saw (attempts taken over after a fault)."""
        return sum(len(watch.retries) for watch in self.watches)

    def slowest_resume(self, moment: float) -> float:
        """Seconds from `moment` to the last of the running tasks' first markers after it."""
        marked = sorted(self.marked())
        before = {_family(key) for t, key in marked if t <= moment}
        firsts: dict[str, float] = {}
        for t, key in marked:
            if t > moment and _family(key) in before:
                firsts.setdefault(_family(key), t)
        return max(firsts.values(), default=moment) - moment

    def first_mark_after(self, moment: float) -> float | None:
        """The time of the first marker written after `moment`."""
        return min((t for t, _ in self.marked() if t > moment), default=None)

    async def start(self, client: TemporalA2AClient) -> None:
        """Start every task and its subscriber."""
        args: dict[str, object] = {
            "steps": self.steps,
            "part_kib": self.part_kib,
            "pause": self.pause,
            "marks": str(self.marks),
        }
        for _ in range(self.tasks):
            task_id = f"drill-{uuid.uuid4().hex[:12]}"
            if self.pipelines:
                pipeline = await client.start_pipeline(self._pipeline(args), pipeline_id=task_id)
                watch = Watch(client.get_task(f"{task_id}/work"), pipeline)
                self._running.append(asyncio.create_task(_follow_pipeline(watch, pipeline)))
            else:
                watch = Watch(await client.start("stepper", "run", args=args, task_id=task_id))
                self._running.append(asyncio.create_task(_follow(watch)))
            self.watches.append(watch)

    def _pipeline(self, args: dict[str, object]) -> Pipeline:
        """`stepper.run(args)`, then a callee that echoes its first reply."""
        check = {"text": "${steps.work.output.0}", "marks": args["marks"]}
        return Pipeline.parse(
            {
                "name": "drill",
                "steps": [
                    {"id": "work", "agent": "stepper", "skill": "run", "args": args},
                    {"id": "check", "agent": "callee", "skill": "echo", "args": check},
                ],
            }
        )

    async def finish(self, timeout: float) -> None:
        """Wait for every subscriber to see its task end (and take its result)."""
        try:
            await asyncio.wait_for(asyncio.gather(*self._running), timeout)
        finally:
            for task in self._running:
                task.cancel()

    def expected_output(self) -> list[object]:
        """What a clean run returns: the callee's replies with the answer after the middle.

        A pipeline returns its two steps' outputs: those replies, then the first.
        """
        replies: list[object] = [str(index) for index in range(self.steps)]
        replies.insert(self.steps // 2 + 1, ANSWER)
        return [replies, replies[0]] if self.pipelines else replies

    def unrecorded_repeats(self, faults: list[tuple[float, float]]) -> int:
        """Repeated markers a fault explains: written by the attempt it cut, record never sent.

        A repeat is explained when its first write came at most `RECORD_WINDOW`
        seconds before a fault (`(start, end)` unix times) or during it, and its
        task (caller and callees) wrote no other marker between it and the fault:
        the step's record had not landed, so `ctx.step` runs it again by design.
        """
        marked = sorted(self.marked())
        firsts: dict[str, float] = {}
        explained = 0
        for stamp, key in marked:
            if key not in firsts:
                firsts[key] = stamp
                continue
            first = firsts[key]
            family = _family(key)
            explained += any(
                start - RECORD_WINDOW <= first <= end
                and not any(first < t < start and _family(k) == family for t, k in marked)
                for start, end in faults
            )
        return explained

    async def counts(self) -> dict[str, int]:
        """Completed tasks; lost and duplicated events; missing artifacts; repeated markers."""
        lost = duplicated = missing = completed = 0
        for watch in self.watches:
            for seen, expected in _views(watch, self.steps):
                lost_here, duplicated_here = _compare(seen, expected)
                lost += lost_here
                duplicated += duplicated_here
            missing += await self._missing_artifacts(watch.handle)
            completed += watch.status == "completed" and watch.output == self.expected_output()
        keys = Counter(key for _, key in self.marked())
        return {
            "completed": completed,
            "lost_events": lost,
            "duplicated_events": duplicated,
            "missing_artifacts": missing,
            "repeated_side_effects": sum(n - 1 for n in keys.values()),
        }

    async def _missing_artifacts(self, handle: TaskHandle) -> int:
        missing = 0
        for index in range(self.steps):
            try:
                data = await handle.read_artifact(f"part-{index}.bin")
            except FileNotFoundError:
                data = b""
            missing += data != part_bytes(handle.task_id, index, self.part_kib)
        return missing


def _family(key: str) -> str:
    """The stepper task a marker key belongs to (`<task>#<n>`, `<task>/call-<n>`)."""
    return key.split("#")[0].split("/")[0]


def _views(watch: Watch, steps: int) -> list[tuple[list[str], list[str]]]:
    """(seen, expected) per kind of event the task must send exactly once, in order."""
    question = watch.questions[:1] or ["the question"]
    views = [
        (watch.progress, [progress(index) for index in range(steps)]),
        (watch.artifacts, [f"part-{index}.bin" for index in range(steps)]),
        (watch.questions, question),
    ]
    if watch.pipeline is not None:
        views.append((watch.pipeline_events, PIPELINE_EVENTS))
        views.append((watch.relayed_questions, question))
    return views


def _compare(seen: list[str], expected: list[str]) -> tuple[int, int]:
    """Lost and duplicated items of `seen` against `expected` (out of order counts as lost)."""
    counts = Counter(seen)
    duplicated = len(seen) - len(counts) + max(0, len(counts) - len(expected))
    lost = sum(1 for item in expected if item not in counts)
    if not lost and not duplicated and seen != expected:
        lost = sum(1 for a, b in zip(seen, expected, strict=True) if a != b)
    return lost, duplicated


async def _follow(watch: Watch) -> None:
    """Follow the task's events until it ends, answering its question; then take its result."""
    async for event in watch.handle.events():
        if event.kind == "progress":
            watch.progress.append(event.payload["message"])
        elif event.kind == "artifact":
            watch.artifacts.append(event.payload["name"])
        elif event.kind == "question":
            watch.questions.append(event.payload["id"])
            await _answer(watch.handle, event.payload["id"])
        elif event.kind == "retry":
            watch.retries.append(str(event.payload.get("reason")))
    result = await watch.handle.result()
    watch.status, watch.output = result.status, result.output


async def _follow_pipeline(watch: Watch, pipeline: PipelineHandle) -> None:
    """Follow the pipeline's events, and its `work` task's once it runs; then take its result."""
    work: asyncio.Task[None] | None = None
    try:
        async for event in pipeline.events():
            if event.kind == "step":
                watch.pipeline_events.append(f"{event.payload['step']} {event.payload['status']}")
                if event.payload["step"] == "work" and work is None:
                    work = asyncio.create_task(_follow(watch))
            elif event.kind == "question":
                watch.relayed_questions.append(event.payload["id"])
            elif event.kind == "pipeline":
                watch.pipeline_events.append(f"pipeline {event.payload['status']}")
        if work is not None:
            await work
    finally:
        if work is not None:
            work.cancel()
    state = await pipeline.result()
    watch.status = state.status
    watch.output = [state.steps[step].output for step in ("work", "check")]


async def _answer(handle: TaskHandle, question_id: str, timeout: float = 120) -> None:
    """Answer, again while the server does not answer (it may be restarting)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            await handle.answer(question_id, ANSWER)
            return
        except RPCError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)
