"""Pydantic models that cross Temporal boundaries (workflow, update and activity I/O).

Pure: workflow code imports this module.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from a2a_temporal.types import ArtifactRef, CallResult

__all__ = [
    "CALL_UPDATE",
    "EVENTS_TOPIC",
    "PROGRESS_SIGNAL",
    "REJECTED_ERROR_TYPE",
    "CallOutcome",
    "CallRequest",
    "EventRecord",
    "RunSkillInput",
    "SkillOutput",
    "SkillRunInput",
]

CALL_UPDATE = "a2a.call"
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
    """The `call` update a skill sends to its own workflow for `ctx.call`."""

    model_config = ConfigDict(frozen=True)

    seq: int
    target: str
    skill: str
    args: dict[str, Any] | None = None
    auth: dict[str, Any] | None = None
    grant: Any = None
    timeout_seconds: float | None = None
    digest: str


class CallOutcome(BaseModel):
    """The `call` update's result: the child's result and what was asked for."""

    target: str
    skill: str
    digest: str
    result: CallResult


class EventRecord(BaseModel):
    """An `AgentEvent` as it travels on a task's event stream."""

    kind: str
    payload: dict[str, Any]
