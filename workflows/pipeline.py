"""`PipelineWorkflow`: a DAG of steps, each step one or many child `SkillRunWorkflow`s.

Bookkeeping is incremental so that every workflow task does little work
whatever the pipeline's size: a step becomes ready when its last dependency
completes (counted, not rescanned), finished steps are collected from a queue,
outputs are kept in one dict, and at most `max_children` child tasks run at
once over all steps (Temporal refuses more than 2,000 pending children).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.contrib.workflow_streams import WorkflowStream
from temporalio.exceptions import ChildWorkflowError, TimeoutError

with workflow.unsafe.imports_passed_through():
    from a2a_temporal.core.types import Budget, CallResult, RunStatus
    from a2a_temporal.errors import PipelineError
    from a2a_temporal.temporal import wire
    from a2a_temporal.temporal.models import (
        EventRecord,
        RelayedQuestion,
        SkillOptions,
        SkillRef,
        SkillRunInput,
    )
    from a2a_temporal.temporal.pipeline import (
        MAX_MAP_ITEMS,
        Pipeline,
        PipelineInput,
        PipelineState,
        Step,
        StepState,
        dependencies,
        resolve,
        validate,
    )
    from a2a_temporal.temporal.wire import (
        CHILD_QUESTION_SIGNAL,
        EVENTS_TOPIC,
        PIPELINE_STATE_QUERY,
        PIPELINE_WORKFLOW,
    )
    from a2a_temporal.trust.claims import PIPELINE_AUDIENCE, IdentityCheck, spec_digest
    from a2a_temporal.workflows._tasks import (
        CANCELED_BY_CALLER,
        ChildTask,
        child_result,
        ended,
        log_event,
        parse_input,
        recorded_start,
        relayed_from_below,
        resolve_skills,
        set_missing_attributes,
        start_task,
        verify_identity,
    )


__all__ = ["PipelineWorkflow"]

_DONE = ("completed", "failed", "canceled", "skipped")
_VERIFY_PATCH = "a2a-verify-identity"  # pipelines started before identity checks replay without
_RETAINED_EVENTS = 5_000
_CANCELED_STEP_PATCH = "a2a-canceled-step-fails"  # pipelines from before it went on after one
_CANCEL_CLOSES_PATCH = "a2a-cancel-closes"  # pipelines from before it awaited each child's cancel
_MAX_STARTING = 25  # child starts in flight at once: what a cancelled pipeline waits to settle
_QUIET_TRIES = 5  # seconds a cancelled pipeline waits at most for a second with no step ending


class _Graph:
    """The steps' dependencies both ways, and how many each step still waits for."""

    def __init__(self, pipeline: Pipeline, state: PipelineState) -> None:
        self.steps = {step.id: step for step in pipeline.steps}
        self.order = {step.id: index for index, step in enumerate(pipeline.steps)}
        self.dependents: dict[str, list[str]] = {step_id: [] for step_id in self.steps}
        self.waiting: dict[str, int] = {}
        for step in pipeline.steps:
            deps = sorted(d for d in dependencies(step) if d in self.steps)
            for dep in deps:
                self.dependents[dep].append(step.id)
            self.waiting[step.id] = sum(1 for dep in deps if state.steps[dep].status != "completed")


