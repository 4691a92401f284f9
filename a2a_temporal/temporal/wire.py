"""Names on the wire: workflow types, updates, queries, signals, activities, failure types, topics.

Pure. These strings are the API other Temporal clients use (the `temporal`
CLI, other SDKs); they are recorded in histories, so changing one breaks
every task running at the time. Defined here once, used everywhere.
"""

from __future__ import annotations

from temporalio.common import SearchAttributeKey

__all__ = [
    "ANSWER_UPDATE",
    "ARCHIVE_JOURNAL_ACTIVITY",
    "ASK_MANY_UPDATE",
    "ASK_UPDATE",
    "ATTEMPT_UPDATE",
    "AWAITING_INPUT_ERROR_TYPE",
    "AWAIT_ANSWERS_UPDATE",
    "AWAIT_ANSWER_UPDATE",
    "CALLS_UPDATE",
    "CHILD_QUESTION_SIGNAL",
    "DELIVER_PUSH_ACTIVITY",
    "EVENTS_TOPIC",
    "FORGED_ATTEMPT_ERROR_TYPE",
    "INFRASTRUCTURE_ERROR_TYPE",
    "LIST_ARTIFACTS_ACTIVITY",
    "MEMO_UPDATE",
    "PIPELINE_STATE_QUERY",
    "PIPELINE_WORKFLOW",
    "PUBLISH_UPDATE",
    "PUSH_DELIVERY_WORKFLOW",
    "PUSH_QUERY",
    "PUSH_REFUSED_ERROR_TYPE",
    "PUSH_UPDATE",
    "QUESTIONS_QUERY",
    "REJECTED_ERROR_TYPE",
    "REMOTE_AGENT",
    "REMOTE_SKILL",
    "RESOLVE_ACTIVITY",
    "RUN_SKILL_ACTIVITY",
    "SEARCH_AGENT",
    "SEARCH_ATTRIBUTES",
    "SEARCH_CALLER",
    "SEARCH_CONTEXT",
    "SEARCH_SKILL",
    "SEARCH_STATUS",
    "SEARCH_SUBJECT",
    "SETTLE_UPDATE",
    "SKILL_ERROR_TYPE",
    "SKILL_RUN_WORKFLOW",
    "STATE_QUERY",
    "STEPS_QUERY",
    "STEPS_UPDATE",
    "STREAM_OFFSET_QUERY",
    "SUPERSEDED_ERROR_TYPE",
    "TASK_CANCELED_ERROR_TYPE",
    "UNKNOWN_ATTEMPT_ERROR_TYPE",
    "VERIFY_IDENTITY_ACTIVITY",
    "WATCH_UPDATE",
]

# Workflow types.
SKILL_RUN_WORKFLOW = "a2a.SkillRun"
PIPELINE_WORKFLOW = "a2a.Pipeline"
PUSH_DELIVERY_WORKFLOW = "a2a.PushDelivery"

# Updates, signals and queries of `a2a.SkillRun` (and the pipeline's state query).
CALLS_UPDATE = "a2a.calls"
PUBLISH_UPDATE = "a2a.publish"
ATTEMPT_UPDATE = "a2a.attempt"
WATCH_UPDATE = "a2a.watch"
ASK_UPDATE = "a2a.ask"
AWAIT_ANSWER_UPDATE = "a2a.await_answer"
ASK_MANY_UPDATE = "a2a.ask_many"
AWAIT_ANSWERS_UPDATE = "a2a.await_answers"
ANSWER_UPDATE = "a2a.answer"
PUSH_UPDATE = "a2a.push"
MEMO_UPDATE = "a2a.memo"
SETTLE_UPDATE = "a2a.settle"
STEPS_UPDATE = "a2a.steps"
CHILD_QUESTION_SIGNAL = "a2a.child_question"
PUSH_QUERY = "a2a.push_configs"
QUESTIONS_QUERY = "a2a.questions"
STATE_QUERY = "a2a.state"
STEPS_QUERY = "a2a.steps"
PIPELINE_STATE_QUERY = "a2a.pipeline_state"

# The topic of a task's (or pipeline's) event stream, and its offset query
# (`temporalio.contrib.workflow_streams` names it).
EVENTS_TOPIC = "events"
STREAM_OFFSET_QUERY = "__temporal_workflow_stream_offset"

# Activities.
RUN_SKILL_ACTIVITY = "a2a.run_skill"
LIST_ARTIFACTS_ACTIVITY = "a2a.list_artifacts"
RESOLVE_ACTIVITY = "a2a.resolve_skills"
VERIFY_IDENTITY_ACTIVITY = "a2a.verify_identity"
DELIVER_PUSH_ACTIVITY = "a2a.deliver_push"
ARCHIVE_JOURNAL_ACTIVITY = "a2a.archive_journal"

# `ApplicationError.type`s the runtime raises and recognises.
REJECTED_ERROR_TYPE = "SkillRejected"
SKILL_ERROR_TYPE = "SkillError"
INFRASTRUCTURE_ERROR_TYPE = "Infrastructure"
SUPERSEDED_ERROR_TYPE = "Superseded"
TASK_CANCELED_ERROR_TYPE = "TaskCanceled"
UNKNOWN_ATTEMPT_ERROR_TYPE = "UnknownAttempt"
FORGED_ATTEMPT_ERROR_TYPE = "ForgedAttempt"
AWAITING_INPUT_ERROR_TYPE = "AwaitingInput"
PUSH_REFUSED_ERROR_TYPE = "PushRefused"

# The built-in agent that runs calls to remote A2A agents (URL targets).
REMOTE_AGENT = "a2a-remote"
REMOTE_SKILL = "call"

# Search attributes the runtime sets, so runs can be filtered in the Temporal UI.
SEARCH_AGENT = SearchAttributeKey.for_keyword("A2AAgent")
SEARCH_SKILL = SearchAttributeKey.for_keyword("A2ASkill")
SEARCH_CALLER = SearchAttributeKey.for_keyword("A2ACaller")
SEARCH_STATUS = SearchAttributeKey.for_keyword("A2AStatus")
SEARCH_CONTEXT = SearchAttributeKey.for_keyword("A2AContext")
SEARCH_SUBJECT = SearchAttributeKey.for_keyword("A2ASubject")
SEARCH_ATTRIBUTES = (
    SEARCH_AGENT,
    SEARCH_SKILL,
    SEARCH_CALLER,
    SEARCH_STATUS,
    SEARCH_CONTEXT,
    SEARCH_SUBJECT,
)
