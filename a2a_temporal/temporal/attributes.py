"""The search attributes a task or pipeline starts with (pure: workflow code uses it too)."""

from __future__ import annotations

from temporalio.common import SearchAttributePair, TypedSearchAttributes

from a2a_temporal.temporal import wire

__all__ = ["task_attributes"]


def task_attributes(
    agent: str,
    skill: str,
    caller: str | None,
    context_id: str | None = None,
    subject: str | None = None,
) -> TypedSearchAttributes:
    """Search attributes a task starts with; `subject` names who it runs for (tenancy)."""
    pairs: list[SearchAttributePair[str]] = [
        SearchAttributePair(wire.SEARCH_AGENT, agent),
        SearchAttributePair(wire.SEARCH_SKILL, skill),
        SearchAttributePair(wire.SEARCH_CALLER, caller or "external"),
        SearchAttributePair(wire.SEARCH_STATUS, "running"),
    ]
    if context_id:
        pairs.append(SearchAttributePair(wire.SEARCH_CONTEXT, context_id))
    if subject:
        pairs.append(SearchAttributePair(wire.SEARCH_SUBJECT, subject))
    return TypedSearchAttributes(pairs)
