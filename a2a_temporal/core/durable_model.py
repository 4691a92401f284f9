"""A pydantic-ai agent inside a skill, made durable: each model request is a `ctx.step`.

    with durable(ctx, agent):
        result = await agent.run(prompt)

Each model request of the run goes through `ctx.step("model", ...)`: a re-run
of the skill (a retry, a lost worker, a resume after a question) gets the
recorded responses back and sends no request again. The response's usage
goes to `ctx.usage`, and its text streams to `ctx.emit_text_delta` as it
arrives (the request is made with the model's streaming API). Tools run as
pydantic-ai runs them: a tool with side effects wraps them in `ctx.step` too.

Needs the `pydantic-ai` extra (`pip install 'a2a-temporal[pydantic-ai]'`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from pydantic import TypeAdapter
from pydantic_ai import Agent
from pydantic_ai.messages import (
    ModelMessage,
    ModelMessagesTypeAdapter,
    ModelResponse,
    PartDeltaEvent,
    PartStartEvent,
    TextPart,
    TextPartDelta,
)
from pydantic_ai.models import Model, ModelRequestParameters
from pydantic_ai.models.wrapper import WrapperModel
from pydantic_ai.settings import ModelSettings

from a2a_temporal.core.context import RunContext

__all__ = ["DurableModel", "durable"]

_RESPONSE: TypeAdapter[ModelResponse] = TypeAdapter(ModelResponse)
_VOLATILE = frozenset(
    {"timestamp", "request_timestamp", "run_id", "conversation_id", "duration", "provider_details"}
)


class DurableModel(WrapperModel):
    """`wrapped`, each request recorded as a step of the skill's task.

    Args:
        ctx: The running skill's context.
        wrapped: The model the agent would use.
    """

    def __init__(self, ctx: RunContext[Any], wrapped: Model | str) -> None:
        super().__init__(wrapped)
        self._ctx = ctx

    async def request(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
    ) -> ModelResponse:
        """The recorded response to this request, or a new one (streamed, its usage recorded)."""

        async def ask(conversation: Any) -> Any:
            response = await self._streamed(messages, model_settings, model_request_parameters)
            self._ctx.usage.record(
                input_tokens=response.usage.input_tokens,
                output_tokens=response.usage.output_tokens,
                model=self.wrapped.model_name,  # the one configured: a bounded label
            )
            return _RESPONSE.dump_python(response, mode="json")

        recorded = await self._ctx.step("model", ask, _conversation(messages))
        return _RESPONSE.validate_python(recorded)

    async def _streamed(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        parameters: ModelRequestParameters,
    ) -> ModelResponse:
        """A response through the wrapped model's streaming API, its text sent as deltas."""
        async with self.wrapped.request_stream(messages, model_settings, parameters) as stream:
            async for event in stream:
                text = ""
                if isinstance(event, PartStartEvent) and isinstance(event.part, TextPart):
                    text = event.part.content
                elif isinstance(event, PartDeltaEvent) and isinstance(event.delta, TextPartDelta):
                    text = event.delta.content_delta
                if text:
                    await self._ctx.emit_text_delta(text)
            return stream.get()


@contextlib.contextmanager
def durable(ctx: RunContext[Any], agent: Agent[Any, Any]) -> Iterator[Agent[Any, Any]]:
    """Run `agent` with its model made durable for this skill's task, inside the block."""
    if agent.model is None:
        raise ValueError("the agent has no model to make durable; give it one")
    with agent.override(model=DurableModel(ctx, agent.model)):
        yield agent


def _conversation(messages: list[ModelMessage]) -> Any:
    """The conversation so far as data, without what differs between runs (timestamps, ids).

    Only messages' and parts' own fields are left out: a tool's args or a
    structured answer keep theirs.
    """
    conversation = []
    for message in ModelMessagesTypeAdapter.dump_python(messages, mode="json"):
        kept = _stable(message)
        kept["parts"] = [_stable(part) for part in message.get("parts", [])]
        conversation.append(kept)
    return conversation


def _stable(fields: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in fields.items() if key not in _VOLATILE}
