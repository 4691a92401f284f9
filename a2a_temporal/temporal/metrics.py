"""Our metrics, recorded on a Temporal `MetricMeter` next to the SDK's own.

Workflow code records with `workflow.metric_meter()` (which records nothing
while replaying), a skill's attempt with its activity's meter, the gateway
with its runtime's meter; `metrics_port` exports them all, with the SDK's, to
Prometheus. Labels come from a closed set (agent and skill names, statuses,
kinds), never from request bodies. No I/O here: workflow code imports it.
"""

from __future__ import annotations

import asyncio

from temporalio.common import MetricMeter
from temporalio.exceptions import ApplicationError

from a2a_temporal.temporal import wire

__all__ = [
    "ARTIFACT_BYTES",
    "CALLS",
    "EVENTS",
    "EVENT_BATCHES",
    "EVENT_BYTES",
    "GATEWAY_REQUESTS",
    "MODEL_CALLS",
    "QUESTIONS_ASKED",
    "QUESTIONS_CLOSED",
    "RETRIES",
    "SANDBOX_SESSIONS",
    "SANDBOX_SESSION_SECONDS",
    "SKILL_SECONDS",
    "TASKS_ENDED",
    "TASKS_STARTED",
    "USAGE_MICRODOLLARS",
    "USAGE_TOKENS",
    "count",
    "event_kind",
    "observe",
    "outcome_of",
]

TASKS_STARTED = "a2a_tasks_started"
TASKS_ENDED = "a2a_tasks_ended"
SKILL_SECONDS = "a2a_skill_duration_seconds"
RETRIES = "a2a_retries"
EVENTS = "a2a_events"
EVENT_BATCHES = "a2a_event_batches"
EVENT_BYTES = "a2a_event_bytes"
ARTIFACT_BYTES = "a2a_artifact_bytes"
CALLS = "a2a_calls"
QUESTIONS_ASKED = "a2a_questions_asked"
QUESTIONS_CLOSED = "a2a_questions_closed"
SANDBOX_SESSIONS = "a2a_sandbox_sessions"
SANDBOX_SESSION_SECONDS = "a2a_sandbox_session_duration_seconds"
GATEWAY_REQUESTS = "a2a_gateway_requests"
MODEL_CALLS = "a2a_model_calls"
USAGE_TOKENS = "a2a_usage_tokens"
USAGE_MICRODOLLARS = "a2a_usage_microdollars"

_HELP = {
    TASKS_STARTED: "Tasks started, by agent and skill.",
    TASKS_ENDED: "Tasks ended, by agent, skill and status.",
    SKILL_SECONDS: "How long one run of a skill's body took, by agent, skill and outcome.",
    RETRIES: "Skill runs retried, by agent, skill and kind (skill or infrastructure).",
    EVENTS: "Events on tasks' streams, by agent, skill and kind.",
    EVENT_BATCHES: "Batches of events a skill's runs sent to their tasks.",
    EVENT_BYTES: "Bytes of events (as JSON) a skill's runs sent to their tasks.",
    ARTIFACT_BYTES: "Bytes of artifacts skills stored.",
    CALLS: "Tasks started by skills with ctx.call, by the calling agent and skill.",
    QUESTIONS_ASKED: "Questions skills asked.",
    QUESTIONS_CLOSED: "Questions closed, by how (answered, timed-out, task-ended); "
    "open = asked - closed.",
    SANDBOX_SESSIONS: "Sandbox sessions opened by skills.",
    SANDBOX_SESSION_SECONDS: "How long skills' sandbox sessions stayed open.",
    GATEWAY_REQUESTS: "Requests to the A2A gateway, by A2A method and HTTP status.",
    MODEL_CALLS: "Model (or tool) calls skills recorded with ctx.usage.record, by model.",
    USAGE_TOKENS: "Tokens skills recorded, by model and direction (input, output).",
    USAGE_MICRODOLLARS: "Cost skills recorded, in millionths of a dollar, by model.",
}


_OUTCOMES = {
    wire.SKILL_ERROR_TYPE: "failed",
    wire.AWAITING_INPUT_ERROR_TYPE: "input-required",
    wire.TASK_CANCELED_ERROR_TYPE: "canceled",
    wire.REJECTED_ERROR_TYPE: "rejected",
    wire.SUPERSEDED_ERROR_TYPE: "superseded",
    wire.INFRASTRUCTURE_ERROR_TYPE: "infrastructure",
}


_EVENT_KINDS = frozenset(
    {"progress", "text_delta", "artifact", "error", "retry", "question", "answer", "diverged"}
)


def event_kind(kind: str) -> str:
    """An event's kind as a label: one of the runtime's, or `custom` (skills name their own)."""
    return kind if kind in _EVENT_KINDS else "custom"


def outcome_of(error: BaseException | None) -> str:
    """How a run of a skill's body ended, as a label: `completed` when `error` is None."""
    if error is None:
        return "completed"
    if isinstance(error, ApplicationError):
        return _OUTCOMES.get(error.type or "", "error")
    return "stopped" if isinstance(error, asyncio.CancelledError) else "error"


def count(meter: MetricMeter, name: str, amount: int = 1, **labels: str) -> None:
    """Add `amount` to the counter `name` (one of this module's) for `labels`."""
    if amount > 0:
        meter.create_counter(name, _HELP[name]).add(amount, labels)


def observe(meter: MetricMeter, name: str, seconds: float, **labels: str) -> None:
    """Record `seconds` in the histogram `name` (one of this module's) for `labels`."""
    meter.create_histogram_float(name, _HELP[name], "seconds").record(max(0.0, seconds), labels)
