"""Plain data types shared by every runtime."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "ENDED",
    "AgentEvent",
    "ArtifactRef",
    "Budget",
    "CallResult",
    "DivergencePolicy",
    "EventKind",
    "MessageReply",
    "RunStatus",
    "StepRecord",
    "StepStatus",
    "TaskStatus",
    "Usage",
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


class Usage(BaseModel):
    """What a task spent, its subtree of calls included where it says so."""

    model_config = ConfigDict(frozen=True, allow_inf_nan=False)

    input_tokens: int = Field(default=0, ge=0)
    output_tokens: int = Field(default=0, ge=0)
    cost_usd: float = Field(default=0.0, ge=0.0)
    calls: int = Field(default=0, ge=0, description="model (or tool) calls recorded")

    @property
    def tokens(self) -> int:
        """Input and output tokens together."""
        return self.input_tokens + self.output_tokens

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            cost_usd=round(self.cost_usd + other.cost_usd, 9),
            calls=self.calls + other.calls,
        )

    @property
    def empty(self) -> bool:
        """Whether nothing was spent."""
        return self == _NOTHING


_NOTHING = Usage()


class Budget(BaseModel):
    """At most this much for a task and its whole subtree of calls (None: no bound)."""

    model_config = ConfigDict(frozen=True, allow_inf_nan=False)

    tokens: int | None = Field(default=None, ge=0)
    cost_usd: float | None = Field(default=None, ge=0.0)

    def spent(self, used: Usage) -> bool:
        """Whether `used` leaves nothing of this budget."""
        return (self.tokens is not None and used.tokens >= self.tokens) or (
            self.cost_usd is not None and used.cost_usd >= self.cost_usd
        )

    def exceeded(self, used: Usage) -> bool:
        """Whether `used` is over this budget."""
        return (self.tokens is not None and used.tokens > self.tokens) or (
            self.cost_usd is not None and used.cost_usd > self.cost_usd
        )

    def remaining(self, used: Usage) -> Budget:
        """What is left of this budget once `used` is spent."""
        return Budget(
            tokens=None if self.tokens is None else max(0, self.tokens - used.tokens),
            cost_usd=None if self.cost_usd is None else max(0.0, self.cost_usd - used.cost_usd),
        )

    def within(self, other: Budget | None) -> Budget:
        """The tighter of this budget and `other`, bound by bound."""
        if other is None:
            return self
        return Budget(
            tokens=_least(self.tokens, other.tokens),
            cost_usd=_least(self.cost_usd, other.cost_usd),
        )

    def describe(self, used: Usage) -> str:
        """`used` against this budget, in words."""
        parts = []
        if self.tokens is not None:
            parts.append(f"{used.tokens} of {self.tokens} tokens")
        if self.cost_usd is not None:
            parts.append(f"${used.cost_usd:.4f} of ${self.cost_usd:.4f}")
        return ", ".join(parts) or "no bound"


def _least(a: Any, b: Any) -> Any:
    return b if a is None else a if b is None else min(a, b)


class StepRecord(BaseModel):
    """One step's recorded outcome: its value inline, or where it is stored when large."""

    model_config = ConfigDict(frozen=True)

    key: str = Field(min_length=1, max_length=256)
    seq: int = Field(ge=0)
    digest: str = Field(max_length=64)
    value: Any = None
    stored: str | None = Field(default=None, description="the S3 key of a large value")
    usage: Usage = Usage()
    superseded: bool = Field(
        default=False, description="a re-run replaced this step: it stands for no value"
    )


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
        superseded_steps: Names (`name#occurrence`) of `ctx.step`s an earlier
            attempt recorded that a re-run replaced, in the same case.
        usage: What the task and its whole subtree of calls spent.
    """

    model_config = ConfigDict(frozen=True)

    task_id: str
    status: TaskStatus
    output: Any = None
    error: str | None = None
    artifacts: tuple[ArtifactRef, ...] = ()
    superseded_calls: tuple[str, ...] = ()
    superseded_steps: tuple[str, ...] = ()
    usage: Usage = Usage()

    @property
    def ok(self) -> bool:
        """Whether the task completed."""
        return self.status == "completed"
