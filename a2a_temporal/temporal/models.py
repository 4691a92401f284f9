"""Pydantic models that cross Temporal boundaries (workflow, update and activity I/O).

Pure: workflow code imports this module. `SkillRunInput`, `SkillOptions` and
`CallResult` are the JSON API that clients in other languages use.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from temporalio.contrib.workflow_streams import WorkflowStreamState

from a2a_temporal.core.auth import DEFAULT_MAX_DELEGATION_DEPTH
from a2a_temporal.core.types import (
    ArtifactRef,
    Budget,
    CallResult,
    DivergencePolicy,
    RunStatus,
    StepRecord,
    Usage,
)

__all__ = [
    "Answer",
    "AttemptInput",
    "AttemptStart",
    "AttemptToken",
    "CallBatch",
    "CallRequest",
    "CallStarted",
    "CarriedRun",
    "EventRecord",
    "JournalRef",
    "Memo",
    "Parked",
    "PublishAck",
    "PublishBatch",
    "PushChange",
    "PushDelivery",
    "PushTarget",
    "Question",
    "QuestionAsk",
    "QuestionBatch",
    "QuestionState",
    "RelayedQuestion",
    "Resolution",
    "Settled",
    "SkillFailure",
    "SkillOptions",
    "SkillOutput",
    "SkillRef",
    "SkillRunInput",
    "StepBatch",
    "TaskState",
    "WatchOutcome",
]

WatchOutcome = Literal["canceled", "superseded", "finished"]


class SkillOptions(BaseModel):
    """How a skill is scheduled, resolved from the agent registry before it runs.

    Our clients and calling skills fill it in; a run started without it
    resolves it once, in an activity, so the decision is in the history.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    task_queue: str
    retries: int = Field(default=2, ge=0, description="re-runs after the skill raises")
    timeout_seconds: float = Field(default=3600.0, gt=0, description="bound on one attempt")
    heartbeat_timeout_seconds: float = Field(default=10.0, gt=0)
    park_after_seconds: float = Field(default=30.0, gt=0)
    search_attributes: bool = True
    on_divergence: DivergencePolicy = "fail"
    infra_retries: int = Field(default=10, ge=0, description="re-runs after a lost worker")
    infra_backoff_seconds: float = Field(default=0.5, gt=0)
    continue_as_new_after: int | None = Field(
        default=None, gt=0, description="history length that starts a new run between attempts"
    )
    max_delegation_depth: int = Field(
        default=DEFAULT_MAX_DELEGATION_DEPTH, ge=1, description="longest actor chain of calls"
    )


class AttemptToken(BaseModel):
    """Which activity execution and attempt a request comes from (a fence against stale ones).

    `nonce` is the random value the workflow gave the execution: a client that
    was not handed it cannot speak for the attempt.
    """

    model_config = ConfigDict(frozen=True)

    run: int
    attempt: int
    nonce: str = ""

    def key(self) -> tuple[int, int]:
        """Order of attempts: later runs, then later attempts, are newer."""
        return (self.run, self.attempt)


class Question(BaseModel):
    """A question a skill asks its caller (`ctx.ask` / `ctx.collect`)."""

    id: str
    prompt: str
    json_schema: dict[str, Any] | None = None
    timeout_seconds: float | None = None


class QuestionState(Question):
    """A question a skill asked and, once given, its answer."""

    asked_at: datetime | None = None
    answered: bool = False
    answer: Any = None
    timed_out: bool = False


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


class Memo(BaseModel):
    """The `memo` update: read a value the task remembered, or remember one (once)."""

    token: AttemptToken
    key: str
    value: Any = None
    store: bool = False


class PushTarget(BaseModel):
    """A webhook that hears about a task (an A2A push notification config)."""

    model_config = ConfigDict(frozen=True)

    id: str
    url: str
    token: str | None = None
    auth_scheme: str | None = None
    auth_credentials: str | None = None


class PushChange(BaseModel):
    """The `push` update: add or replace one webhook, or delete one by id."""

    put: PushTarget | None = None
    delete: str | None = None

    def problem(self) -> str | None:
        """Why this change cannot apply, or None (deleting a missing webhook is no change)."""
        if self.put is not None and not self.put.url.startswith(("http://", "https://")):
            return f"a webhook URL must be http(s), got {self.put.url!r}"
        return None

    def applied(self, targets: list[PushTarget]) -> list[PushTarget]:
        """`targets` after this change."""
        if self.put is not None:
            targets = [t for t in targets if t.id != self.put.id] + [self.put]
        if self.delete is not None:
            targets = [t for t in targets if t.id != self.delete]
        return targets


