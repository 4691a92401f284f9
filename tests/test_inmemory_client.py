import asyncio

import pytest

from a2a_temporal import AgentEvent, InMemoryA2AClient, ScopedAuth, UnknownAgent
from tests.agents import Analyst, Delay, Flaky, Slow, Splitter, Vault


@pytest.fixture
def client() -> InMemoryA2AClient:
    return InMemoryA2AClient(
        agents=[Splitter(), Analyst(), Slow(), Flaky(), Vault()],
        secrets={"API_KEY": "abcdef"},
    )


async def test_call_returns_output_and_events(client: InMemoryA2AClient) -> None:
    result = await client.call("splitter", "split", args={"text": "a b c"})
    assert result.status == "completed"
    assert result.output == {"words": ["a", "b", "c"], "count": 3}
    assert result.task_id.startswith("splitter.split/")
    assert client.events(result.task_id) == [
        AgentEvent("progress", {"message": "splitting", "fraction": 0.5})
    ]


async def test_concurrent_nested_calls_and_artifacts(client: InMemoryA2AClient) -> None:
    result = await client.call("analyst", "report", args={"text": "to be or not"})
    assert result.ok, result.error
    assert result.output["report"] == "4 words: TO BE OR NOT"
    children = result.output["children"]
    assert sorted(children) == [f"{result.task_id}/call-0", f"{result.task_id}/call-1"], (
        "a skill's callees are named below it, as on Temporal"
    )
    assert [a.name for a in result.artifacts] == ["report.txt"]
    ctx = client.contexts[result.task_id]
    assert ctx.artifacts["report.txt"] == b"4 words: TO BE OR NOT"


async def test_deeply_nested_calls(client: InMemoryA2AClient) -> None:
    result = await client.call("analyst", "nested", args={"n": 5})
    assert (result.status, result.output) == ("completed", 5)
    nested = [t for t in client.contexts if t.startswith(result.task_id)]
    assert len(nested) == 6
    assert max(nested, key=len) == result.task_id + "/call-0" * 5


async def test_timeout_cancels_callee(client: InMemoryA2AClient) -> None:
    result = await client.call("slow", "sleep", args={"seconds": 30}, timeout=0.2)
    assert result.status == "canceled"
    assert result.error == "timed out after 0.2s"
    result = await client.call("slow", "poll", args={"seconds": 30}, timeout=0.2)
    assert result.status == "canceled"


async def test_parent_timeout_cancels_children(client: InMemoryA2AClient) -> None:
    result = await client.call("slow", "delegate", args=Delay(seconds=30), timeout=0.3)
    assert result.status == "canceled"
    children = [c for t, c in client.contexts.items() if t.startswith(f"{result.task_id}/")]
    assert len(children) == 1
    assert children[0].cancelled


async def test_outer_cancellation_cancels_the_callee(client: InMemoryA2AClient) -> None:
    outer = asyncio.create_task(client.call("slow", "sleep", args={"seconds": 30}))
    while not client.contexts:
        await asyncio.sleep(0.01)
    outer.cancel()
    with pytest.raises(asyncio.CancelledError):
        await outer
    (ctx,) = client.contexts.values()
    assert ctx.cancelled


async def test_invalid_args_are_rejected_with_field_names(client: InMemoryA2AClient) -> None:
    result = await client.call("analyst", "nested", args={"n": -1})
    assert result.status == "rejected"
    assert result.error is not None
    assert "n: Input should be greater than or equal to 0" in result.error
    assert client.contexts == {}


async def test_unknown_agent_and_skill_are_rejected(client: InMemoryA2AClient) -> None:
    result = await client.call("nobody", "x")
    assert result.status == "rejected"
    assert result.error == (
        "unknown agent 'nobody' (agents: analyst, flaky, slow, splitter, vault)"
    )
    result = await client.call("splitter", "nope")
    assert result.status == "rejected"
    assert result.error == "agent 'splitter' has no skill 'nope' (skills: split, upper)"


