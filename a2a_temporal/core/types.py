"""Plain data types shared by every runtime."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

__all__ = [
    "ENDED",
    "AgentEvent",
    "ArtifactRef",
    "CallResult",
    "DivergencePolicy",
    "EventKind",
    "MessageReply",
    "RunStatus",
    "StepStatus",
    "TaskStatus",
]

TaskStatus = Literal["completed", "failed", "canceled", "rejected"]
"""How a task (or a pipeline) ended."""
RunStatus = Literal["resolving", "running", "input-required", TaskStatus]
"""Where a task or a pipeline is now: on its way, or ended."""
StepStatus = Literal["pending", "running", "skipped", "completed", "failed", "canceled"]
"""Where one step of a pipeline is."""
ENDED: tuple[TaskStatus, ...] = ("completed", "failed", "canceled", "rejected")
EventKind = Literal["progress", "text_delta", "artifact", "error"]
DivergencePolicy = Literal["fail", "supersede"]
"""What a re-run whose `ctx.call`s differ from an earlier attempt's does."""


@dataclass(frozen=True)
class ArtifactRef:
    """Where an artifact a skill wrote is stored.

    Attributes:
        name: The artifact's name within its task.
        uri: Location of the bytes (`s3://bucket/key` on Temporal, `memory://` locally).
        mime_type: Media type given by the writer.
        size_bytes: Size of the stored bytes.
    """

    name: str
    uri: str
    mime_type: str
    size_bytes: int


@dataclass(frozen=True)
class AgentEvent:
    """One structured event a skill emits (progress, text delta, artifact, error).

    Attributes:
        kind: What happened, e.g. `progress` or `text_delta`.
        payload: JSON-compatible details of the event.
    """

    kind: str
    payload: dict[str, Any] = field(default_factory=dict)


class MessageReply(BaseModel):
    """A skill's answer meant as a message, not as a task's result.

    Returned by a skill, it is an ordinary output (`{"kind": "a2a-message",
    "text": ..., "data": ...}`) to our clients and `ctx.call`; a blocking A2A
    `SendMessage` through the gateway gets it as a Message from the agent (a
    text part, and a data part when `data` is set) instead of a Task.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["a2a-message"] = "a2a-message"
    text: str = ""
    data: dict[str, Any] | None = None

    @classmethod
    def of(cls, output: Any) -> MessageReply | None:
        """The reply a skill's output stands for, or None when it is another value."""
        if not isinstance(output, dict) or output.get("kind") != "a2a-message":
            return None
        try:
            return cls.model_validate(output)
        except ValueError:
            return None


class CallResult(BaseModel):
    """The outcome of one skill invocation (one task).

    Attributes:
        task_id: Id of the task (the workflow id on Temporal).
        status: `completed`, `failed`, `canceled` or `rejected`.
        output: The skill's JSON-compatible return value when completed.
        error: What went wrong, for any other status.
        artifacts: Every artifact the task wrote.
        superseded_calls: Task ids of calls an earlier attempt made that a re-run
            replaced (`@skill(on_divergence="supersede")`).
    """

    model_config = ConfigDict(frozen=True)

    task_id: str
    status: TaskStatus
    output: Any = None
    error: str | None = None
    artifacts: tuple[ArtifactRef, ...] = ()
    superseded_calls: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """Whether the task completed."""
        return self.status == "completed"