class PushDelivery(BaseModel):
    """Input of `PushDeliveryWorkflow`: tell one webhook about one state of a task."""

    task_id: str
    target: PushTarget
    state: str


class JournalRef(BaseModel):
    """Where a task's journal is (see `journal.py`), and which of its records still stand."""

    model_config = ConfigDict(frozen=True)

    key: str
    calls: int = Field(default=0, description="calls numbered below this are in the journal")
    questions: int = Field(
        default=0, description="questions numbered below this that are not open are in it"
    )
    events: int = Field(default=0, description="the skill's events at offsets below this are in it")


class CarriedRun(BaseModel):
    """What a `SkillRunWorkflow` hands to its next run when it continues as new."""

    stream: WorkflowStreamState | None = None
    questions: list[QuestionState] = Field(default_factory=list)
    calls: list[CallStarted] = Field(default_factory=list)
    generations: dict[int, int] = Field(default_factory=dict)
    superseded_calls: list[str] = Field(default_factory=list)
    runs: int = 0
    attempts: int = 0
    skill_failures: int = 0
    parked_on: str | None = None
    resumed: bool = False
    continued: int = 0
    push: list[PushTarget] = Field(default_factory=list)
    pushes: int = 0
    memo: dict[str, Any] = Field(default_factory=dict)
    asked: int = Field(default=0, description="questions announced on the stream so far")
    journal: JournalRef | None = Field(
        default=None, description="where the records of earlier runs are (see journal.py)"
    )
    steps: list[StepRecord] = Field(default_factory=list)
    superseded_steps: list[str] = Field(default_factory=list)
    usage: Usage = Field(default=Usage(), description="what the skill's runs spent")
    calls_usage: dict[str, Usage] = Field(
        default_factory=dict, description="what each ended call spent, by its task id"
    )


class SkillRunInput(BaseModel):
    """Input of `SkillRunWorkflow` (`a2a.SkillRun`): one skill invocation.

    Unknown fields are refused (the run ends `rejected` naming them), so a
    misspelt field never runs silently with a default.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    agent: str = Field(min_length=1)
    skill: str = Field(min_length=1)
    args: dict[str, Any] | None = None
    auth: dict[str, Any] | None = None
    identity: dict[str, Any] | None = Field(
        default=None, description="the signed envelope vouching for `auth` (see identity.py)"
    )
    caller: str | None = None
    grant: Any = None
    context_id: str | None = Field(default=None, description="the A2A context the task is in")
    push: list[PushTarget] = Field(
        default_factory=list, description="webhooks told of terminal and interrupted states"
    )
    options: SkillOptions | None = Field(
        default=None, description="resolved scheduling; omit it and the run resolves it"
    )
    carried: CarriedRun | None = Field(
        default=None, description="internal: state carried across continue-as-new"
    )
    budget: Budget | None = Field(
        default=None, description="what the task and its calls may spend (within the skill's)"
    )


class AttemptInput(BaseModel):
    """Input of the `run_skill` activity: one attempt of a task's skill."""

    model_config = ConfigDict(frozen=True)

    task: SkillRunInput
    run: int = 1
    nonce: str = Field(default="", description="the attempt token's nonce for this execution")
    resumed: bool = False
    attempts_before: int = 0
    parent_id: str | None = Field(default=None, description="the workflow that started the task")
    started_at: datetime | None = Field(default=None, description="when this run started")
    continued: bool = Field(
        default=False, description="this run is the workflow's own continuation of an earlier one"
    )
    first_run_id: str | None = Field(default=None, description="the first run of its chain")
    cron: bool = Field(default=False, description="this run is on a cron schedule")
    retried: bool = Field(default=False, description="a workflow retry policy started this run")
    journal: JournalRef | None = Field(
        default=None, description="the task's journal, which the attempt reads first"
    )
    usage_before: Usage = Field(
        default=Usage(), description="what the task spent before this attempt (ended calls too)"
    )


class SkillOutput(BaseModel):
    """What a completed `run_skill` activity returns."""

    output: Any = None
    artifacts: tuple[ArtifactRef, ...] = ()


