"""While a command waits on a task or pipeline: its questions shown, and Ctrl-C explained.

A command that waits without `--follow` still shows each question the work
asks (on stderr, so stdout keeps only the result), with the command that
answers it. Ctrl-C stops the waiting, not the work: the line printed says so
and how to cancel or wait again.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator

from temporalio.client import WorkflowExecutionStatus
from temporalio.service import RPCError

from a2a_temporal.cli._inspect import Kind
from a2a_temporal.cli.follow import show_question
from a2a_temporal.core.types import AgentEvent
from a2a_temporal.temporal.client import TemporalA2AClient

__all__ = ["ALREADY_ENDED", "ended_status", "waiting_on"]

ALREADY_ENDED = 3  # the exit code of `cancel` on work that has ended
_NEXT: dict[Kind, tuple[str, str]] = {
    "task": ("a2a-temporal cancel {id}", "a2a-temporal result {id}"),
    "pipeline": ("a2a-temporal pipeline cancel {id}", "a2a-temporal pipeline status {id}"),
}


@contextlib.asynccontextmanager
async def waiting_on(
    kind: Kind, workflow_id: str, questions: AsyncIterator[AgentEvent] | None
) -> AsyncIterator[None]:
    """Show the questions in `questions` (None: the caller shows them); explain a Ctrl-C."""
    shown = asyncio.create_task(_show_questions(questions, workflow_id)) if questions else None
    try:
        yield
    except (asyncio.CancelledError, KeyboardInterrupt):
        cancel, wait = (command.format(id=workflow_id) for command in _NEXT[kind])
        print(
            f"\na2a-temporal: stopped waiting; the {kind} {workflow_id} goes on: `{cancel}` "
            f"cancels it, `{wait}` shows it again",
            file=sys.stderr,
            flush=True,
        )
        raise
    finally:
        if shown is not None:
            shown.cancel()
            with contextlib.suppress(asyncio.CancelledError, RPCError):
                await shown


async def _show_questions(events: AsyncIterator[AgentEvent], workflow_id: str) -> None:
    async for event in events:
        if event.kind == "question":
            await show_question({"task_id": workflow_id, **event.payload}, None, sys.stderr)


async def ended_status(client: TemporalA2AClient, workflow_id: str) -> str | None:
    """How the task or pipeline ended (`completed`, `failed`, ...), or None while it runs."""
    handle = client.temporal.get_workflow_handle(workflow_id)
    described = await handle.describe()
    if described.status == WorkflowExecutionStatus.RUNNING:
        return None
    if described.workflow_type == "a2a.Pipeline":
        return (await client.get_pipeline(workflow_id).result()).status
    return (await client.get_task(workflow_id).result()).status
