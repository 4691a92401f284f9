"""`SkillRunWorkflow`: one skill invocation (one A2A task)."""

from __future__ import annotations

import asyncio
import builtins
import contextlib
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributePair, TypedSearchAttributes
from temporalio.contrib.workflow_streams import WorkflowStream
from temporalio.exceptions import (
    ActivityError,
    ApplicationError,
    CancelledError,
    ChildWorkflowError,
    TimeoutError,
)

with workflow.unsafe.imports_passed_through():
    from a2a_temporal import registry
    from a2a_temporal import search_attributes as attrs
    from a2a_temporal.answers import check_answer
    from a2a_temporal.models import (
        ANSWER_UPDATE,
        ASK_UPDATE,
        AWAIT_ANSWER_UPDATE,
        AWAITING_INPUT_ERROR_TYPE,
        CALLS_UPDATE,
        EVENTS_TOPIC,
        PROGRESS_SIGNAL,
        QUESTIONS_QUERY,
        REJECTED_ERROR_TYPE,
        Answer,
        CallBatch,
        CallRequest,
        CallStarted,
        EventRecord,
        Parked,
        Question,
        QuestionState,
        RunSkillInput,
        SkillOutput,
        SkillRunInput,
    )
    from a2a_temporal.types import ArtifactRef, CallResult, TaskStatus

__all__ = [
    "LIST_ARTIFACTS_ACTIVITY",
    "RUN_SKILL_ACTIVITY",
    "SkillRunWorkflow",
    "TaskHandle",
    "describe_failure",
    "start_task",
    "task_attributes",
    "uses_attributes",
]

RUN_SKILL_ACTIVITY = "a2a.run_skill"
LIST_ARTIFACTS_ACTIVITY = "a2a.list_artifacts"
_LIST_TIMEOUT = timedelta(seconds=30)


def task_attributes(agent: str, skill: str, caller: str | None) -> TypedSearchAttributes:
    """Search attributes a task starts with."""
    return TypedSearchAttributes(
        [
            SearchAttributePair(attrs.AGENT, agent),
            SearchAttributePair(attrs.SKILL, skill),
            SearchAttributePair(attrs.CALLER, caller or "external"),
            SearchAttributePair(attrs.STATUS, "running"),
        ]
    )


