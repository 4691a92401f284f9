"""`SkillRunWorkflow`: one skill invocation (one A2A task).

Every decision here comes from the input and the history: the skill's
scheduling options arrive resolved in the input (or are resolved once by an
activity, whose result is in the history), and calls carry their callee's
options. Two workers hosting different agents replay the same history the
same way.

Retries come in two kinds. An exception the skill raises fails the activity
without server retries; this workflow re-runs the skill up to `retries` times.
A lost worker (no heartbeat), a worker shutting down or the runtime's own I/O
failing is retried by the server's activity retry policy, `infra_retries`
times, which needs no workflow task and so is picked up as soon as a worker
polls the queue.

The pieces live beside it: `_calls` (child tasks), `_questions`, `_push`
(webhooks), `_journal` (bounded continue-as-new), `_outcomes` and `_tasks`.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.contrib.workflow_streams import WorkflowStream
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from a2a_temporal.core.types import CallResult, RunStatus, TaskStatus
    from a2a_temporal.temporal import metrics, wire
    from a2a_temporal.temporal.models import (
        AttemptInput,
        AttemptStart,
        AttemptToken,
        CallBatch,
        CallStarted,
        CarriedRun,
        EventRecord,
        JournalRef,
        Memo,
        PublishAck,
        PublishBatch,
        PushChange,
        PushTarget,
        Settled,
        SkillOptions,
        SkillOutput,
        SkillRef,
        SkillRunInput,
        TaskState,
        WatchOutcome,
    )
    from a2a_temporal.workflows._calls import CallBook
    from a2a_temporal.workflows._fence import AttemptFence
    from a2a_temporal.workflows._journal import Archivist, trim_stream
    from a2a_temporal.workflows._outcomes import Outcome, classify
    from a2a_temporal.workflows._push import NOTIFIED, Notifier
    from a2a_temporal.workflows._question_handlers import QuestionHandlers
    from a2a_temporal.workflows._questions import QuestionBook
    from a2a_temporal.workflows._steps import StepHandlers, StepLog
    from a2a_temporal.workflows._tasks import (
        CANCELED_BY_CALLER,
        canceled,
        ended,
        keep_error,
        log_event,
        parse_input,
        recorded_start,
        resolve_skills,
        set_missing_attributes,
        with_stored_artifacts,
    )


__all__ = ["SkillRunWorkflow"]

_MAX_INFRA_BACKOFF = timedelta(seconds=30)
_SKILL_RETRY_BACKOFF = 1.0
_BOUNDED_CARRY_PATCH = "a2a-bounded-carry"  # tasks from before it carry everything on
_NOT_SERVER_RETRIED = (
    wire.REJECTED_ERROR_TYPE,
    wire.SKILL_ERROR_TYPE,
    wire.AWAITING_INPUT_ERROR_TYPE,
    wire.SUPERSEDED_ERROR_TYPE,
    wire.TASK_CANCELED_ERROR_TYPE,
)


@workflow.defn(name=wire.SKILL_RUN_WORKFLOW)
class SkillRunWorkflow(QuestionHandlers, StepHandlers):
    """Runs one skill as an activity; hosts its event stream, its calls and its questions."""

    @workflow.init
    def __init__(self, input: Any) -> None:
        self._task, self._input_error = parse_input(SkillRunInput, input, wire.SKILL_RUN_WORKFLOW)
        carried = (self._task.carried if self._task else None) or CarriedRun()
        self._stream = WorkflowStream(carried.stream)
        stream = carried.stream
        self._emitted = stream.base_offset + len(stream.log) if stream else 0
        self._handing_over = False
        self._events = self._stream.topic(wire.EVENTS_TOPIC, type=EventRecord)
        self._options: SkillOptions | None = self._task.options if self._task else None
        self._questions = QuestionBook(carried)
        self._steps = StepLog(carried)
        self._calls = CallBook(carried, on_ended=self._steps.add_call)
        self._journal = Archivist(carried)
        first_push = self._task.push if self._task else []
        self._push = Notifier(carried.push if carried.continued else first_push, carried.pushes)
        self._memo: dict[str, Any] = dict(carried.memo)
        self._runs = carried.runs
        self._attempts = carried.attempts
        self._skill_failures = carried.skill_failures
        self._carried = carried
        self._fence = AttemptFence()
        self._parked_on: str | None = None
        self._cancel_requested = False
        self._status: RunStatus = "running" if self._options else "resolving"
        self._result: CallResult | None = None

    @workflow.run
    async def run(self, input: Any) -> CallResult:
        """Run the skill; return its `CallResult` when completed, else end as `ended` says."""
        task_id = workflow.info().workflow_id
        task = self._task
        if task is None:
            error = self._input_error or "invalid input"
            return await self._close(CallResult(task_id=task_id, status="rejected", error=error))
        if self._carried.continued == 0:
            self._count(metrics.TASKS_STARTED)
            log_event("task started", self._labels())
        options = self._options
        if options is None:
            try:
                [resolution] = await resolve_skills([SkillRef(agent=task.agent, skill=task.skill)])
            except asyncio.CancelledError:
                return await self._close(canceled(task_id))
            if resolution.options is None:
                error = resolution.error or "cannot resolve the skill"
                return await self._close(
                    CallResult(task_id=task_id, status="rejected", error=error)
                )
            options = self._options = resolution.options
        if self._carried.continued == 0 and options.search_attributes:
            set_missing_attributes(task.agent, task.skill, task.caller, task.context_id)
        self._set_status("running")
        try:
            result = await self._run_until_done(task, options)
        except asyncio.CancelledError:
            result = canceled(task_id)
        return await self._close(result)

    async def _run_until_done(self, task: SkillRunInput, options: SkillOptions) -> CallResult:
        task_id = workflow.info().workflow_id
        parked_on = self._carried.parked_on
        resumed = self._carried.resumed
        while True:
            if parked_on is not None:
                if not await self._wait_for_answer(parked_on):
                    return canceled(task_id)
                parked_on, resumed = None, True
            outcome = await self._run_attempt(task, options, resumed)
            if outcome.kind == "completed" and outcome.output is not None:
                return CallResult(
                    task_id=task_id,
                    status="completed",
                    output=outcome.output.output,
                    artifacts=outcome.output.artifacts,
                )
            if outcome.kind == "parked":
                parked_on, resumed = outcome.parked, True
                self._set_status("input-required")
            elif outcome.kind == "skill_error" and outcome.failure is not None:
                failure = outcome.failure
                if not failure.retryable or self._skill_failures >= options.retries:
                    return CallResult(task_id=task_id, status="failed", error=failure.describe())
                self._skill_failures += 1
                self._announce_retry(failure.describe(), "skill")
                try:
                    await workflow.sleep(_SKILL_RETRY_BACKOFF)
                except asyncio.CancelledError:
                    return canceled(task_id)
                resumed = False
            else:
                status: TaskStatus = "failed"
                if outcome.kind in ("canceled", "rejected"):
                    status = "canceled" if outcome.kind == "canceled" else "rejected"
                return CallResult(task_id=task_id, status=status, error=outcome.error)
            if self._should_continue_as_new(options):
                await self._continue_as_new(task, options, parked_on=parked_on, resumed=resumed)

    async def _run_attempt(
        self, task: SkillRunInput, options: SkillOptions, resumed: bool
    ) -> Outcome:
        self._runs += 1
        self._attempts += 1
        nonce = self._fence.begin(self._runs)
        timeout = options.timeout_seconds + options.heartbeat_timeout_seconds
        handle = workflow.start_activity(
            wire.RUN_SKILL_ACTIVITY,
            AttemptInput(
                task=task.model_copy(update={"carried": None, "options": options}),
                run=self._runs,
                nonce=nonce,
                resumed=resumed,
                journal=self._journal_ref(),
                usage_before=self._steps.usage,  # its calls count again as it meets them
                **recorded_start(),
            ),
            result_type=SkillOutput,
            task_queue=options.task_queue,
            start_to_close_timeout=timedelta(seconds=timeout),
            heartbeat_timeout=timedelta(seconds=options.heartbeat_timeout_seconds),
            retry_policy=RetryPolicy(
                initial_interval=timedelta(seconds=options.infra_backoff_seconds),
                maximum_interval=_MAX_INFRA_BACKOFF,
                maximum_attempts=options.infra_retries + 1,
                non_retryable_error_types=_NOT_SERVER_RETRIED,
            ),
            cancellation_type=workflow.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
            summary=f"{task.agent}.{task.skill}",
        )
        try:
            try:
                return Outcome("completed", output=await asyncio.shield(handle))
            except asyncio.CancelledError:
                self._cancel_requested = True
                handle.cancel()
                with contextlib.suppress(ActivityError, asyncio.CancelledError):
                    await handle
                return Outcome("canceled", error=CANCELED_BY_CALLER)
            except ActivityError as err:
                return classify(err.cause, options)
        finally:
            self._fence.end()

    def _journal_ref(self) -> JournalRef | None:
        """The journal as it stands now (supersedes may have shortened its calls), or None."""
        ref = self._journal.ref
        if ref is None:
            return None
        return ref.model_copy(
            update={"calls": self._calls.archived, "questions": self._questions.archived_below}
        )

    def _announce_retry(self, reason: str, kind: str) -> None:
        self._count(metrics.RETRIES, kind=kind)
        retry = {"attempt": self._runs, "kind": kind, "reason": reason}
        log_event("task retrying", {**self._labels(), **retry})
        self._emit(
            EventRecord(kind="retry", payload={"attempt": self._attempts + 1, "reason": reason})
        )

    def _check_token(self, token: AttemptToken) -> None:
        self._fence.check(token)

    @workflow.update(name=wire.ATTEMPT_UPDATE)
    def attempt(self, start: AttemptStart) -> None:
        """A retried attempt announces itself; older attempts are fenced off from here on."""
        self._fence.token = start.token
        self._announce_retry(start.reason, "infrastructure")
        self._attempts += 1

    @attempt.validator
    def _check_attempt(self, start: AttemptStart) -> None:
        self._fence.check_start(start)

    @workflow.update(name=wire.PUBLISH_UPDATE)
    def publish(self, batch: PublishBatch) -> PublishAck:
        """Append an attempt's events to the stream; the latest progress becomes the details."""
        progress = None
        self._count(metrics.EVENT_BATCHES)
        kinds = collections.Counter(metrics.event_kind(r.kind) for r in batch.records)
        for kind, events in kinds.items():
            self._count(metrics.EVENTS, events, kind=kind)
        for record in batch.records:
            self._emit(record)
            if record.kind == "progress":
                progress = str(record.payload.get("message", ""))
        if progress is not None:
            workflow.set_current_details(progress)
        info = workflow.info()
        return PublishAck(
            history_length=info.get_current_history_length(),
            history_bytes=info.get_current_history_size(),
        )

    @publish.validator
    def _check_publish(self, batch: PublishBatch) -> None:
        self._check_token(batch.token)

    @workflow.update(name=wire.WATCH_UPDATE)
    async def watch(self, token: AttemptToken) -> WatchOutcome:
        """Return when the attempt should stop (the task was cancelled) or has ended."""
        await workflow.wait_condition(
            lambda: self._cancel_requested or not self._fence.current(token)
        )
        if self._cancel_requested:
            return "canceled"
        return "superseded" if self._fence.token.key() > token.key() else "finished"

    @watch.validator
    def _check_watch(self, token: AttemptToken) -> None:
        self._check_token(token)

    @workflow.query(name=wire.STATE_QUERY)
    def state(self) -> TaskState:
        """Where the task is now."""
        return TaskState(
            status=self._status,
            agent=self._task.agent if self._task else None,
            skill=self._task.skill if self._task else None,
            attempts=self._attempts,
            continued=self._carried.continued,
            open_questions=self._questions.open(),
            parked_on=self._parked_on,
            result=self._result,
        )

    @workflow.update(name=wire.SETTLE_UPDATE)
    async def settle(self, asked_before: int) -> Settled:
        """Wait until the task ends, asks its `asked_before + 1`th question, or has one open.

        It also returns, unsettled, when this run hands over to its continuation:
        the caller asks again.
        """
        await workflow.wait_condition(
            lambda: (
                self._result is not None
                or self._questions.asked > asked_before
                or bool(self._questions.open())
                or self._handing_over
            )
        )
        return Settled(state=self.state(), events=self._emitted, asked=self._questions.asked)

    def _emit(self, record: EventRecord) -> None:
        self._events.publish(record)
        self._journal.note(self._emitted, record)
        self._emitted += 1
        if record.kind == "question":
            self._questions.asked += 1

    @workflow.update(name=wire.CALLS_UPDATE)
    async def calls(self, batch: CallBatch) -> list[CallStarted]:
        """Start a child task per call; a call number seen before gets its first answer."""
        task, options = self._task, self._options
        assert task is not None, "calls come from a running skill"
        assert options is not None, "a running skill has its options"
        fresh = {r.seq for r in batch.requests if r.seq not in self._calls.calls}
        self._count(metrics.CALLS, len(fresh))
        return await self._calls.start(batch.requests, task, options, self._emit)

    @calls.validator
    def _check_calls(self, batch: CallBatch) -> None:
        self._check_token(batch.token)
        supersedes = self._options is not None and self._options.on_divergence == "supersede"
        self._calls.check(batch.requests, supersedes)

    @workflow.update(name=wire.PUSH_UPDATE)
    def push(self, change: PushChange) -> list[PushTarget]:
        """Add, replace or delete a webhook told of this task's terminal and interrupted states."""
        return self._push.change(change)

    @push.validator
    def _check_push(self, change: PushChange) -> None:
        problem = change.problem()
        if problem is not None:
            raise ValueError(problem)
        if self._result is not None:
            raise ValueError("the task has ended")

    @workflow.update(name=wire.MEMO_UPDATE)
    def memo(self, memo: Memo) -> Any:
        """A value the task remembers across attempts: stored once, then returned as stored."""
        if memo.store and memo.key not in self._memo:
            self._memo[memo.key] = memo.value
        return self._memo.get(memo.key)

    @memo.validator
    def _check_memo(self, memo: Memo) -> None:
        self._check_token(memo.token)

    @workflow.query(name=wire.PUSH_QUERY)
    def push_configs(self) -> list[PushTarget]:
        """The webhooks told of this task's states."""
        return self._push.targets

    def _set_status(self, status: RunStatus) -> None:
        if status == self._status:
            return
        self._status = status
        if status in NOTIFIED:
            self._push.notify(status, self._options)
        if self._options is not None:
            searchable = self._options.search_attributes
        else:
            searchable = workflow.info().typed_search_attributes.get(wire.SEARCH_STATUS) is not None
        if searchable:
            workflow.upsert_search_attributes([wire.SEARCH_STATUS.value_set(status)])

    def _should_continue_as_new(self, options: SkillOptions) -> bool:
        """Between attempts, when the history is long and no call is in flight."""
        if self._calls.in_flight():
            return False
        info = workflow.info()
        if options.continue_as_new_after is not None:
            return info.get_current_history_length() >= options.continue_as_new_after
        return info.is_continue_as_new_suggested()

    async def _continue_as_new(
        self,
        task: SkillRunInput,
        options: SkillOptions,
        *,
        parked_on: str | None,
        resumed: bool,
    ) -> None:
        """Hand over to a new run, carrying only what its future needs (see `_journal`)."""
        await self._push.started()
        journal = None
        if workflow.patched(_BOUNDED_CARRY_PATCH):
            journal = await self._archive(options)
            if journal is None:
                return
        self._handing_over = True
        self._stream.detach_pollers()
        await workflow.wait_condition(workflow.all_handlers_finished)
        if journal is not None:
            trim_stream(self._stream)
        carried = CarriedRun(
            stream=self._stream.get_state(),
            questions=list(self._questions.questions.values()),
            calls=[self._calls.calls[seq] for seq in sorted(self._calls.calls)],
            generations=self._calls.generations,
            superseded_calls=self._calls.superseded,
            runs=self._runs,
            attempts=self._attempts,
            skill_failures=self._skill_failures,
            parked_on=parked_on,
            resumed=resumed,
            continued=self._carried.continued + 1,
            push=self._push.targets,
            pushes=self._push.sent,
            memo=self._memo,
            asked=self._questions.asked,
            journal=journal,
            steps=list(self._steps.records.values()),
            superseded_steps=self._steps.superseded,
            usage=self._steps.usage,
            calls_usage=self._steps.calls_usage,
        )
        workflow.continue_as_new(task.model_copy(update={"options": options, "carried": carried}))

    async def _archive(self, options: SkillOptions) -> JournalRef | None:
        """Move the records re-runs replay to the task's journal; None when it cannot be stored."""
        closed = self._questions.closed()
        try:
            await self._journal.archive(
                generation=self._carried.continued + 1,
                questions=closed,
                calls=self._calls.recorded(),
                keep_calls=self._calls.archived,
                memo=self._memo,
                steps=list(self._steps.records.values()),
                events_before=self._emitted,
                options=options,
            )
        except ActivityError as err:
            workflow.logger.warning("journal not stored, carrying on in this run: %s", err.cause)
            return None
        self._questions.archived(closed)
        self._calls.archived_all()
        self._steps.archived()
        self._memo = {}
        return self._journal_ref()

    async def _close(self, result: CallResult) -> CallResult:
        self._fence.end()
        await self._calls.cancel_children()
        if result.status in ("failed", "canceled") and self._options is not None:
            result = await with_stored_artifacts(result, self._options)
        calls, steps = tuple(self._calls.superseded), tuple(self._steps.superseded)
        update = {"superseded_calls": calls, "superseded_steps": steps, "usage": self._steps.total}
        result = self._result = result.model_copy(update=update)
        self._count(metrics.TASKS_ENDED, status=result.status)
        ending = {"attempt": self._runs, "status": result.status, "error": result.error}
        log_event("task ended", {**self._labels(), **ending}, warning=result.status == "failed")
        self._count(metrics.QUESTIONS_CLOSED, len(self._questions.open()), how="task-ended")
        self._set_status(result.status)
        keep_error(result.error)
        await self._push.started()
        self._stream.detach_pollers()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return ended(result.status, result.error, result)
