"""Search attributes the runtime sets, so runs can be filtered in the Temporal UI."""

from __future__ import annotations

from temporalio.common import SearchAttributeKey

__all__ = ["AGENT", "ALL", "CALLER", "CONTEXT", "SKILL", "STATUS"]

AGENT = SearchAttributeKey.for_keyword("A2AAgent")
SKILL = SearchAttributeKey.for_keyword("A2ASkill")
CALLER = SearchAttributeKey.for_keyword("A2ACaller")
STATUS = SearchAttributeKey.for_keyword("A2AStatus")
CONTEXT = SearchAttributeKey.for_keyword("A2AContext")
ALL = (AGENT, SKILL, CALLER, STATUS, CONTEXT)
