"""The questions a task's skill asked: registered once, answered once, archived when answered."""

from __future__ import annotations

import re

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from a2a_temporal.core.answers import check_answer
    from a2a_temporal.temporal.models import Answer, CarriedRun, Question, QuestionState

__all__ = ["QuestionBook"]

_NUMBERED = re.compile(r"^q(\d+)$")
_DEADLINE_SLACK = 0.001  # `time_left` never says less, so a deadline met says this


class QuestionBook:
    """Questions by id, how many were announced, and which are in the task's journal.

    Answered or timed-out questions move to the journal when the task
    continues as new; questions numbered below `archived_below` that are not
    here are there.
    """

    def __init__(self, carried: CarriedRun) -> None:
        self.questions = {question.id: question for question in carried.questions}
        self.asked = carried.asked
        self.archived_below = carried.journal.questions if carried.journal else 0

    def open(self) -> list[str]:
        """Ids of the questions waiting for an answer."""
        return [q.id for q in self.questions.values() if not q.answered and not q.timed_out]

    def register(self, question: Question) -> tuple[QuestionState, bool]:
        """The state of `question`, registered now if it is new (then True)."""
        known = self.questions.get(question.id)
        if known is not None:
            return known, False
        self._refuse_archived(question.id)
        state = QuestionState(**question.model_dump(), asked_at=workflow.now())
        self.questions[question.id] = state
        return state, True

    def check_ask(self, question_id: str) -> None:
        """Refuse, before it is recorded, an ask for a question only the journal knows."""
        if question_id not in self.questions:
            self._refuse_archived(question_id)

    def time_left(self, question: QuestionState) -> float | None:
        """Seconds until the question's timeout, counted from when it was asked."""
        if question.timeout_seconds is None:
            return None
        asked = question.asked_at or workflow.now()
        elapsed = (workflow.now() - asked).total_seconds()
        return max(0.001, question.timeout_seconds - elapsed)

    def wait_plan(
        self, questions: list[QuestionState], park_after: float | None
    ) -> tuple[float | None, list[QuestionState]]:
        """How long to wait for answers, and the questions that time out by then.

        A question times out in this wait when its timeout comes before the
        skill would park; otherwise the skill parks first (and the workflow
        times the question out while it waits).
        """
        due = [
            q
            for q in questions
            if (left := self.time_left(q)) is not None
            and (park_after is None or left <= park_after)
        ]
        limits = [left for q in due if (left := self.time_left(q)) is not None]
        if park_after is not None:
            limits.append(park_after)
        return min(limits, default=None), due

    def expire(self, due: list[QuestionState]) -> None:
        """Mark the questions of `due` unanswered at their timeout as timed out."""
        for question in due:
            left = self.time_left(question)
            if not question.answered and left is not None and left <= _DEADLINE_SLACK:
                question.timed_out = True

    def check_answer(self, answer: Answer) -> None:
        """Raise `ValueError` saying why `answer` cannot be taken (the question stays as it is)."""
        question = self.questions.get(answer.question_id)
        if question is None:
            if self._in_journal(answer.question_id):
                raise ValueError(f"question {answer.question_id!r} is no longer open")
            known = ", ".join(sorted(self.questions)) or "none"
            raise ValueError(f"no question {answer.question_id!r} (questions: {known})")
        if question.answered or question.timed_out:
            raise ValueError(f"question {answer.question_id!r} is no longer open")
        check_answer(question.json_schema, answer.value)

    def record(self, answer: Answer) -> QuestionState:
        """Take the answer to an open question."""
        question = self.questions[answer.question_id]
        question.answer = answer.value
        question.answered = True
        return question

    def closed(self) -> list[QuestionState]:
        """The questions that are no longer open (the journal takes them)."""
        return [q for q in self.questions.values() if q.answered or q.timed_out]

    def archived(self, questions: list[QuestionState]) -> None:
        """The journal holds `questions` now: forget them here."""
        for question in questions:
            del self.questions[question.id]
            number = _number(question.id)
            if number is not None:
                self.archived_below = max(self.archived_below, number + 1)

    def _in_journal(self, question_id: str) -> bool:
        number = _number(question_id)
        return number is not None and number < self.archived_below

    def _refuse_archived(self, question_id: str) -> None:
        if self._in_journal(question_id):
            raise ApplicationError(
                f"question {question_id} was answered before the task continued as new; its "
                "answer is in the task's journal, which the attempt reads first (a worker that "
                "asks again runs older code: upgrade it)",
                non_retryable=True,
            )


def _number(question_id: str) -> int | None:
    match = _NUMBERED.match(question_id)
    return int(match.group(1)) if match else None
