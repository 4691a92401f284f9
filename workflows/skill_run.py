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
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributePair, TypedSearchAttributes
from temporalio.contrib.workflow_streams import WorkflowStream
from temporalio.exceptions import (
    ActivityError,
    ApplicationError,
    CancelledError,
    ChildWorkflowError,
    TimeoutError,
    TimeoutType,
)

with workflow.unsafe.imports_passed_through():
    from a2a_temporal import search_attributes as attrs
    from a2a_temporal.answers import check_answer
    from a2a_temporal.auth import DelegationRefused, delegated_identity
    from a2a_temporal.models import (
        ANSWER_UPDATE,
        ASK_UPDATE,
        ATTEMPT_UPDATE,
        AWAIT_ANSWER_UPDATE,
        AWAITING_INPUT_ERROR_TYPE,
        CALLS_UPDATE,
        CHILD_QUESTION_SIGNAL,
        EVENTS_TOPIC,
        INFRASTRUCTURE_ERROR_TYPE,
        MEMO_UPDATE,
        PUBLISH_UPDATE,
        PUSH_QUERY,
        PUSH_UPDATE,
        QUESTIONS_QUERY,
        REJECTED_ERROR_TYPE,
        SETTLE_UPDATE,
        SKILL_ERROR_TYPE,
        STATE_QUERY,
        SUPERSEDED_ERROR_TYPE,
        TASK_CANCELED_ERROR_TYPE,
        UNKNOWN_ATTEMPT_ERROR_TYPE,
        WATCH_UPDATE,
        Answer,
        AttemptStart,
        AttemptToken,
        CallBatch,
        CallRequest,
        CallStarted,
        CarriedRun,
        EventRecord,
        IdentityCheck,
        Memo,
        Parked,
        PublishAck,
        PublishBatch,
        PushChange,
        PushDelivery,
        PushTarget,
        QuestionAsk,
        QuestionState,
        RelayedQuestion,
        Resolution,
        RunSkillInput,
        RunStatus,
        Settled,
        SkillFailure,
        SkillOptions,
        SkillOutput,
        SkillRef,
        SkillRunInput,
        TaskState,
        WatchOutcome,
    )
    from a2a_temporal.types import ArtifactRef, CallResult, TaskStatus
    from pydantic import ValidationError

__all__ = [
    "LIST_ARTIFACTS_ACTIVITY",
    "PUSH_DELIVERY_WORKFLOW",
    "RESOLVE_ACTIVITY",
    "RUN_SKILL_ACTIVITY",
    "VERIFY_IDENTITY_ACTIVITY",
    "SkillRunWorkflow",
    "TaskHandle",
    "describe_failure",
    "parse_input",
    "relay_question",
    "resolve_skills",
    "set_missing_attributes",
    "start_push_delivery",
    "start_task",
    "task_attributes",
]

RUN_SKILL_ACTIVITY = "a2a.run_skill"
LIST_ARTIFACTS_ACTIVITY = "a2a.list_artifacts"
RESOLVE_ACTIVITY = "a2a.resolve_skills"
VERIFY_IDENTITY_ACTIVITY = "a2a.verify_identity"
PUSH_DELIVERY_WORKFLOW = "a2a.PushDelivery"
_LIST_TIMEOUT = timedelta(seconds=30)
_RESOLVE_TIMEOUT = timedelta(seconds=30)
_MAX_INFRA_BACKOFF = timedelta(seconds=30)
_SKILL_RETRY_BACKOFF = 1.0
_NOTIFIED = ("input-required", "completed", "failed", "canceled", "rejected")
_NOT_SERVER_RETRIED = [
    REJECTED_ERROR_TYPE,
    SKILL_ERROR_TYPE,
    AWAITING_INPUT_ERROR_TYPE,
    SUPERSEDED_ERROR_TYPE,
    TASK_CANCELED_ERROR_TYPE,
]


def task_attributes(
    agent: str, skill: str, caller: str | None, context_id: str | None = None
) -> TypedSearchAttributes:
    """Search attributes a task starts with."""
    pairs: list[SearchAttributePair[str]] = [
        SearchAttributePair(attrs.AGENT, agent),
        SearchAttributePair(attrs.SKILL, skill),
        SearchAttributePair(attrs.CALLER, caller or "external"),
        SearchAttributePair(attrs.STATUS, "running"),
    ]
    if context_id:
        pairs.append(SearchAttributePair(attrs.CONTEXT, context_id))
    return TypedSearchAttributes(pairs)


