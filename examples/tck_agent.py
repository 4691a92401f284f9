"""The agent the A2A TCK's scenario-driven tests expect, written as an ordinary agent.

The TCK (`a2aproject/a2a-tck`, `scenarios/*.feature`) signals the behaviour it
wants through the message id's prefix; the gateway hands the id to any skill
whose input declares `a2a_message_id`. `examples/run_tck.py` serves this agent
with the gateway and runs the TCK against it.
"""

from __future__ import annotations

import asyncio
from typing import Any

from pydantic import BaseModel

from a2a_temporal import A2AAgent, MessageReply, NoAuth, RunContext, SkillRejected, skill

STREAMED_TEXT = {
    "tck-stream-001": "Stream hello from TCK",
    "tck-stream-003": "Stream task lifecycle",
    "tck-stream-ordering-001": "Ordered output",
    "tck-stream-artifact-text": "Streamed text content",
}
RESUBSCRIBE_HOLD_SECONDS = 4.0
LINKED_LINES = 20_000


class TckMessage(BaseModel):
    a2a_message_id: str = ""
    text: str = ""


class FollowUp(BaseModel):
    """A follow-up message to a task waiting for input (its id says what to do next)."""

    a2a_message_id: str = ""
    text: str = ""


class Tck(A2AAgent):
    """Acts on the TCK's message-id prefixes; anything else completes with a greeting."""

    name = "tck"
    description = "The A2A TCK's scenario agent"
    tags = ("tck",)

    @skill(retries=0)
    async def scenario(self, ctx: RunContext[NoAuth], args: TckMessage) -> Any:
        """Do what the scenario named by the message id's prefix asks."""
        prefix = args.a2a_message_id
        if prefix.startswith("tck-message-response"):
            return MessageReply(text="Direct message response")
        if prefix.startswith("tck-reject-task"):
            raise SkillRejected("rejected")
        if prefix.startswith("tck-input-required"):
            return await self._converse(ctx)
        if prefix.startswith("tck-artifact-file-url"):
            # Larger than the gateway inlines (64 KiB): it becomes a presigned link.
            await ctx.write_artifact("output.txt", b"tck\n" * LINKED_LINES, "text/plain")
            return None
        if prefix.startswith(("tck-artifact-file", "tck-stream-artifact-file")):
            await ctx.emit_progress("working")
            await ctx.write_artifact("output.txt", b"tck", "text/plain")
            return None
        if prefix.startswith("tck-artifact-data"):
            return {"key": "value", "count": 42}
        if prefix.startswith("tck-artifact-text"):
            return "Generated text content"
        if prefix.startswith("tck-stream-artifact-chunked"):
            await ctx.emit_progress("working")
            await ctx.emit_text_delta("chunk-1 ")
            await ctx.emit_text_delta("chunk-2")
            return None
        if prefix.startswith("test-resubscribe-message-id"):
            await ctx.emit_progress("working")
            await asyncio.sleep(RESUBSCRIBE_HOLD_SECONDS)
            return None
        if prefix.startswith("tck-stream-002"):
            return None
        streamed = next((t for p, t in STREAMED_TEXT.items() if prefix.startswith(p)), None)
        if streamed is not None:
            await ctx.emit_progress("working")
            await ctx.emit_text_delta(streamed)
            return None
        return "Hello from TCK"

    async def _converse(self, ctx: RunContext[NoAuth]) -> str:
        """Ask again while follow-ups ask for more input; end with the last one's text."""
        while True:
            follow_up = await ctx.collect(FollowUp, "input required")
            if not follow_up.a2a_message_id.startswith("tck-input-required"):
                return follow_up.text


TCK_AGENTS = [Tck()]
