"""Pydantic models that cross Temporal boundaries (workflow, update and activity I/O).

Pure: workflow code imports this module.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from a2a_temporal.types import ArtifactRef, CallResult

__all__ = [
    "CALLS_UPDATE",
    "EVENTS_TOPIC",
    "PROGRESS_SIGNAL",
    "REJECTED_ERROR_TYPE",
    "CallBatch",
    "CallRequest",
    "CallStarted",
    "EventRecord",
    "RunSkillInput",
    "SkillOutput",
    "SkillRunInput",
]

CALLS_UPDATE = "a2a.calls"
PROGRESS_SIGNAL = "a2a.progress"
EVENTS_TOPIC = "events"
REJECTED_ERROR_TYPE = "SkillRejected"


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
    """Input of the `run_skill` activity."""

    model_config = ConfigDict(frozen=True)

    agent: str
    skill: str
    args: dict[str, Any] | None = None
    auth: dict[str, Any] | None = None
    grant: Any = None


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
    """An `AgentEvent` as it travels on a task's event stream."""

    kind: str
    payload: dict[str, Any]
