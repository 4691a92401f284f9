"""Pydantic models that cross Temporal boundaries (workflow, update and activity I/O).

Pure: workflow code imports this module.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from a2a_temporal.types import ArtifactRef, CallResult

__all__ = [
    "ANSWER_UPDATE",
    "ASK_UPDATE",
    "AWAITING_INPUT_ERROR_TYPE",
    "AWAIT_ANSWER_UPDATE",
    "CALLS_UPDATE",
    "EVENTS_TOPIC",
    "PROGRESS_SIGNAL",
    "QUESTIONS_QUERY",
    "REJECTED_ERROR_TYPE",
    "Answer",
    "CallBatch",
    "CallRequest",
    "CallStarted",
    "EventRecord",
    "Parked",
    "Question",
    "QuestionState",
    "RunSkillInput",
    "SkillOutput",
    "SkillRunInput",
]

CALLS_UPDATE = "a2a.calls"
PROGRESS_SIGNAL = "a2a.progress"
EVENTS_TOPIC = "events"
REJECTED_ERROR_TYPE = "SkillRejected"
ASK_UPDATE = "a2a.ask"
AWAIT_ANSWER_UPDATE = "a2a.await_answer"
ANSWER_UPDATE = "a2a.answer"
QUESTIONS_QUERY = "a2a.questions"
AWAITING_INPUT_ERROR_TYPE = "AwaitingInput"


class SkillRunInput(BaseModel):
    """Input of `SkillRunWorkflow`: one skill invocation."""

    model_config = ConfigDict(frozen=True)

    agent: str
    skill: str
    args: dict[str, Any] | None = None
    auth: dict[str, Any] | None = None
    caller: str | None = None
    grant: Any = None


class RunSkillInput(BaseModel):
    """Input of the `run_skill` activity: the task, and whether this run resumes it."""

    model_config = ConfigDict(frozen=True)

    task: SkillRunInput
    resumed: bool = False


class SkillOutput(BaseModel):
    """What a completed `run_skill` activity returns."""

    output: Any = None
    artifacts: tuple[ArtifactRef, ...] = ()


class CallRequest(BaseModel):
    """One `ctx.call` a skill asks its workflow to start as a child task."""

    model_config = ConfigDict(frozen=True)

    seq: int
    target: str
    skill: str
    args: dict[str, Any] | None = None
    auth: dict[str, Any] | None = None
    grant: Any = None
    digest: str


class CallBatch(BaseModel):
    """The `calls` update: the `ctx.call`s a skill made in one event-loop turn."""

    requests: list[CallRequest]


class CallStarted(BaseModel):
    """What the workflow did for call number `seq` (recorded once, returned on every ask).

    `result` is set when no child was started (e.g. unknown agent); otherwise the
    caller awaits the child task `child_id`.
    """

    seq: int
    target: str
    skill: str
    digest: str
    child_id: str
    result: CallResult | None = None


class EventRecord(BaseModel):
    """An `AgentEvent` as it travels on a task's event stream.

    `seq` is the position (from 1) in its attempt's sequence of emitted events
    of the last event merged into this record; 0 for events of the runtime
    itself (retries, questions, answers, divergences).
    """

    kind: str
    payload: dict[str, Any]
    seq: int = 0


class Question(BaseModel):
    """A question a skill asks its caller (`ctx.ask` / `ctx.collect`)."""

    id: str
    prompt: str
    json_schema: dict[str, Any] | None = None
    timeout_seconds: float | None = None


class QuestionState(Question):
    """A question and, once given, its answer."""

    answered: bool = False
    answer: Any = None
    timed_out: bool = False


class Answer(BaseModel):
    """The `answer` update: a value for an open question."""

    question_id: str
    value: Any


class Parked(BaseModel):
    """Details of an attempt that stopped to wait for an answer without holding a slot."""

    question_id: str