def set_missing_attributes(
    agent: str, skill: str, caller: str | None, context_id: str | None = None
) -> None:
    """Set the task's search attributes when its starter (any Temporal client) did not."""
    current = workflow.info().typed_search_attributes
    if current.get(attrs.AGENT) is None:
        pairs = task_attributes(agent, skill, caller, context_id)
        workflow.upsert_search_attributes([pair.key.value_set(pair.value) for pair in pairs])


def parse_input(raw: Any) -> tuple[SkillRunInput | None, str | None]:
    """Validate the workflow's JSON input; return it, or why it is not valid."""
    if isinstance(raw, SkillRunInput):
        return raw, None
    try:
        return SkillRunInput.model_validate(raw), None
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or '(input)'}: {error['msg']}"
            for error in exc.errors()
        )
        return None, f"invalid a2a.SkillRun input: {problems}"


async def resolve_skills(refs: list[SkillRef]) -> list[Resolution]:
    """Resolve skills once, in an activity on this worker; the answer is in the history."""
    resolved: list[Resolution] = await workflow.execute_local_activity(
        RESOLVE_ACTIVITY,
        refs,
        result_type=list[Resolution],
        start_to_close_timeout=_RESOLVE_TIMEOUT,
        summary="resolve " + ", ".join(f"{ref.agent}.{ref.skill}" for ref in refs[:5]),
    )
    return resolved


async def verify_identity(check: IdentityCheck) -> str | None:
    """Have this worker check a run's identity (in an activity); why it is refused, or None."""
    refused: str | None = await workflow.execute_local_activity(
        VERIFY_IDENTITY_ACTIVITY,
        check,
        result_type=str | None,  # type: ignore[arg-type]
        start_to_close_timeout=_RESOLVE_TIMEOUT,
        summary="verify identity",
    )
    return refused


class _Outcome:
    """How one activity execution of the skill ended."""

    def __init__(
        self,
        kind: str,
        *,
        output: SkillOutput | None = None,
        parked: str | None = None,
        failure: SkillFailure | None = None,
        error: str | None = None,
    ) -> None:
        self.kind = kind
        self.output = output
        self.parked = parked
        self.failure = failure
        self.error = error


