"""The question handlers of `SkillRunWorkflow`: asks, waits for answers, answers, relays.

A base class of the workflow (Temporal collects inherited handlers), kept
apart so the workflow module stays readable; it works on the state the
workflow sets up (declared below).
"""

from __future__ import annotations

import asyncio
import builtins
from abc import ABC, abstractmethod

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from a2a_temporal.core.types import CallResult, RunStatus
    from a2a_temporal.temporal import metrics, wire
    from a2a_temporal.temporal.models import (
        Answer,
        AttemptToken,
        EventRecord,
        QuestionAsk,
        QuestionBatch,
        QuestionState,
        RelayedQuestion,
        SkillOptions,
        SkillRunInput,
    )
    from a2a_temporal.workflows._questions import QuestionBook
    from a2a_temporal.workflows._tasks import relay_question, relayed_from_below


__all__ = ["QuestionHandlers"]


class QuestionHandlers(ABC):
    """Questions a task's skill asks, and the answers its callers give."""

    _task: SkillRunInput | None
    _questions: QuestionBook
    _options: SkillOptions | None
    _cancel_requested: bool
    _result: CallResult | None
    _parked_on: str | None

    @abstractmethod
    def _check_token(self, token: AttemptToken) -> None:
        """Refuse a request from an attempt that is not the current one."""

    @abstractmethod
    def _set_status(self, status: RunStatus) -> None:
        """Change the task's status (search attribute, push notifications)."""

    @abstractmethod
    def _emit(self, record: EventRecord) -> None:
        """Publish an event on the task's stream."""

    def _labels(self) -> dict[str, str]:
        """The task's agent and skill, as metric labels and log fields."""
        task = self._task
        return {"agent": task.agent, "skill": task.skill} if task else {"agent": "", "skill": ""}

    def _count(self, name: str, amount: int = 1, **labels: str) -> None:
        """Add to one of `metrics`' counters for this task's agent and skill."""
        metrics.count(workflow.metric_meter(), name, amount, **self._labels(), **labels)

    @workflow.update(name=wire.ASK_UPDATE)
    async def ask(self, ask: QuestionAsk) -> QuestionState:
        """`ask_many` for one question (attempts of earlier versions send it)."""
        [state] = await self._ask_many(QuestionBatch(token=ask.token, questions=[ask.question]))
        return state

    @ask.validator
    def _check_ask(self, ask: QuestionAsk) -> None:
        self._check_ask_many(QuestionBatch(token=ask.token, questions=[ask.question]))

    @workflow.signal(name=wire.CHILD_QUESTION_SIGNAL)
    async def child_question(self, relayed: RelayedQuestion) -> None:
        """A callee asked a question: show it here too, and pass it further up."""
        if relayed_from_below(relayed):
            await self._announce_question(relayed)

    async def _announce_question(self, relayed: RelayedQuestion) -> None:
        payload = {**relayed.question.model_dump(), "task_id": relayed.task_id}
        self._emit(EventRecord(kind="question", payload=payload))
        await relay_question(relayed)

    @workflow.update(name=wire.ASK_MANY_UPDATE)
    async def ask_many(self, batch: QuestionBatch) -> list[QuestionState]:
        """Register the questions a skill asked in one turn and announce the new ones.

        The announcement also goes to the workflow that started this task, so
        whoever follows a pipeline or a calling task sees its callees' questions.
        """
        return await self._ask_many(batch)

    async def _ask_many(self, batch: QuestionBatch) -> list[QuestionState]:
        states = []
        for question in batch.questions:
            state, new = self._questions.register(question)
            states.append(state)
            if new:
                self._count(metrics.QUESTIONS_ASKED)
                self._set_status("input-required")
                await self._announce_question(
                    RelayedQuestion(task_id=workflow.info().workflow_id, question=question)
                )
        return states

    @ask_many.validator
    def _check_ask_many(self, batch: QuestionBatch) -> None:
        self._check_token(batch.token)
        for question in batch.questions:
            self._questions.check_ask(question.id)

    @workflow.update(name=wire.AWAIT_ANSWERS_UPDATE)
    async def await_answers(self, batch: QuestionBatch) -> list[QuestionState]:
        """Wait until one of the questions closes, or a while; the skill parks if none did."""
        return await self._await_answers(batch)

    async def _await_answers(self, batch: QuestionBatch) -> list[QuestionState]:
        questions = [self._questions.questions[q.id] for q in batch.questions]
        options = self._options
        park_after = options.park_after_seconds if options else None
        limit, due = self._questions.wait_plan(questions, park_after)
        timed_out = False
        try:
            await workflow.wait_condition(
                lambda: self._cancel_requested or any(q.answered for q in questions),
                timeout=limit,
            )
        except builtins.TimeoutError:
            timed_out = True
        if self._cancel_requested and not any(q.answered for q in questions):
            raise ApplicationError(
                f"task {workflow.info().workflow_id} was cancelled while waiting for an answer",
                type=wire.TASK_CANCELED_ERROR_TYPE,
            )
        if timed_out:
            still_open = len(self._questions.open())
            self._questions.expire(due)
            expired = still_open - len(self._questions.open())
            self._count(metrics.QUESTIONS_CLOSED, expired, how="timed-out")
        return questions

    @await_answers.validator
    def _check_await_answers(self, batch: QuestionBatch) -> None:
        self._check_token(batch.token)
        for question in batch.questions:
            if question.id not in self._questions.questions:
                raise ValueError(f"no question {question.id!r}")

    @workflow.update(name=wire.AWAIT_ANSWER_UPDATE)
    async def await_answer(self, ask: QuestionAsk) -> QuestionState:
        """`await_answers` for one question (attempts of earlier versions send it)."""
        batch = QuestionBatch(token=ask.token, questions=[ask.question])
        [state] = await self._await_answers(batch)
        return state

    @await_answer.validator
    def _check_await(self, ask: QuestionAsk) -> None:
        self._check_await_answers(QuestionBatch(token=ask.token, questions=[ask.question]))

    @workflow.update(name=wire.ANSWER_UPDATE)
    def answer(self, answer: Answer) -> None:
        """Record the answer to an open question."""
        question = self._questions.record(answer)
        self._count(metrics.QUESTIONS_CLOSED, how="answered")
        payload = {"question_id": question.id, "value": answer.value}
        if answer.message is not None:
            payload["message"] = answer.message
        self._emit(EventRecord(kind="answer", payload=payload))
        if not self._questions.open():
            self._set_status("running")

    @answer.validator
    def _check_answer(self, answer: Answer) -> None:
        task_id = workflow.info().workflow_id
        if self._cancel_requested or self._result is not None:
            raise ValueError(f"task {task_id} has ended or was cancelled; its questions are closed")
        self._questions.check_answer(answer)

    @workflow.query(name=wire.QUESTIONS_QUERY)
    def questions(self) -> list[QuestionState]:
        """The questions the skill asked since it last continued as new, with their answers."""
        return list(self._questions.questions.values())

    async def _wait_for_answer(self, question_id: str) -> bool:
        """Wait (durably) for the answer a parked skill needs; False when cancelled."""
        question = self._questions.questions[question_id]
        workflow.set_current_details(f"waiting for an answer to {question_id}: {question.prompt}")
        self._set_status("input-required")
        self._parked_on = question_id
        try:
            await workflow.wait_condition(
                lambda: question.answered, timeout=self._questions.time_left(question)
            )
        except builtins.TimeoutError:
            question.timed_out = True
            self._count(metrics.QUESTIONS_CLOSED, how="timed-out")
        except asyncio.CancelledError:
            self._cancel_requested = True
            return False
        finally:
            self._parked_on = None
        self._set_status("running")
        return True
