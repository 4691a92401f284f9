"""The built-in `a2a-remote` agent: a `ctx.call` to a URL, run as a task that survives crashes.

Every `AgentPlugin` hosts it. Its one skill sends the message once (the remote
task id is kept in the task's workflow before anything else can fail), then
follows the remote task; a re-run after a lost worker follows the same remote
task instead of sending again. Cancelling the task cancels the remote task.
A remote task that needs input asks through `ctx.ask`, so the question reaches
whoever follows the calling task, and the answer goes back to the remote task.
"""

from __future__ import annotations

import asyncio
from typing import Any

from pydantic import BaseModel

from a2a_temporal.core.agent import A2AAgent, skill
from a2a_temporal.core.auth import NoAuth
from a2a_temporal.core.context import RunContext
from a2a_temporal.errors import CancelledByCaller, OutboundRefused, SkillRejected
from a2a_temporal.temporal.wire import REMOTE_AGENT, REMOTE_SKILL
from a2a_temporal.trust.outbound import OutboundPolicy

__all__ = ["RemoteCall", "RemoteCallAgent"]


class RemoteCall(BaseModel):
    """What to ask a remote A2A agent."""

    url: str
    skill: str = ""
    args: dict[str, Any] | None = None


class RemoteCallAgent(A2AAgent):
    """Calls remote A2A agents on behalf of skills (targets given as URLs).

    Args:
        outbound: Where remote agents may be (the worker's `outbound_allow`).
    """

    name = REMOTE_AGENT
    tags = ("a2a", "remote")

    def __init__(self, outbound: OutboundPolicy | None = None) -> None:
        self._outbound = outbound or OutboundPolicy()

    @skill(name=REMOTE_SKILL, retries=0)
    async def call(self, ctx: RunContext[NoAuth], args: RemoteCall) -> Any:
        """Send the message to the remote agent once and follow its task to the end.

        A URL (or an endpoint its card names) where requests may not go rejects the call.
        """
        try:
            return await self._call(ctx, args)
        except OutboundRefused as exc:
            raise SkillRejected(str(exc)) from None

    async def _call(self, ctx: RunContext[NoAuth], args: RemoteCall) -> Any:
        from a2a.types import a2a_pb2 as pb

        from a2a_temporal.errors import RemoteError
        from a2a_temporal.protocol.remote import (
            RemoteConnector,
            credential_secret,
            outcome,
            reported_usage,
        )

        def credential(url: str) -> str | None:
            try:
                return ctx.secret(credential_secret(url))
            except KeyError:
                return None

        remote = RemoteConnector(credential, self._outbound)
        async with remote.client(args.url) as (client, card):

            async def send() -> dict[str, Any]:
                reply = await remote.send(client, args.skill, args.args, ctx.task_id)
                if isinstance(reply, pb.Message):
                    return {"message": outcome(reply).output}
                return {"task_id": reply.id, "context_id": reply.context_id}

            sent = await ctx._remember("sent", send)
            if "message" in sent:
                ctx.usage.record()  # one call; a message reports no usage
                return sent["message"]
            remote_task = str(sent["task_id"])
            await ctx.emit_progress(f"remote task {remote_task} at {args.url}")

            relayed: dict[str, str] = {}

            async def relay_text(artifact: Any, *, append: bool) -> None:
                text = "".join(part.text for part in artifact.parts if part.HasField("text"))
                before = relayed.get(artifact.artifact_id, "")
                after = before + text if append else text
                if after.startswith(before) and len(after) > len(before):
                    await ctx.emit_text_delta(after[len(before) :])
                relayed[artifact.artifact_id] = after

            async def relay(response: Any) -> None:
                if response.HasField("task"):
                    for artifact in response.task.artifacts:
                        await relay_text(artifact, append=False)
                elif response.HasField("artifact_update"):
                    update = response.artifact_update
                    await relay_text(update.artifact, append=update.append)
                elif response.HasField("status_update"):
                    status = response.status_update.status
                    if status.HasField("message"):
                        text = "".join(part.text for part in status.message.parts)
                        if text:
                            await ctx.emit_progress(text)

            answers = 0
            try:
                while True:
                    task = await remote.follow(client, card, remote_task, relay)
                    if task.status.state != pb.TaskState.TASK_STATE_INPUT_REQUIRED:
                        break
                    prompt = "".join(p.text for p in task.status.message.parts) or "input required"
                    answer = await ctx.ask(prompt)
                    number = answers
                    answers += 1

                    async def reply(answer: str = answer, number: int = number) -> str:
                        await remote.send(
                            client,
                            args.skill,
                            None,
                            f"{ctx.task_id}/answer-{number}",
                            task_id=remote_task,
                            context_id=str(sent["context_id"]),
                            text=answer,
                        )
                        return "sent"

                    await ctx._remember(f"answer-{number}", reply)
            except CancelledByCaller:
                current = asyncio.current_task()
                if current is not None:
                    current.uncancel()  # let the HTTP client (anyio) send the remote cancel
                await remote.cancel(client, remote_task)
                raise
        spent = reported_usage(task)
        ctx.usage.record(spent.input_tokens, spent.output_tokens, spent.cost_usd)
        result = outcome(task)
        if result.status == "completed":
            return result.output
        if result.status == "rejected":
            raise SkillRejected(result.error or "the remote agent rejected the task")
        raise RemoteError(result.error or f"the remote task ended {result.state}")