@workflow.defn(name="a2a.SkillRun")
class SkillRunWorkflow:
    """Runs one skill as an activity; hosts its event stream and its `ctx.call`s."""

    @workflow.init
    def __init__(self, input: SkillRunInput) -> None:
        self._stream = WorkflowStream()
        self._events = self._stream.topic(EVENTS_TOPIC, type=EventRecord)
        self._questions: dict[str, QuestionState] = {}
        self._park_after: timedelta | None = None
        self._starts: dict[int, asyncio.Task[CallStarted]] = {}
        self._children: dict[int, asyncio.Task[None]] = {}

    @workflow.run
    async def run(self, input: SkillRunInput) -> CallResult:
        """Run the skill and return its `CallResult` (never raises for skill errors)."""
        info = workflow.info()
        options = registry.skill_options(input.agent, input.skill, info.task_queue)
        if isinstance(options, str):
            return await self._finish(
                CallResult(task_id=info.workflow_id, status="rejected", error=options), options=None
            )
        self._park_after = options.park_after
        resumed = False
        while True:
            canceled = CallResult(
                task_id=info.workflow_id, status="canceled", error="canceled by caller"
            )
            try:
                done = await self._run_activity(input, options, resumed)
            except ActivityError as err:
                parked = _parked(err.cause)
                if parked is None:
                    status, error = describe_failure(err.cause)
                    result = CallResult(task_id=info.workflow_id, status=status, error=error)
                    break
                resumed = True
                try:
                    await self._wait_for_answer(parked.question_id)
                except asyncio.CancelledError:
                    result = canceled
                    break
            except asyncio.CancelledError:
                result = canceled
                break
            else:
                result = CallResult(
                    task_id=info.workflow_id,
                    status="completed",
                    output=done.output,
                    artifacts=done.artifacts,
                )
                break
        return await self._finish(result, options=options)

    async def _run_activity(
        self, input: SkillRunInput, options: registry.SkillOptions, resumed: bool
    ) -> SkillOutput:
        return await workflow.execute_activity(
            RUN_SKILL_ACTIVITY,
            RunSkillInput(task=input, resumed=resumed),
            result_type=SkillOutput,
            start_to_close_timeout=options.timeout,
            heartbeat_timeout=options.heartbeat_timeout,
            retry_policy=RetryPolicy(
                maximum_attempts=options.retries + 1,
                non_retryable_error_types=[REJECTED_ERROR_TYPE],
            ),
            cancellation_type=workflow.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
            summary=f"{input.agent}.{input.skill}",
        )

    async def _wait_for_answer(self, question_id: str) -> None:
        question = self._questions[question_id]
        workflow.set_current_details(f"waiting for an answer to {question_id}: {question.prompt}")
        try:
            await workflow.wait_condition(
                lambda: question.answered, timeout=question.timeout_seconds
            )
        except builtins.TimeoutError:
            question.timed_out = True

    @workflow.update(name=ASK_UPDATE)
    def ask(self, question: Question) -> QuestionState:
        """Register a question (once; asking again returns its state) and announce it."""
        known = self._questions.get(question.id)
        if known is None:
            known = QuestionState(**question.model_dump())
            self._questions[question.id] = known
            self._events.publish(EventRecord(kind="question", payload=question.model_dump()))
        return known

    @workflow.update(name=AWAIT_ANSWER_UPDATE)
    async def await_answer(self, question_id: str) -> QuestionState:
        """Wait a while for an answer; the skill parks when this returns unanswered."""
        question = self._questions[question_id]
        with contextlib.suppress(builtins.TimeoutError):
            await workflow.wait_condition(lambda: question.answered, timeout=self._park_after)
        return question

    @workflow.update(name=ANSWER_UPDATE)
    def answer(self, answer: Answer) -> None:
        """Record the answer to an open question."""
        question = self._questions[answer.question_id]
        question.answer = answer.value
        question.answered = True
        self._events.publish(
            EventRecord(kind="answer", payload={"question_id": question.id, "value": answer.value})
        )

    @answer.validator
    def _check_answer(self, answer: Answer) -> None:
        question = self._questions.get(answer.question_id)
        if question is None:
            known = ", ".join(sorted(self._questions)) or "none"
            raise ValueError(f"no question {answer.question_id!r} (questions: {known})")
        if question.answered or question.timed_out:
            raise ValueError(f"question {answer.question_id!r} is no longer open")
        check_answer(question.json_schema, answer.value)

    @workflow.query(name=QUESTIONS_QUERY)
    def questions(self) -> list[QuestionState]:
        """Every question the skill asked, with the answers given."""
        return list(self._questions.values())

    @workflow.update(name=CALLS_UPDATE)
    async def calls(self, batch: CallBatch) -> list[CallStarted]:
        """Start a child task per call; a call number seen before gets its first answer."""
        for request in batch.requests:
            if request.seq not in self._starts:
                self._starts[request.seq] = asyncio.create_task(self._start_child(request))
        return [await self._starts[request.seq] for request in batch.requests]

    @workflow.signal(name=PROGRESS_SIGNAL)
    def progress(self, message: str) -> None:
        """Show the skill's latest progress message as the workflow's current details."""
        workflow.set_current_details(message)

    async def _start_child(self, request: CallRequest) -> CallStarted:
        info = workflow.info()
        child_id = f"{info.workflow_id}/call-{request.seq}"
        started = CallStarted(
            seq=request.seq,
            target=request.target,
            skill=request.skill,
            digest=request.digest,
            child_id=child_id,
        )
        task = SkillRunInput(
            agent=request.target,
            skill=request.skill,
            args=request.args,
            auth=request.auth,
            caller=info.workflow_id,
            grant=request.grant,
        )
        handle = await start_task(task, child_id)
        if isinstance(handle, CallResult):
            return started.model_copy(update={"result": handle})
        self._children[request.seq] = asyncio.create_task(_watch(handle))
        return started

    async def _finish(
        self, result: CallResult, options: registry.SkillOptions | None
    ) -> CallResult:
        for child in self._children.values():
            child.cancel()
        await asyncio.gather(*self._children.values())
        if result.status in ("failed", "canceled") and options is not None:
            listed = await workflow.execute_activity(
                LIST_ARTIFACTS_ACTIVITY,
                result.task_id,
                result_type=list[ArtifactRef],
                start_to_close_timeout=_LIST_TIMEOUT,
                summary="list artifacts",
            )
            result = result.model_copy(update={"artifacts": tuple(listed)})
        if uses_attributes(options):
            workflow.upsert_search_attributes([attrs.STATUS.value_set(result.status)])
        self._stream.detach_pollers()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return result


TaskHandle = workflow.ChildWorkflowHandle[SkillRunWorkflow, CallResult]


async def start_task(
    task: SkillRunInput, task_id: str, execution_timeout: timedelta | None = None
) -> TaskHandle | CallResult:
    """Start `task` as a child `SkillRunWorkflow` on its agent's task queue.

    Returns a rejected `CallResult` instead when no worker of this process hosts
    the agent. Cancelling the child's awaiter cancels the child and waits for it.
    """
    queue = registry.task_queue_of(task.agent, workflow.info().task_queue)
    if queue is None:
        error = registry.skill_options(task.agent, task.skill, workflow.info().task_queue)
        return CallResult(task_id=task_id, status="rejected", error=str(error))
    options = registry.skill_options(task.agent, task.skill, queue)
    return await workflow.start_child_workflow(
        SkillRunWorkflow.run,
        task,
        id=task_id,
        task_queue=queue,
        execution_timeout=execution_timeout,
        cancellation_type=workflow.ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED,
        parent_close_policy=workflow.ParentClosePolicy.REQUEST_CANCEL,
        static_summary=f"{task.agent}.{task.skill} by {task.caller}",
        search_attributes=(
            task_attributes(task.agent, task.skill, task.caller)
            if uses_attributes(options)
            else None
        ),
    )


def uses_attributes(options: registry.SkillOptions | str | None) -> bool:
    """Whether to set search attributes, per the skill's options or this process's agents."""
    if isinstance(options, registry.SkillOptions):
        return options.search_attributes
    return registry.uses_search_attributes()


async def _watch(handle: TaskHandle) -> None:
    """Await a child so that cancelling this task cancels it; its caller reads the result."""
    with contextlib.suppress(ChildWorkflowError, asyncio.CancelledError):
        await handle


def _parked(cause: BaseException | None) -> Parked | None:
    if isinstance(cause, ApplicationError) and cause.type == AWAITING_INPUT_ERROR_TYPE:
        return Parked.model_validate(cause.details[0])
    return None


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