async def test_declared_scopes_are_checked_before_the_handler(client: InMemoryA2AClient) -> None:
    result = await client.call("vault", "reveal", args={"text": "API_KEY"})
    assert result.status == "rejected"
    assert "subject: Field required" in (result.error or "")
    reader = ScopedAuth(subject="ann", scopes=("vault:read",))
    outsider = ScopedAuth(subject="bob", scopes=())
    result = await client.call("vault", "reveal", args={"text": "API_KEY"}, auth=outsider)
    assert (result.status, result.error) == ("rejected", "missing scopes: vault:read")
    assert client.contexts == {}
    result = await client.call("vault", "reveal", args={"text": "API_KEY"}, auth=reader)
    assert (result.status, result.output) == ("completed", "ann:6")


async def test_require_scopes_in_handler_rejects(client: InMemoryA2AClient) -> None:
    reader = {"subject": "ann", "scopes": ["vault:read"]}
    result = await client.call("vault", "admin", auth=reader)
    assert (result.status, result.error) == ("rejected", "missing scopes: vault:admin")


async def test_missing_secret_fails_the_task(client: InMemoryA2AClient) -> None:
    auth = ScopedAuth(subject="ann", scopes=("vault:read",))
    result = await client.call("vault", "reveal", args={"text": "NOPE"}, auth=auth)
    assert result.status == "failed"
    assert result.error == "KeyError: \"secret 'NOPE' is not configured\""


async def test_exceptions_fail_after_retries() -> None:
    flaky = Flaky(failures=5)
    client = InMemoryA2AClient(agents=[flaky])
    result = await client.call("flaky", "work")
    assert (result.status, result.error) == ("failed", "ValueError: boom 3")
    assert flaky.attempts == 3
    retries = [e.payload for e in client.events(result.task_id) if e.kind == "retry"]
    assert retries == [
        {"attempt": 2, "reason": "ValueError: boom 1"},
        {"attempt": 3, "reason": "ValueError: boom 2"},
    ]


async def test_retry_then_success() -> None:
    flaky = Flaky(failures=1)
    result = await InMemoryA2AClient(agents=[flaky]).call("flaky", "work")
    assert (result.status, result.output) == ("completed", 2)


async def test_skill_timeout_fails(client: InMemoryA2AClient) -> None:
    result = await client.call("flaky", "hang")
    assert result.status == "failed"
    assert result.error == "TimeoutError: skill 'hang' timed out after 0.2s"


async def test_workspace_through_client(client: InMemoryA2AClient) -> None:
    auth = ScopedAuth(subject="ann")
    result = await client.call("vault", "store", args={"text": "hi"}, auth=auth)
    assert (result.status, result.output) == ("completed", ["notes/a.txt"])


async def test_discovery(client: InMemoryA2AClient) -> None:
    found = await client.discovery.find(tag="text")
    assert [c.name for c in found] == ["analyst", "splitter"]
    found = await client.discovery.find(tag="text", capability="tokenize", skill="split")
    assert [c.name for c in found] == ["splitter"]
    assert await client.discovery.find(skill="missing") == []
    card = await client.discovery.get("vault")
    assert card.skill("reveal") is not None
    with pytest.raises(UnknownAgent, match="unknown agent 'x' \\(agents: analyst, flaky"):
        await client.discovery.get("x")


def test_client_refuses_duplicates_and_non_agents() -> None:
    with pytest.raises(ValueError, match="two agents are named 'splitter'"):
        InMemoryA2AClient(agents=[Splitter(), Splitter()])
    with pytest.raises(TypeError, match="A2AAgent instance"):
        InMemoryA2AClient(agents=[Splitter])  # type: ignore[list-item]


async def test_bad_timeout_is_refused(client: InMemoryA2AClient) -> None:
    with pytest.raises(ValueError, match="timeout must be positive"):
        await client.call("splitter", "split", args={"text": "x"}, timeout=0)
