"""The optional LLM agent, against a local OpenAI-compatible streaming server."""

from collections.abc import Iterator

import pytest

from a2a_temporal import InMemoryA2AClient
from a2a_temporal.testing import DevStack
from examples.author import Author
from tests.completions_server import (
    API_KEY,
    SLOW_PROMPT,
    Requests,
    completions_server,
    reply_pieces,
)
from tests.temporal_helpers import history, running


@pytest.fixture
def endpoint() -> Iterator[tuple[str, Requests]]:
    with completions_server() as served:
        yield served


def secrets(base_url: str, key: str = API_KEY) -> dict[str, str]:
    return {"OPENAI_API_KEY": key, "OPENAI_BASE_URL": base_url}


async def test_author_streams_locally_and_sends_the_request(
    endpoint: tuple[str, Requests],
) -> None:
    base_url, seen = endpoint
    client = InMemoryA2AClient([Author()], secrets=secrets(base_url))
    result = await client.call(
        "author", "write", args={"prompt": "a haiku", "system": "be brief", "max_tokens": 40}
    )
    assert result.status == "completed", result.error
    assert result.output == {
        "text": "".join(reply_pieces("a haiku")),
        "model": "scripted-1",
        "finish_reason": "stop",
    }
    assert seen.authorizations == [f"Bearer {API_KEY}"]
    assert seen.bodies == [
        {
            "model": "gpt-4o-mini",
            "messages": [
                {"role": "system", "content": "be brief"},
                {"role": "user", "content": "a haiku"},
            ],
            "max_tokens": 40,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
    ]
    assert (result.usage.calls, result.usage.input_tokens, result.usage.output_tokens) == (1, 2, 4)


async def test_author_without_a_key_names_the_missing_secret() -> None:
    result = await InMemoryA2AClient([Author()]).call("author", "write", args={"prompt": "hi"})
    assert result.status == "failed"
    assert result.error is not None
    assert "secret 'OPENAI_API_KEY' is not configured" in result.error


async def test_author_streams_deltas_on_temporal_and_keeps_the_key_out_of_history(
    stack: DevStack, endpoint: tuple[str, Requests]
) -> None:
    base_url, _ = endpoint
    async with running(stack, [Author()], secrets=secrets(base_url)) as client:
        handle = await client.start("author", "write", args={"prompt": "durable streams"})
        events = [e async for e in handle.events()]
        result = await handle.result()
        dump = (await history(client, handle.task_id)).to_json()
    assert result.status == "completed", result.error
    deltas = [e.payload["text"] for e in events if e.kind == "text_delta"]
    assert "".join(deltas) == result.output["text"] == "".join(reply_pieces("durable streams"))
    assert events[0].kind == "progress"
    assert API_KEY not in dump


async def test_author_reports_a_refused_key_after_its_one_retry(
    stack: DevStack, endpoint: tuple[str, Requests]
) -> None:
    base_url, seen = endpoint
    async with running(stack, [Author()], secrets=secrets(base_url, key="sk-wrong")) as client:
        result = await client.call("author", "write", args={"prompt": "hi"})
    assert result.status == "failed"
    assert result.error == (
        "CompletionError: [secret OPENAI_BASE_URL]/chat/completions answered 401: "
        '{"error": {"message": "Incorrect API key provided"}}'
    ), "the endpoint is a secret of the worker, so errors name it instead of showing it"
    assert len(seen.bodies) == 2


async def test_cancelling_the_author_closes_the_stream(
    stack: DevStack, endpoint: tuple[str, Requests]
) -> None:
    base_url, seen = endpoint
    async with running(stack, [Author()], secrets=secrets(base_url)) as client:
        handle = await client.start("author", "write", args={"prompt": SLOW_PROMPT})
        async for event in handle.events():
            if event.kind == "text_delta":
                break
        await handle.cancel()
        result = await handle.result()
    assert result.status == "canceled"
    assert seen.hung_up.wait(timeout=30), "the endpoint saw the client hang up"
