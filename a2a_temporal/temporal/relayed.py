"""Relayed questions are shown only when the task that asked them really did.

A task's stream shows its callees' questions, passed up by `a2a.child_question`
signals. Anyone who may signal a workflow can send one, so the payload's
`task_id` (where the answer goes) and prompt are a claim: followers show a
relayed question only when it names a task below the one they follow and that
task lists the question itself.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import Client, WorkflowQueryFailedError, WorkflowQueryRejectedError
from temporalio.service import RPCError, RPCStatusCode

from a2a_temporal.core.names import is_descendant
from a2a_temporal.temporal.models import EventRecord, QuestionState
from a2a_temporal.temporal.wire import QUESTIONS_QUERY

__all__ = ["QUESTION_CHECK_TIMEOUT", "genuine_question"]

QUESTION_CHECK_TIMEOUT = timedelta(seconds=3)


async def genuine_question(client: Client, followed_id: str, record: EventRecord) -> bool:
    """Whether `record`, read from `followed_id`'s stream, may be shown (and answered).

    Events other than questions, and a task's own questions, pass. A relayed
    question passes when it names a task below `followed_id` that lists it with
    the same prompt; when that task does not answer in time, the name alone decides.
    """
    if record.kind != "question":
        return True
    asker = str(record.payload.get("task_id") or followed_id)
    if asker == followed_id:
        return True
    if not is_descendant(asker, followed_id):
        return False
    try:
        asked = await client.get_workflow_handle(asker).query(
            QUESTIONS_QUERY, result_type=list[QuestionState], rpc_timeout=QUESTION_CHECK_TIMEOUT
        )
    except (WorkflowQueryFailedError, WorkflowQueryRejectedError):
        return False
    except RPCError as err:
        return err.status not in (RPCStatusCode.NOT_FOUND, RPCStatusCode.INVALID_ARGUMENT)
    question_id, prompt = record.payload.get("id"), record.payload.get("prompt")
    return any(q.id == question_id and q.prompt == prompt for q in asked)
