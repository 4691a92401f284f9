"""An agent that streams a chat completion from an OpenAI-compatible endpoint.

Optional: the demo does not need it. It reads two secrets on the worker,
`OPENAI_API_KEY` (required) and `OPENAI_BASE_URL` (default
`https://api.openai.com/v1`; any server that speaks the chat completions API
with `stream: true` works), and emits each piece of text as a `text_delta`
event while it arrives, so `a2a-temporal run author write --follow` prints the
answer as it is written. The key never leaves the worker. The completion is a
durable step (`ctx.step`) and its usage is the task's (`CallResult.usage`).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
from pydantic import BaseModel, Field

from a2a_temporal import A2AAgent, NoAuth, RunContext, skill

DEFAULT_BASE_URL = "https://api.openai.com/v1"


class WriteArgs(BaseModel):
    prompt: str = Field(min_length=1, description="What to write")
    system: str | None = Field(default=None, description="Optional system message")
    model: str = Field(default="gpt-4o-mini", min_length=1)
    max_tokens: int = Field(default=512, ge=1, le=32_768)


class Written(BaseModel):
    text: str
    model: str
    finish_reason: str | None


class CompletionError(RuntimeError):
    """The endpoint refused the request or broke off the stream."""


class Author(A2AAgent):
    """Writes text with an LLM behind an OpenAI-compatible API, streaming it live."""

    name = "author"
    tags = ("llm", "text")
    capabilities = ("streaming",)

    # One retry for a dropped connection or a crashed worker. A completion cut
    # off midway runs again and may write other text: subscribers get a
    # `diverged` event, then the new text. One that finished is a recorded
    # step: a re-run gets its answer back instead of asking (and paying) again.
    @skill(retries=1, timeout=600)
    async def write(self, ctx: RunContext[NoAuth], args: WriteArgs) -> Written:
        """Stream a chat completion for `prompt`, one `text_delta` event per piece."""
        await ctx.emit_progress(f"asking {args.model}")
        written: Written = await ctx.step("completion", _complete, ctx, args)
        return written


async def _complete(ctx: RunContext[NoAuth], args: WriteArgs) -> Written:
    """One streamed chat completion; its usage recorded (tokens when the endpoint reports them)."""
    key = ctx.secret("OPENAI_API_KEY")
    base_url = _optional_secret(ctx, "OPENAI_BASE_URL") or DEFAULT_BASE_URL
    messages = [{"role": "user", "content": args.prompt}]
    if args.system:
        messages.insert(0, {"role": "system", "content": args.system})
    body = {
        "model": args.model,
        "messages": messages,
        "max_tokens": args.max_tokens,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    pieces: list[str] = []
    finish_reason: str | None = None
    model = args.model
    usage: dict[str, Any] = {}
    async for chunk in _completion_chunks(base_url, key, body):
        model = chunk.get("model") or model
        usage = chunk.get("usage") or usage
        for choice in chunk.get("choices") or []:
            text = (choice.get("delta") or {}).get("content")
            if text:
                pieces.append(text)
                await ctx.emit_text_delta(text)
            finish_reason = choice.get("finish_reason") or finish_reason
    ctx.usage.record(
        input_tokens=int(usage.get("prompt_tokens", 0)),
        output_tokens=int(usage.get("completion_tokens", 0)),
        model=model,
    )
    return Written(text="".join(pieces), model=model, finish_reason=finish_reason)


def _optional_secret(ctx: RunContext[Any], name: str) -> str | None:
    try:
        return ctx.secret(name)
    except KeyError:
        return None


async def _completion_chunks(
    base_url: str, key: str, body: dict[str, Any]
) -> AsyncIterator[dict[str, Any]]:
    """The JSON chunks of a streamed chat completion (server-sent events)."""
    url = f"{base_url.rstrip('/')}/chat/completions"
    headers = {"Authorization": f"Bearer {key}", "Accept": "text/event-stream"}
    timeout = httpx.Timeout(120.0, connect=10.0)
    async with (
        httpx.AsyncClient(timeout=timeout) as http,
        http.stream("POST", url, json=body, headers=headers) as response,
    ):
        if response.status_code != httpx.codes.OK:
            detail = (await response.aread()).decode(errors="replace").strip()
            raise CompletionError(f"{url} answered {response.status_code}: {detail[:300]}")
        async for line in response.aiter_lines():
            if not line.startswith("data:"):
                continue
            data = line.removeprefix("data:").strip()
            if data == "[DONE]":
                return
            chunk = json.loads(data)
            if "error" in chunk:
                raise CompletionError(f"{url} broke off the stream: {chunk['error']}")
            yield chunk
    raise CompletionError(f"{url} ended the stream without [DONE]")
