"""Match a re-run skill's events against those earlier attempts already sent.

A retried or resumed attempt runs the skill from the top. While it emits what
is already on the task's stream (text deltas compared by their joined text, so
different chunking still matches), its events are dropped: subscribers see
each event once. At the first difference (an LLM writing other text, say) the
rest of the earlier events no longer stand; the publisher then says so with a
`diverged` event naming the first superseded event, and sends the new ones.
A re-run that returns without writing all of the earlier text supersedes it
too; other events it leaves out (progress, artifacts that stay stored) stand.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic_core import to_jsonable_python

from a2a_temporal.core.types import AgentEvent

__all__ = ["DIVERGED_EVENT", "Divergence", "EventReplay", "SentEvent", "effective_events"]

DIVERGED_EVENT = "diverged"


@dataclass(frozen=True)
class SentEvent:
    """A skill's event on the task's stream, at `offset` (emitted inside `step`, if any)."""

    offset: int
    kind: str
    payload: dict[str, Any]
    step: str | None = None


@dataclass(frozen=True)
class Divergence:
    """The re-run differs from the stream from event `superseded_from` on."""

    superseded_from: int

    def event(self) -> AgentEvent:
        """The `diverged` event that tells subscribers so."""
        return AgentEvent(DIVERGED_EVENT, {"superseded_from": self.superseded_from})


class EventReplay:
    """Decides, event by event, whether a re-run's event was already sent.

    Args:
        sent: The skill's events earlier attempts put on the stream, in order
            (see `effective_events`).
    """

    def __init__(self, sent: list[SentEvent]) -> None:
        self._sent = deque(sent)
        self._matched_text = ""
        self._held: list[AgentEvent] = []

    @property
    def active(self) -> bool:
        """Whether events are still being matched against the stream."""
        return bool(self._sent)

    def offer(self, event: AgentEvent) -> tuple[Divergence | None, list[AgentEvent]]:
        """Return the divergence `event` reveals (if any) and the events to send now."""
        if not self._sent:
            return None, [event]
        record = self._sent[0]
        if event.kind == "text_delta" and record.kind == "text_delta":
            return self._offer_text(event, str(record.payload.get("text", "")))
        if not self._matched_text and (event.kind, to_jsonable_python(event.payload)) == (
            record.kind,
            record.payload,
        ):
            self._next_record()
            return None, []
        return self._diverge([event])

    def skip_step(self, step: str) -> None:
        """A re-run got step `step`'s recorded value: the events it emitted are not coming."""
        if any(event.step == step for event in self._sent):
            self._sent = deque(event for event in self._sent if event.step != step)
            self._forget_partial_text()

    def finish(self) -> tuple[Divergence | None, list[AgentEvent]]:
        """The skill returned: text it did not write again is superseded.

        Other events an earlier attempt sent and this one did not (progress,
        an artifact that stays stored) stand as they were.
        """
        if any(event.kind == "text_delta" for event in self._sent):
            return self._diverge([])
        self._sent.clear()
        return None, []

    def _offer_text(
        self, event: AgentEvent, sent_text: str
    ) -> tuple[Divergence | None, list[AgentEvent]]:
        text = self._matched_text + str(event.payload.get("text", ""))
        if sent_text.startswith(text):
            self._held.append(event)
            self._matched_text = text
            if text == sent_text:
                self._next_record()
            return None, []
        if text.startswith(sent_text):
            self._next_record()
            return self.offer(AgentEvent("text_delta", {"text": text[len(sent_text) :]}))
        return self._diverge([event])

    def _next_record(self) -> None:
        self._sent.popleft()
        self._forget_partial_text()

    def _diverge(self, new: list[AgentEvent]) -> tuple[Divergence, list[AgentEvent]]:
        divergence = Divergence(self._sent[0].offset)
        release = [*self._held, *new]
        self._sent.clear()
        self._forget_partial_text()
        return divergence, release

    def _forget_partial_text(self) -> None:
        self._matched_text = ""
        self._held = []


def effective_events(
    records: list[tuple[int, str, dict[str, Any], bool]], steps: Mapping[int, str] | None = None
) -> list[SentEvent]:
    """The skill's events that still stand, given the stream's records in order.

    Each record is `(offset, kind, payload, from_skill)`; a `diverged` record
    with `superseded_from` drops the skill events from that offset on (one
    about superseded calls does not). `steps` names the step of the events
    emitted inside one, by offset.
    """
    steps = steps or {}
    standing: list[SentEvent] = []
    for offset, kind, payload, from_skill in records:
        if from_skill:
            standing.append(SentEvent(offset, kind, payload, steps.get(offset)))
        elif kind == DIVERGED_EVENT and "superseded_from" in payload:
            cut = int(payload["superseded_from"])
            standing = [event for event in standing if event.offset < cut]
    return standing
