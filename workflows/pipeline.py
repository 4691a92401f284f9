"""`PipelineWorkflow`: a DAG of steps, each step one or many child `SkillRunWorkflow`s."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.contrib.workflow_streams import WorkflowStream
from temporalio.exceptions import ChildWorkflowError, TimeoutError

with workflow.unsafe.imports_passed_through():
    from a2a_temporal import search_attributes as attrs
    from a2a_temporal.models import EVENTS_TOPIC, EventRecord, SkillOptions, SkillRef, SkillRunInput
    from a2a_temporal.pipeline import (
        PipelineError,
        PipelineInput,
        PipelineState,
        Step,
        StepState,
        dependencies,
        resolve,
        validate,
    )
    from a2a_temporal.types import CallResult
    from a2a_temporal.workflows.skill_run import describe_failure, resolve_skills, start_task

__all__ = ["PIPELINE_STATE_QUERY", "PipelineWorkflow"]

PIPELINE_STATE_QUERY = "a2a.pipeline_state"
_DONE = ("completed", "failed", "canceled", "skipped")


@workflow.defn(name="a2a.Pipeline")
class PipelineWorkflow:
    """Runs the steps whose dependencies are done, in parallel, until all are done."""

    @workflow.init
    def __init__(self, input: PipelineInput) -> None:
        self._input = input
        self._stream = WorkflowStream(input.stream_state)
        self._events = self._stream.topic(EVENTS_TOPIC, type=EventRecord)
        self._state = input.state or PipelineState(
            steps={step.id: StepState() for step in input.pipeline.steps}
        )
        self._draining = False
        self._progress_this_run = 0
        self._resolved: dict[str, SkillOptions] = dict(input.resolved or {})

    async def _resolve(self) -> list[str]:
        """Resolve every step's skill once (in an activity); return the spec's problems."""
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

    @workflow.query(name=PIPELINE_STATE_QUERY)
    def state(self) -> PipelineState:
        """Every step's status, timings, outputs, task ids and artifacts."""
        return self._state

    @workflow.run
    async def run(self, input: PipelineInput) -> PipelineState:
        """Run the pipeline; returns its final state (never raises for step failures)."""
        if input.state is None:
            try:
                problems = await self._resolve()
            except asyncio.CancelledError:
                return await self._close("canceled", "canceled by caller")
            if problems:
                return await self._close("rejected", "; ".join(problems))
        running: dict[str, asyncio.Task[None]] = {}
        try:
            while True:
                self._launch_ready(running)
                if not running:
                    break
                await workflow.wait_condition(
                    lambda: (
                        any(task.done() for task in running.values())
                        or (not self._draining and self._should_drain())
                    )
                )
                if self._should_drain():
                    self._draining = True
                failed = self._collect(running)
                if failed is not None:
                    await _cancel_all(running)
                    return await self._close("failed", failed)
        except asyncio.CancelledError:
            await _cancel_all(running)
            return await self._close("canceled", "canceled by caller")
        if self._draining and any(s.status not in _DONE for s in self._state.steps.values()):
            self._state.runs += 1
            await self._quiesce()
            workflow.continue_as_new(
                input.model_copy(
                    update={
                        "state": self._state,
                        "stream_state": self._stream.get_state(),
                        "resolved": self._resolved,
                    }
                )
            )
        return await self._close("completed", None)

    def _launch_ready(self, running: dict[str, asyncio.Task[None]]) -> None:
        steps = self._state.steps
        for step in self._input.pipeline.steps:
            state = steps[step.id]
            if step.id in running or state.status in _DONE:
                continue
            deps = [steps[d] for d in dependencies(step)]
            if any(d.status in ("failed", "canceled", "skipped") for d in deps):
                state.status = "skipped"
                state.error = "a step it depends on did not complete"
                self._announce(step.id)
            elif all(d.status == "completed" for d in deps) and not self._draining:
                running[step.id] = asyncio.create_task(self._run_step(step))

    def _collect(self, running: dict[str, asyncio.Task[None]]) -> str | None:
        """Forget finished step tasks; return the error of a step that fails the pipeline."""
        for step_id, task in list(running.items()):
            if not task.done():
                continue
            del running[step_id]
            state = self._state.steps[step_id]
            if state.status in _DONE:
                self._progress_this_run += 1
            step = self._input.pipeline.step(step_id)
            if state.status == "failed" and step.on_failure == "fail":
                return f"step {step_id!r} failed: {state.error}"
        return None

    def _should_drain(self) -> bool:
        if self._progress_this_run == 0:
            return False  # continuing as new before any progress could loop forever
        info = workflow.info()
        limit = self._input.continue_as_new_after
        if limit is not None:
            return info.get_current_history_length() >= limit
        return info.is_continue_as_new_suggested()

    async def _run_step(self, step: Step) -> None:
        state = self._state.steps[step.id]
        if state.status == "pending":
            state.status = "running"
            state.started_at = workflow.now()
            self._announce(step.id)
        outputs = {
            step_id: s.output for step_id, s in self._state.steps.items() if s.status == "completed"
        }
        base_id = f"{workflow.info().workflow_id}/{step.id}"
        try:
            if step.map is None:
                result = await self._run_task(step, resolve(step.args, outputs), base_id)
                state.artifacts.extend(result.artifacts)
                self._finish(
                    step.id, result.output, result.error, canceled=result.status == "canceled"
                )
            else:
                await self._run_map(step, state, outputs, base_id)
        except PipelineError as exc:
            self._finish(step.id, None, str(exc))
        except asyncio.CancelledError:
            state.status = "canceled"
            state.finished_at = workflow.now()
            self._announce(step.id)
            raise

    async def _run_map(
        self, step: Step, state: StepState, outputs: dict[str, Any], base_id: str
    ) -> None:
        items = resolve(step.map, outputs)
        if not isinstance(items, list):
            raise PipelineError(f"map of step {step.id!r} is not a list: {str(items)[:80]}")
        state.items_total = len(items)
        waiting = [i for i in range(len(items)) if i not in state.item_results]
        active: dict[asyncio.Task[CallResult], int] = {}
        while waiting or active:
            while waiting and len(active) < step.concurrency and not self._draining:
                index = waiting.pop(0)
                args = resolve(step.args, outputs, items[index], index)
                active[asyncio.create_task(self._run_task(step, args, f"{base_id}/{index}"))] = (
                    index
                )
            if not active:
                return  # draining: the next run carries on from item_results
            try:
                done, _ = await workflow.wait(list(active), return_when=asyncio.FIRST_COMPLETED)
            except asyncio.CancelledError:
                for task in active:
                    task.cancel()
                await asyncio.gather(*active, return_exceptions=True)
                raise
            for task in done:
                result = task.result()
                state.item_results[active.pop(task)] = result
                self._announce(step.id)
                self._progress_this_run += 1
                state.artifacts.extend(result.artifacts)
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
            result = await self._child(step, args, child_id)
            if result.status in ("completed", "rejected", "canceled"):
                break
        return result

    async def _child(self, step: Step, args: dict[str, Any], task_id: str) -> CallResult:
        task = SkillRunInput(
            agent=step.agent,
            skill=step.skill,
            args=args,
            auth=self._input.auth,
            caller=workflow.info().workflow_id,
            options=self._resolved[f"{step.agent}.{step.skill}"],
        )
        timeout = timedelta(seconds=step.timeout) if step.timeout else None
        handle = await start_task(task, task_id, execution_timeout=timeout)
        # Listed only once started, so a reader of the state can always reach it.
        self._state.steps[step.id].task_ids.append(task_id)
        try:
            return await handle
        except ChildWorkflowError as err:
            if isinstance(err.cause, TimeoutError):
                return CallResult(
                    task_id=task_id, status="failed", error=f"timed out after {step.timeout:g}s"
                )
            status, error = describe_failure(err.cause)
            return CallResult(task_id=task_id, status=status, error=error)

    def _finish(
        self, step_id: str, output: Any, error: str | None, *, canceled: bool = False
    ) -> None:
        state = self._state.steps[step_id]
        state.output = output
        state.error = error
        state.status = "canceled" if canceled else "failed" if error else "completed"
        state.finished_at = workflow.now()
        self._announce(step_id)

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

    async def _quiesce(self) -> None:
        self._stream.detach_pollers()
        await workflow.wait_condition(workflow.all_handlers_finished)

    async def _close(self, status: Any, error: str | None) -> PipelineState:
        for step_id, state in self._state.steps.items():
            if state.status in ("pending", "running"):
                state.status = "skipped" if state.status == "pending" else "canceled"
                self._announce(step_id)
        self._state.status = status
        self._state.error = error
        payload = {"status": status, "error": error}
        self._events.publish(EventRecord(kind="pipeline", payload=payload))
        if workflow.info().typed_search_attributes.get(attrs.STATUS) is not None:
            workflow.upsert_search_attributes([attrs.STATUS.value_set(status)])
        await self._quiesce()
        return self._state


async def _cancel_all(running: dict[str, asyncio.Task[None]]) -> None:
    for task in running.values():
        task.cancel()
    await asyncio.gather(*running.values(), return_exceptions=True)