@workflow.defn(name=PIPELINE_WORKFLOW)
class PipelineWorkflow:
    """Runs the steps whose dependencies are done, in parallel, until all are done."""

    @workflow.init
    def __init__(self, input: Any) -> None:
        self._input, self._input_error = parse_input(PipelineInput, input, PIPELINE_WORKFLOW)
        self._stream = WorkflowStream(self._input.stream_state if self._input else None)
        self._events = self._stream.topic(EVENTS_TOPIC, type=EventRecord)
        pipeline = self._input.pipeline if self._input else None
        self._state = (self._input.state if self._input else None) or PipelineState(
            steps={step.id: StepState() for step in (pipeline.steps if pipeline else ())}
        )
        self._resolved: dict[str, SkillOptions] = dict(
            (self._input.resolved if self._input else None) or {}
        )
        self._graph = _Graph(pipeline, self._state) if pipeline else None
        self._outputs = {
            step_id: step.output
            for step_id, step in self._state.steps.items()
            if step.status == "completed"
        }
        self._ready: deque[str] = deque()
        self._finished: deque[str] = deque()
        self._slots = asyncio.Semaphore(self._input.max_children if self._input else 1)
        self._draining = False
        self._progress_this_run = 0
        self._starts: asyncio.Semaphore | None = None  # None: a run from before the patch
        self._starting = 0
        self._stopping = False

    @workflow.signal(name=CHILD_QUESTION_SIGNAL)
    def child_question(self, relayed: RelayedQuestion) -> None:
        """A step's task asked a question: show it to the pipeline's followers."""
        if not relayed_from_below(relayed):
            return
        payload = {**relayed.question.model_dump(), "task_id": relayed.task_id}
        self._events.publish(EventRecord(kind="question", payload=payload))

    @workflow.query(name=PIPELINE_STATE_QUERY)
    def state(self) -> PipelineState:
        """Every step's status, timings, outputs, task ids and artifacts."""
        return self._state

    @workflow.run
    async def run(self, input: Any) -> PipelineState:
        """Run the pipeline; return its final state when completed, else end as `ended` says."""
        if self._input is None or self._graph is None:
            return await self._close("rejected", self._input_error or "invalid input")
        if workflow.patched(_CANCEL_CLOSES_PATCH):  # before any await: in the first task
            self._starts = asyncio.Semaphore(_MAX_STARTING)
        try:
            refused = await self._verify_identity()
        except asyncio.CancelledError:
            return await self._close("canceled", CANCELED_BY_CALLER)
        if refused is not None:
            return await self._close("rejected", refused)
        if self._input.state is None:
            try:
                problems = await self._resolve()
            except asyncio.CancelledError:
                return await self._close("canceled", CANCELED_BY_CALLER)
            if problems:
                return await self._close("rejected", "; ".join(problems))
            if self._searchable():
                set_missing_attributes("pipeline", self._input.pipeline.name, self._input.caller)
        for step_id in sorted(self._graph.steps, key=self._graph.order.__getitem__):
            state = self._state.steps[step_id]
            if state.status not in _DONE and self._graph.waiting[step_id] == 0:
                self._ready.append(step_id)
        running: dict[str, asyncio.Task[None]] = {}
        try:
            while True:
                self._launch_ready(running)
                if not running:
                    break
                await workflow.wait_condition(
                    lambda: bool(self._finished) or (not self._draining and self._should_drain())
                )
                if self._should_drain():
                    self._draining = True
                failed = self._collect(running)
                if failed is not None:
                    await _cancel_all(running)
                    return await self._close("failed", failed)
        except asyncio.CancelledError:
            await self._stop(running)
            return await self._close("canceled", CANCELED_BY_CALLER)
        if self._draining and any(s.status not in _DONE for s in self._state.steps.values()):
            await self._continue_as_new()
        return await self._close("completed", None)

    async def _stop(self, running: dict[str, asyncio.Task[None]]) -> None:
        """Start no more children; wait for the starts in flight, not for any child to end.

        Temporal cancels the children still running when the pipeline closes
        (`ParentClosePolicy.REQUEST_CANCEL`), with no event per child here.
        """
        if self._starts is None:
            await _cancel_all(running)
            return
        self._stopping = True
        await workflow.wait_condition(lambda: self._starting == 0)
        for _ in range(_QUIET_TRIES):  # a close while children still end is refused and retried
            ended = len(self._finished)
            await workflow.sleep(1)
            if len(self._finished) == ended:
                return

    async def _verify_identity(self) -> str | None:
        """Why a worker refuses the pipeline's identity; None when trusted or nobody's.

        Checked on every run that is not the workflow's own continuation
        (whatever state its input carries), against the start Temporal recorded,
        and bound to the pipeline's spec.
        """
        assert self._input is not None
        start = recorded_start()
        unclaimed = not self._input.auth and self._input.identity is None
        if unclaimed or start["continued"] or not workflow.patched(_VERIFY_PATCH):
            return None
        check = IdentityCheck(
            auth=self._input.auth,
            identity=self._input.identity,
            task_id=workflow.info().workflow_id,
            audience=PIPELINE_AUDIENCE,
            call_digest=spec_digest(self._input.pipeline.model_dump(mode="json")),
            **start,
        )
        return await verify_identity(check)

    async def _resolve(self) -> list[str]:
        """Resolve every step's skill once (in an activity); return the spec's problems."""
        assert self._input is not None
        pairs = sorted({(step.agent, step.skill) for step in self._input.pipeline.steps})
        refs = [SkillRef(agent=agent, skill=skill) for agent, skill in pairs]
        errors: dict[str, str] = {}
        for ref, resolution in zip(refs, await resolve_skills(refs), strict=True):
            key = f"{ref.agent}.{ref.skill}"
            if resolution.options is not None:
                self._resolved[key] = resolution.options
            else:
                errors[key] = resolution.error or "cannot resolve"
        return validate(self._input.pipeline, lambda agent, skill: errors.get(f"{agent}.{skill}"))

    def _searchable(self) -> bool:
        return any(options.search_attributes for options in self._resolved.values())

    def _launch_ready(self, running: dict[str, asyncio.Task[None]]) -> None:
        assert self._graph is not None
        while self._ready and not self._draining:
            step_id = self._ready.popleft()
            task = asyncio.create_task(self._run_step(self._graph.steps[step_id]))
            running[step_id] = task
            task.add_done_callback(self._on_step_done(step_id))

    def _on_step_done(self, step_id: str) -> Callable[[asyncio.Task[None]], None]:
        return lambda _: self._finished.append(step_id)

    def _collect(self, running: dict[str, asyncio.Task[None]]) -> str | None:
        """Settle finished steps; return the error of a step that fails the pipeline."""
        assert self._graph is not None
        while self._finished:
            step_id = self._finished.popleft()
            running.pop(step_id, None)
            state = self._state.steps[step_id]
            if state.status not in _DONE:
                continue  # stopped by draining for continue-as-new: it runs again next run
            self._progress_this_run += 1
            if state.status == "completed":
                self._outputs[step_id] = state.output
                for dependent in self._graph.dependents[step_id]:
                    self._graph.waiting[dependent] -= 1
                    if self._graph.waiting[dependent] == 0:
                        self._ready.append(dependent)
            else:
                self._skip_dependents(step_id)
                if self._graph.steps[step_id].on_failure == "fail":
                    if state.status == "failed":
                        return f"step {step_id!r} failed: {state.error}"
                    if state.status == "canceled" and workflow.patched(_CANCELED_STEP_PATCH):
                        return f"step {step_id!r} was canceled: {state.error}"
        return None

    def _skip_dependents(self, step_id: str) -> None:
        """Every step that depends on `step_id`, directly or not, is skipped."""
        assert self._graph is not None
        pending = deque(self._graph.dependents[step_id])
        while pending:
            dependent = pending.popleft()
            state = self._state.steps[dependent]
            if state.status in _DONE:
                continue
            state.status = "skipped"
            state.error = "a step it depends on did not complete"
            self._announce(dependent)
            pending.extend(self._graph.dependents[dependent])

    def _should_drain(self) -> bool:
        if self._progress_this_run == 0:
            return False  # continuing as new before any progress could loop forever
        assert self._input is not None
        info = workflow.info()
        limit = self._input.continue_as_new_after
        if limit is not None:
            return info.get_current_history_length() >= limit
        return info.is_continue_as_new_suggested()

    async def _run_step(self, step: Step) -> None:
        state = self._state.steps[step.id]
        base_id = f"{workflow.info().workflow_id}/{step.id}"
        try:
            if step.map is None:
                args = resolve(step.args, self._outputs)
                result = await self._run_task(step, args, base_id)
                state.artifacts.extend(result.artifacts)
                self._finish(
                    step.id, result.output, result.error, canceled=result.status == "canceled"
                )
            else:
                await self._run_map(step, state, base_id)
        except asyncio.CancelledError:
            if state.status == "running" and not self._draining:
                state.status = "canceled"
                state.finished_at = workflow.now()
                self._announce(step.id)
            raise
        except workflow.NondeterminismError:
            raise
        except Exception as exc:  # any other failure ends the step, with its error
            self._finish(step.id, None, _describe(exc))

    def _mark_running(self, step_id: str) -> None:
        state = self._state.steps[step_id]
        if state.status == "pending":
            state.status = "running"
            state.started_at = state.started_at or workflow.now()
            self._announce(step_id)

    async def _run_map(self, step: Step, state: StepState, base_id: str) -> None:
        items = resolve(step.map, self._outputs)
        if not isinstance(items, list):
            raise PipelineError(f"map of step {step.id!r} is not a list: {str(items)[:80]}")
        if len(items) > MAX_MAP_ITEMS:
            raise PipelineError(
                f"map of step {step.id!r} has {len(items)} items; the limit is {MAX_MAP_ITEMS}"
            )
        state.items_total = len(items)
        waiting = deque(i for i in range(len(items)) if i not in state.item_results)
        active: dict[asyncio.Task[CallResult], int] = {}
        try:
            while waiting or active:
                while waiting and len(active) < step.concurrency and not self._draining:
                    index = waiting.popleft()
                    args = resolve(step.args, self._outputs, items[index], index)
                    task = asyncio.create_task(self._run_task(step, args, f"{base_id}/{index}"))
                    active[task] = index
                if not active:
                    return  # draining: the next run carries on from item_results
                done, _ = await workflow.wait(list(active), return_when=asyncio.FIRST_COMPLETED)
                if self._stopping:
                    return  # its items' tasks end with the pipeline
                for task in sorted(done, key=active.__getitem__):
                    result = task.result()
                    state.item_results[active.pop(task)] = result
                    state.artifacts.extend(result.artifacts)
                    self._progress_this_run += 1
                    self._announce(step.id)
        except BaseException:
            for task in active:
                task.cancel()
            await asyncio.gather(*active, return_exceptions=True)
            raise
        ordered = [state.item_results[i] for i in range(len(items))]
        failures = [(i, r) for i, r in enumerate(ordered) if not r.ok]
        error = None
        if failures:
            index, first = failures[0]
            error = f"{len(failures)} of {len(items)} items failed; item {index}: {first.error}"
        self._finish(step.id, [r.output for r in ordered], error)

    async def _run_task(self, step: Step, args: dict[str, Any], task_id: str) -> CallResult:
        """Run one child task, re-running it up to `step.retries` times while it fails."""
        result = CallResult(task_id=task_id, status="failed", error="not run")
        for attempt in range(step.retries + 1):
            child_id = task_id if attempt == 0 else f"{task_id}~{attempt}"
            async with self._slots:
                result = await self._child(step, args, child_id)
            self._state.usage = self._state.usage + result.usage
            if result.status in ("completed", "rejected", "canceled"):
                break
        return result

    async def _child(self, step: Step, args: dict[str, Any], task_id: str) -> CallResult:
        assert self._input is not None
        task = SkillRunInput(
            agent=step.agent,
            skill=step.skill,
            args=args,
            auth=self._input.auth,
            identity=self._input.identity,
            caller=workflow.info().workflow_id,
            options=self._resolved[f"{step.agent}.{step.skill}"],
            budget=self._budget_left(),
        )
        handle = await self._start(step, task, task_id)
        # Listed (and the step running) only once started, so a reader can always reach it.
        self._state.steps[step.id].task_ids.append(task_id)
        self._mark_running(step.id)
        try:
            return await handle
        except ChildWorkflowError as err:
            if isinstance(err.cause, TimeoutError):
                return CallResult(
                    task_id=task_id, status="failed", error=f"timed out after {step.timeout:g}s"
                )
            return child_result(task_id, err.cause)

    async def _start(self, step: Step, task: SkillRunInput, task_id: str) -> ChildTask:
        """Start a step's child; at most `_MAX_STARTING` at once, none once the pipeline stops."""
        timeout = timedelta(seconds=step.timeout) if step.timeout else None
        if self._starts is None:
            return await start_task(task, task_id, execution_timeout=timeout)
        async with self._starts:
            if self._stopping:  # the pipeline is closing: the step's task ends here
                raise asyncio.CancelledError
            self._starting += 1
            try:
                return await start_task(task, task_id, execution_timeout=timeout)
            finally:
                self._starting -= 1

    def _budget_left(self) -> Budget | None:
        """What a step's task may spend: what is left of the pipeline's budget."""
        assert self._input is not None
        budget = self._input.pipeline.budget
        return budget.remaining(self._state.usage) if budget else None

    def _finish(
        self, step_id: str, output: Any, error: str | None, *, canceled: bool = False
    ) -> None:
        state = self._state.steps[step_id]
        state.output = output
        state.error = error
        state.status = "canceled" if canceled else "failed" if error else "completed"
        state.started_at = state.started_at or workflow.now()
        state.finished_at = workflow.now()
        self._announce(step_id)
        step = {"pipeline_id": workflow.info().workflow_id, "step": step_id, "status": state.status}
        log_event("step ended", {**step, "error": error}, warning=bool(error))

    def _announce(self, step_id: str) -> None:
        """Publish a step's status on the pipeline's event stream."""
        state = self._state.steps[step_id]
        payload: dict[str, Any] = {"step": step_id, "status": state.status}
        if state.items_total is not None:
            payload["items_done"] = len(state.item_results)
            payload["items_total"] = state.items_total
        if state.error:
            payload["error"] = state.error
        self._events.publish(EventRecord(kind="step", payload=payload))

    async def _continue_as_new(self) -> None:
        assert self._input is not None
        self._state.runs += 1
        for state in self._state.steps.values():
            if state.status == "running":
                state.status = "pending"  # stopped while draining; it starts again next run
        self._stream.detach_pollers()
        await workflow.wait_condition(workflow.all_handlers_finished)
        stream = self._stream.get_state()
        if len(stream.log) > _RETAINED_EVENTS:
            self._stream.truncate(stream.base_offset + len(stream.log) - _RETAINED_EVENTS)
            stream = self._stream.get_state()
        workflow.continue_as_new(
            self._input.model_copy(
                update={"state": self._state, "stream_state": stream, "resolved": self._resolved}
            )
        )

    async def _close(self, status: RunStatus, error: str | None) -> PipelineState:
        for step_id, state in self._state.steps.items():
            if state.status in ("pending", "running"):
                state.status = "skipped" if state.status == "pending" else "canceled"
                self._announce(step_id)
        self._state.status = status
        self._state.error = error
        payload = {"status": status, "error": error}
        self._events.publish(EventRecord(kind="pipeline", payload=payload))
        pipeline = {"pipeline_id": workflow.info().workflow_id, **payload}
        log_event("pipeline ended", pipeline, warning=status == "failed")
        if workflow.info().typed_search_attributes.get(wire.SEARCH_STATUS) is not None:
            workflow.upsert_search_attributes([wire.SEARCH_STATUS.value_set(status)])
        self._stream.detach_pollers()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return ended(status, error, self._state)


def _describe(exc: Exception) -> str:
    if isinstance(exc, PipelineError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


async def _cancel_all(running: dict[str, asyncio.Task[None]]) -> None:
    for task in running.values():
        task.cancel()
    await asyncio.gather(*running.values(), return_exceptions=True)