class SkillFailure(BaseModel):
    """Details of an exception a skill raised (the `SkillError` failure's details)."""

    type: str
    message: str
    retryable: bool = True

    def describe(self) -> str:
        """`Type: message`, as `CallResult.error` shows it."""
        return f"{self.type}: {self.message}" if self.message else self.type


class SkillRef(BaseModel):
    """An agent's skill, to resolve."""

    model_config = ConfigDict(frozen=True)

    agent: str
    skill: str


class Resolution(BaseModel):
    """How to run a skill, or why it cannot run."""

    options: SkillOptions | None = None
    error: str | None = None
    remote_url: str | None = Field(
        default=None, description="the agent is a remote A2A agent registered by URL"
    )


class CallRequest(BaseModel):
    """One `ctx.call` a skill asks its workflow to start as a child task."""

    model_config = ConfigDict(frozen=True)

    seq: int
    target: str
    skill: str
    args: dict[str, Any] | None = None
    scopes: list[str] | None = Field(
        default=None, description="narrows the scopes the callee gets from the caller"
    )
    identity: dict[str, Any] | None = Field(
        default=None, description="the callee's envelope, minted for this call by the worker"
    )
    grant: Any = None
    digest: str
    resolution: Resolution
    supersedes: bool = Field(
        default=False,
        description="the call differs from the one the task's journal records at `seq`",
    )
    budget: Budget | None = Field(default=None, description="at most what the caller has left")


class CallBatch(BaseModel):
    """The `calls` update: the `ctx.call`s a skill made in one event-loop turn."""

    token: AttemptToken
    requests: list[CallRequest]


class EventRecord(BaseModel):
    """An `AgentEvent` as it travels on a task's event stream.

    `seq` is the position (from 1) in its attempt's sequence of emitted events
    of the last event merged into this record; 0 for events of the runtime
    itself (retries, questions, answers, divergences).
    """

    kind: str
    payload: dict[str, Any]
    seq: int = 0
    step: str | None = Field(default=None, description="the `ctx.step` that emitted it, if any")


class StepBatch(BaseModel):
    """The `steps` update: steps an attempt finished in one turn, and usage outside steps.

    A record marked `superseded` replaces an earlier attempt's step of that name.
    """

    token: AttemptToken
    records: list[StepRecord]
    usage: Usage = Usage()
    calls: dict[str, Usage] = Field(
        default_factory=dict, description="what calls that ended spent, by their task ids"
    )


class PublishBatch(BaseModel):
    """The `publish` update: a batch of an attempt's events."""

    token: AttemptToken
    records: list[EventRecord]


class PublishAck(BaseModel):
    """The workflow's history size after a batch, for pacing the next ones."""

    history_length: int
    history_bytes: int


class AttemptStart(BaseModel):
    """The `attempt` update: a retried attempt announces itself before anything else."""

    token: AttemptToken
    reason: str


class RelayedQuestion(BaseModel):
    """A question one of a workflow's child tasks asked, passed up to show its followers."""

    task_id: str
    question: Question


class QuestionAsk(BaseModel):
    """The `ask` update."""

    token: AttemptToken
    question: Question


class QuestionBatch(BaseModel):
    """The `ask_many` and `await_answers` updates: the questions a skill asked in one turn."""

    token: AttemptToken
    questions: list[Question]


class Answer(BaseModel):
    """The `answer` update: a value for an open question.

    `message` is the A2A message that carried the answer (JSON, as the
    gateway received it), kept so the task's A2A history shows it as sent.
    """

    question_id: str
    value: Any
    message: dict[str, Any] | None = None


class Parked(BaseModel):
    """Details of an attempt that stopped to wait for an answer without holding a slot."""

    question_id: str


class TaskState(BaseModel):
    """What the `a2a.state` query returns: where a task is now."""

    status: RunStatus
    agent: str | None = None
    skill: str | None = None
    attempts: int = 0
    continued: int = Field(default=0, description="times the task continued as new")
    open_questions: list[str] = Field(default_factory=list)
    parked_on: str | None = Field(
        default=None, description="the question a parked task waits for, holding no worker slot"
    )
    result: CallResult | None = None


class Settled(BaseModel):
    """What the `a2a.settle` update returns: the task once it ended or asked."""

    state: TaskState
    events: int = Field(description="events on the task's stream so far")
    asked: int = Field(description="questions announced on the stream so far")