@workflow.defn(name="a2a.SkillRun")
class SkillRunWorkflow:
    """Runs one skill as an activity; hosts its event stream, its calls and its questions."""

    @workflow.init
    def __init__(self, input: Any) -> None:
        self._task, self._input_error = parse_input(input)
        carried = (self._task.carried if self._task else None) or CarriedRun()
        self._stream = WorkflowStream(carried.stream)
        stream = carried.stream
        self._emitted = stream.base_offset + len(stream.log) if stream else 0
        self._asked = carried.asked
        self._handing_over = False
        self._events = self._stream.topic(EVENTS_TOPIC, type=EventRecord)
        self._options: SkillOptions | None = self._task.options if self._task else None
        self._questions = {question.id: question for question in carried.questions}
        self._calls = {call.seq: call for call in carried.calls}
        self._generations = dict(carried.generations)
        self._superseded = list(carried.superseded_calls)
        self._starting: dict[int, asyncio.Task[CallStarted]] = {}
        self._children: dict[str, asyncio.Task[None]] = {}
        self._push = list(
            carried.push if carried.continued else (self._task.push if self._task else [])
        )
        self._pushes = carried.pushes
        self._memo: dict[str, Any] = dict(carried.memo)
        self._push_starts: list[asyncio.Task[None]] = []
        self._runs = carried.runs
        self._attempts = carried.attempts
        self._skill_failures = carried.skill_failures
        self._carried = carried
        self._token = AttemptToken(run=0, attempt=0)
        self._active_run: int | None = None
        self._parked_on: str | None = None
        self._cancel_requested = False
        self._status: RunStatus = "running" if self._options else "resolving"
        self._result: CallResult | None = None

    @workflow.run
    async def run(self, input: Any) -> CallResult:
        """Run the skill and return its `CallResult` (never raises for skill errors)."""
        task_id = workflow.info().workflow_id
        task = self._task
        if task is None:
            error = self._input_error or "invalid input"
            return await self._close(CallResult(task_id=task_id, status="rejected", error=error))
        options = self._options
        if options is None:
            try:
                [resolution] = await resolve_skills([SkillRef(agent=task.agent, skill=task.skill)])
            except asyncio.CancelledError:
                return await self._close(_canceled(task_id))
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
            result = _canceled(task_id)
        return await self._close(result)

    async def _run_until_done(self, task: SkillRunInput, options: SkillOptions) -> CallResult:
        task_id = workflow.info().workflow_id
        parked_on = self._carried.parked_on
        resumed = self._carried.resumed
        while True:
            if parked_on is not None:
                if not await self._wait_for_answer(parked_on):
                    return _canceled(task_id)
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
                self._announce_retry(failure.describe())
                try:
                    await workflow.sleep(_SKILL_RETRY_BACKOFF)
                except asyncio.CancelledError:
                    return _canceled(task_id)
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
    ) -> _Outcome:
        self._runs += 1
        self._attempts += 1
        self._token = AttemptToken(run=self._runs, attempt=1)
        self._active_run = self._runs
        timeout = options.timeout_seconds + options.heartbeat_timeout_seconds
        handle = workflow.start_activity(
            RUN_SKILL_ACTIVITY,
            RunSkillInput(
                task=task.model_copy(update={"carried": None, "options": options}),
                run=self._runs,
                resumed=resumed,
                parent_id=parent.workflow_id if (parent := workflow.info().parent) else None,
                started_at=workflow.info().workflow_start_time,
                continued=workflow.info().continued_run_id is not None,
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
                return _Outcome("completed", output=await asyncio.shield(handle))
            except asyncio.CancelledError:
                self._cancel_requested = True
                handle.cancel()
                with contextlib.suppress(ActivityError, asyncio.CancelledError):
                    await handle
                return _Outcome("canceled", error="canceled by caller")
            except ActivityError as err:
                return _classify(err.cause, options)
        finally:
            self._active_run = None

    async def _wait_for_answer(self, question_id: str) -> bool:
        """Wait (durably) for the answer a parked skill needs; False when cancelled."""
        question = self._questions[question_id]
        workflow.set_current_details(f"waiting for an answer to {question_id}: {question.prompt}")
        self._set_status("input-required")
        self._parked_on = question_id
        try:
            await workflow.wait_condition(
                lambda: question.answered, timeout=self._time_left(question)
            )
        except builtins.TimeoutError:
            question.timed_out = True
        except asyncio.CancelledError:
            self._cancel_requested = True
            return False
        finally:
            self._parked_on = None
        self._set_status("running")
        return True

    def _time_left(self, question: QuestionState) -> float | None:
        """Seconds until the question's timeout, counted from when it was asked."""
        if question.timeout_seconds is None:
            return None
        asked = question.asked_at or workflow.now()
        elapsed = (workflow.now() - asked).total_seconds()
        return max(0.001, question.timeout_seconds - elapsed)

    def _announce_retry(self, reason: str) -> None:
        self._emit(
            EventRecord(kind="retry", payload={"attempt": self._attempts + 1, "reason": reason})
        )

    def _check_token(self, token: AttemptToken) -> None:
        if token.key() < self._token.key():
            raise ApplicationError(
                f"attempt {token.run}.{token.attempt} was superseded by attempt "
                f"{self._token.run}.{self._token.attempt}",
                type=SUPERSEDED_ERROR_TYPE,
            )
        if token.key() > self._token.key():
            raise ApplicationError(
                f"attempt {token.run}.{token.attempt} is not known here yet",
                type=UNKNOWN_ATTEMPT_ERROR_TYPE,
            )

    @workflow.update(name=ATTEMPT_UPDATE)
    def attempt(self, start: AttemptStart) -> None:
        """A retried attempt announces itself; older attempts are fenced off from here on."""
        self._token = start.token
        self._announce_retry(start.reason)
        self._attempts += 1

    @attempt.validator
    def _check_attempt(self, start: AttemptStart) -> None:
        if start.token.key() <= self._token.key() or start.token.run != self._active_run:
            raise ApplicationError(
                f"attempt {start.token.run}.{start.token.attempt} is not the newest",
                type=SUPERSEDED_ERROR_TYPE,
            )

    @workflow.update(name=PUBLISH_UPDATE)
    def publish(self, batch: PublishBatch) -> PublishAck:
        """Append an attempt's events to the stream; the latest progress becomes the details."""
        progress = None
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

    @workflow.update(name=WATCH_UPDATE)
    async def watch(self, token: AttemptToken) -> WatchOutcome:
        """Return when the attempt should stop (the task was cancelled) or has ended."""
        await workflow.wait_condition(
            lambda: (
                self._cancel_requested
                or self._token.key() != token.key()
                or self._active_run != token.run
            )
        )
        if self._cancel_requested:
            return "canceled"
        return "superseded" if self._token.key() > token.key() else "finished"

    @watch.validator
    def _check_watch(self, token: AttemptToken) -> None:
        self._check_token(token)

    @workflow.update(name=ASK_UPDATE)
    async def ask(self, ask: QuestionAsk) -> QuestionState:
        """Register a question (once; asking again returns its state) and announce it.

        The announcement also goes to the workflow that started this task, so
        whoever follows a pipeline or a calling task sees its callees' questions.
        """
        question = ask.question
        known = self._questions.get(question.id)
        if known is None:
            known = QuestionState(**question.model_dump(), asked_at=workflow.now())
            self._questions[question.id] = known
            self._set_status("input-required")
            await self._announce_question(
                RelayedQuestion(task_id=workflow.info().workflow_id, question=question)
            )
        return known

    @workflow.signal(name=CHILD_QUESTION_SIGNAL)
    async def child_question(self, relayed: RelayedQuestion) -> None:
        """A callee asked a question: show it here too, and pass it further up."""
        await self._announce_question(relayed)

    async def _announce_question(self, relayed: RelayedQuestion) -> None:
        payload = {**relayed.question.model_dump(), "task_id": relayed.task_id}
        self._emit(EventRecord(kind="question", payload=payload))
        await relay_question(relayed)

    @ask.validator
    def _check_ask(self, ask: QuestionAsk) -> None:
        self._check_token(ask.token)

    @workflow.update(name=AWAIT_ANSWER_UPDATE)
    async def await_answer(self, ask: QuestionAsk) -> QuestionState:
        """Wait a while for an answer; the skill parks when this returns unanswered."""
        question = self._questions[ask.question.id]
        options = self._options
        park_after = options.park_after_seconds if options else None
        left = self._time_left(question)
        times_out = left is not None and (park_after is None or left <= park_after)
        with contextlib.suppress(builtins.TimeoutError):
            await workflow.wait_condition(
                lambda: question.answered or self._cancel_requested,
                timeout=left if times_out else park_after,
            )
        if self._cancel_requested and not question.answered:
            raise ApplicationError(
                f"task {workflow.info().workflow_id} was cancelled while waiting for an answer",
                type=TASK_CANCELED_ERROR_TYPE,
            )
        if not question.answered and times_out:
            question.timed_out = True
        return question

    @await_answer.validator
    def _check_await(self, ask: QuestionAsk) -> None:
        self._check_token(ask.token)
        if ask.question.id not in self._questions:
            raise ValueError(f"no question {ask.question.id!r}")

    @workflow.update(name=ANSWER_UPDATE)
    def answer(self, answer: Answer) -> None:
        """Record the answer to an open question."""
        question = self._questions[answer.question_id]
        question.answer = answer.value
        question.answered = True
        self._emit(
            EventRecord(kind="answer", payload={"question_id": question.id, "value": answer.value})
        )
        if not self._open_questions():
            self._set_status("running")

    @answer.validator
    def _check_answer(self, answer: Answer) -> None:
        task_id = workflow.info().workflow_id
        if self._cancel_requested or self._result is not None:
            raise ValueError(f"task {task_id} has ended or was cancelled; its questions are closed")
        question = self._questions.get(answer.question_id)
        if question is None:
            known = ", ".join(sorted(self._questions)) or "none"
            raise ValueError(f"no question {answer.question_id!r} (questions: {known})")
        if question.answered or question.timed_out:
            raise ValueError(f"question {answer.question_id!r} is no longer open")
        check_answer(question.json_schema, answer.value)

    def _open_questions(self) -> list[str]:
        return [q.id for q in self._questions.values() if not q.answered and not q.timed_out]

    @workflow.query(name=QUESTIONS_QUERY)
    def questions(self) -> list[QuestionState]:
        """Every question the skill asked, with the answers given."""
        return list(self._questions.values())

    @workflow.query(name=STATE_QUERY)
    def state(self) -> TaskState:
        """Where the task is now."""
        return TaskState(
            status=self._status,
            agent=self._task.agent if self._task else None,
            skill=self._task.skill if self._task else None,
            attempts=self._attempts,
            continued=self._carried.continued,
            open_questions=self._open_questions(),
            parked_on=self._parked_on,
            result=self._result,
        )

    @workflow.update(name=SETTLE_UPDATE)
    async def settle(self, asked_before: int) -> Settled:
        """Wait until the task ends, asks its `asked_before + 1`th question, or has one open.

        It also returns, unsettled, when this run hands over to its continuation:
        the caller asks again.
        """
        await workflow.wait_condition(
            lambda: (
                self._result is not None
                or self._asked > asked_before
                or bool(self._open_questions())
                or self._handing_over
            )
        )
        return Settled(state=self.state(), events=self._emitted, asked=self._asked)

    def _emit(self, record: EventRecord) -> None:
        self._events.publish(record)
        self._emitted += 1
        if record.kind == "question":
            self._asked += 1

    @workflow.update(name=CALLS_UPDATE)
    async def calls(self, batch: CallBatch) -> list[CallStarted]:
        """Start a child task per call; a call number seen before gets its first answer."""
        for request in batch.requests:
            recorded = self._calls.get(request.seq)
            if recorded is not None and recorded.digest != request.digest and self._supersedes():
                self._supersede_from(request.seq)
            if request.seq not in self._calls and request.seq not in self._starting:
                self._starting[request.seq] = asyncio.create_task(self._start_child(request))
        started = []
        for request in batch.requests:
            pending = self._starting.get(request.seq)
            if pending is not None:
                self._calls[request.seq] = await pending
                self._starting.pop(request.seq, None)
            started.append(self._calls[request.seq])
        return started

    @calls.validator
    def _check_calls(self, batch: CallBatch) -> None:
        self._check_token(batch.token)

    def _supersedes(self) -> bool:
        return self._options is not None and self._options.on_divergence == "supersede"

    def _supersede_from(self, seq: int) -> None:
        """A re-run departs at call `seq`: its earlier calls from there on are replaced."""
        replaced = sorted(s for s in self._calls if s >= seq)
        ids = []
        for number in replaced:
            call = self._calls.pop(number)
            self._generations[number] = self._generations.get(number, 0) + 1
            child = self._children.pop(call.child_id, None)
            if child is not None and not child.done():
                child.cancel()
            ids.append(call.child_id)
        self._superseded.extend(ids)
        self._emit(
            EventRecord(kind="diverged", payload={"superseded_calls": ids, "from_call": seq})
        )

    async def _start_child(self, request: CallRequest) -> CallStarted:
        info = workflow.info()
        generation = self._generations.get(request.seq, 0)
        suffix = f"-r{generation}" if generation else ""
        child_id = f"{info.workflow_id}/call-{request.seq}{suffix}"
        started = CallStarted(
            seq=request.seq,
            target=request.target,
            skill=request.skill,
            digest=request.digest,
            child_id=child_id,
        )
        options = request.resolution.options
        if options is None:
            error = request.resolution.error or "cannot resolve the callee"
            rejected = CallResult(task_id=child_id, status="rejected", error=error)
            return started.model_copy(update={"result": rejected})
        caller, caller_options = self._task, self._options
        assert caller is not None, "calls come from a running skill"
        assert caller_options is not None, "a running skill has its options"
        try:
            auth = delegated_identity(
                caller.auth, caller.agent, request.scopes, caller_options.max_delegation_depth
            )
        except DelegationRefused as exc:
            rejected = CallResult(task_id=child_id, status="rejected", error=str(exc))
            return started.model_copy(update={"result": rejected})
        task = SkillRunInput(
            agent=request.target,
            skill=request.skill,
            args=request.args,
            auth=auth,
            identity=request.identity,
            caller=info.workflow_id,
            grant=request.grant,
            options=options,
        )
        handle = await start_task(task, child_id)
        self._children[child_id] = asyncio.create_task(_watch(handle))
        return started

    @workflow.update(name=PUSH_UPDATE)
    def push(self, change: PushChange) -> list[PushTarget]:
        """Add, replace or delete a webhook told of this task's terminal and interrupted states."""
        self._push = change.applied(self._push)
        return self._push

    @push.validator
    def _check_push(self, change: PushChange) -> None:
        problem = change.problem()
        if problem is not None:
            raise ValueError(problem)
        if self._result is not None:
            raise ValueError("the task has ended")

    @workflow.update(name=MEMO_UPDATE)
    def memo(self, memo: Memo) -> Any:
        """A value the task remembers across attempts: stored once, then returned as stored."""
        if memo.store and memo.key not in self._memo:
            self._memo[memo.key] = memo.value
        return self._memo.get(memo.key)

    @memo.validator
    def _check_memo(self, memo: Memo) -> None:
        self._check_token(memo.token)

    @workflow.query(name=PUSH_QUERY)
    def push_configs(self) -> list[PushTarget]:
        """The webhooks told of this task's states."""
        return self._push

    def _notify(self, state: str) -> None:
        """Start one durable delivery per webhook; deliveries outlive this task."""
        options = self._options
        for target in self._push:
            self._pushes += 1
            delivery = PushDelivery(task_id=workflow.info().workflow_id, target=target, state=state)
            self._push_starts.append(
                asyncio.create_task(start_push_delivery(delivery, self._pushes, options))
            )

    def _set_status(self, status: RunStatus) -> None:
        if status == self._status:
            return
        self._status = status
        if status in _NOTIFIED:
            self._notify(status)
        if self._options is not None:
            searchable = self._options.search_attributes
        else:
            searchable = workflow.info().typed_search_attributes.get(attrs.STATUS) is not None
        if searchable:
            workflow.upsert_search_attributes([attrs.STATUS.value_set(status)])

    def _should_continue_as_new(self, options: SkillOptions) -> bool:
        """Between attempts, when the history is long and no call is in flight."""
        if self._starting or any(not child.done() for child in self._children.values()):
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
        await asyncio.gather(*self._push_starts)
        self._handing_over = True
        self._stream.detach_pollers()
        await workflow.wait_condition(workflow.all_handlers_finished)
        carried = CarriedRun(
            stream=self._stream.get_state(),
            questions=list(self._questions.values()),
            calls=[self._calls[seq] for seq in sorted(self._calls)],
            generations=self._generations,
            superseded_calls=self._superseded,
            runs=self._runs,
            attempts=self._attempts,
            skill_failures=self._skill_failures,
            parked_on=parked_on,
            resumed=resumed,
            continued=self._carried.continued + 1,
            push=self._push,
            pushes=self._pushes,
            memo=self._memo,
            asked=self._asked,
        )
        workflow.continue_as_new(task.model_copy(update={"options": options, "carried": carried}))

    async def _close(self, result: CallResult) -> CallResult:
        self._active_run = None
        for child in self._children.values():
            child.cancel()
        await asyncio.gather(*self._children.values(), return_exceptions=True)
        options = self._options
        if result.status in ("failed", "canceled") and options is not None:
            listed = await workflow.execute_activity(
                LIST_ARTIFACTS_ACTIVITY,
                result.task_id,
                result_type=list[ArtifactRef],
                task_queue=options.task_queue,
                start_to_close_timeout=_LIST_TIMEOUT,
                summary="list artifacts",
            )
            result = result.model_copy(update={"artifacts": tuple(listed)})
        if self._superseded:
            result = result.model_copy(update={"superseded_calls": tuple(self._superseded)})
        self._result = result
        self._set_status(result.status)
        await asyncio.gather(*self._push_starts)
        self._stream.detach_pollers()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return result


TaskHandle = workflow.ChildWorkflowHandle[SkillRunWorkflow, CallResult]


async def start_task(
    task: SkillRunInput, task_id: str, execution_timeout: timedelta | None = None
) -> TaskHandle:
    """Start `task` (its options resolved) as a child `SkillRunWorkflow` on its agent's queue.

    Cancelling the child's awaiter cancels the child and waits for it.
    """
    options = task.options
    assert options is not None, "children start with resolved options"
    return await workflow.start_child_workflow(
        SkillRunWorkflow.run,
        task,
        id=task_id,
        task_queue=options.task_queue,
        execution_timeout=execution_timeout,
        cancellation_type=workflow.ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED,
        parent_close_policy=workflow.ParentClosePolicy.REQUEST_CANCEL,
        static_summary=f"{task.agent}.{task.skill} by {task.caller}",
        search_attributes=(
            task_attributes(task.agent, task.skill, task.caller, task.context_id)
            if options.search_attributes
            else None
        ),
    )


async def start_push_delivery(
    delivery: PushDelivery, number: int, options: SkillOptions | None
) -> None:
    """Start the workflow that delivers one notification; it goes on after this task ends."""
    await workflow.start_child_workflow(
        PUSH_DELIVERY_WORKFLOW,
        delivery,
        id=f"{delivery.task_id}/push-{number}",
        task_queue=options.task_queue if options else None,
        parent_close_policy=workflow.ParentClosePolicy.ABANDON,
        static_summary=f"notify {delivery.target.url} of {delivery.state}",
    )


async def relay_question(relayed: RelayedQuestion) -> None:
    """Pass a question to the workflow that started this one, if any."""
    parent = workflow.info().parent
    if parent is not None:
        external = workflow.get_external_workflow_handle(parent.workflow_id)
        await external.signal(CHILD_QUESTION_SIGNAL, relayed)


async def _watch(handle: TaskHandle) -> None:
    """Await a child so that cancelling this task cancels it; its caller reads the result."""
    with contextlib.suppress(ChildWorkflowError, asyncio.CancelledError):
        await handle


def _canceled(task_id: str) -> CallResult:
    return CallResult(task_id=task_id, status="canceled", error="canceled by caller")


def _classify(cause: BaseException | None, options: SkillOptions) -> _Outcome:
    """How an activity execution that did not complete ended."""
    if isinstance(cause, ApplicationError):
        if cause.type == AWAITING_INPUT_ERROR_TYPE:
            return _Outcome("parked", parked=Parked.model_validate(cause.details[0]).question_id)
        if cause.type == SKILL_ERROR_TYPE:
            return _Outcome("skill_error", failure=SkillFailure.model_validate(cause.details[0]))
        if cause.type == REJECTED_ERROR_TYPE:
            return _Outcome("rejected", error=cause.message)
        if cause.type == TASK_CANCELED_ERROR_TYPE:
            return _Outcome("canceled", error="canceled by caller")
        if cause.type == INFRASTRUCTURE_ERROR_TYPE:
            tries = options.infra_retries + 1
            return _Outcome("failed", error=f"{cause.message} (after {tries} attempts)")
    if isinstance(cause, TimeoutError):
        tries = options.infra_retries + 1
        if cause.type == TimeoutType.HEARTBEAT:
            lost = f"worker lost: no heartbeat for {options.heartbeat_timeout_seconds:g}s"
            return _Outcome("failed", error=f"{lost} (after {tries} attempts)")
        what = cause.type.name.lower().replace("_", "-") if cause.type else "activity"
        return _Outcome("failed", error=f"TimeoutError: {what} timeout (after {tries} attempts)")
    status, error = describe_failure(cause)
    return _Outcome("canceled" if status == "canceled" else "failed", error=error)


def describe_failure(cause: BaseException | None) -> tuple[TaskStatus, str]:
    """Map the cause of an activity or child failure to a task status and error."""
    if isinstance(cause, CancelledError):
        return "canceled", "canceled by caller"
    if isinstance(cause, ApplicationError):
        if cause.type == REJECTED_ERROR_TYPE:
            return "rejected", cause.message
        return "failed", f"{cause.type}: {cause.message}" if cause.type else cause.message
    if isinstance(cause, TimeoutError):
        return "failed", f"TimeoutError: {cause.message} ({cause.type.name if cause.type else ''})"
    return "failed", str(cause) if cause else "unknown failure"
