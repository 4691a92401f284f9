"""The search attributes and memo a task starts with (pure: workflow code uses it too)."""

from __future__ import annotations

from temporalio.common import SearchAttributePair, TypedSearchAttributes

from a2a_temporal.temporal import wire

__all__ = ["STARTER_MEMO", "STARTER_REVISION", "starter_memo", "task_attributes"]

STARTER_MEMO = "a2a.starter"
STARTER_REVISION = 1
"""The runtime revision a lean start (`lean_task_history`) records in a task's memo.

A task started at revision 1 or later gives its attempts a nonce without
writing the `a2a-attempt-nonce` patch marker, and the `TemporalChangeVersion`
search-attribute update that comes with every marker; the calls and steps it
starts are lean too. Other runs take the patched path as before.
"""


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


def starter_memo() -> dict[str, int]:
    """The memo a task starts with: which runtime revision started it."""
    return {STARTER_MEMO: STARTER_REVISION}
