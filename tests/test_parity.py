"""The same skills behave the same in-process and on Temporal.

Each case runs one skill through `InMemoryA2AClient` and through a real worker
and compares what a caller sees: status, output, error and events.
"""

from __future__ import annotations

import asyncio
from collections.abc import MutableMapping
from typing import Any

import pytest
import structlog

from a2a_temporal import AgentEvent, Budget, CallResult, InMemoryA2AClient
from a2a_temporal.testing import DevStack
from tests.parity_agents import LOGGING_AGENTS, PARITY_AGENTS, Asyncish
from tests.step_agents import Chooser, Spender
from tests.temporal_helpers import running


def _seen(result: CallResult, events: list[AgentEvent]) -> tuple[Any, ...]:
    return (result.status, result.output, result.error, [(e.kind, e.payload) for e in events])


async def _in_process(skill: str) -> tuple[Any, ...]:
    client = InMemoryA2AClient(PARITY_AGENTS)
    result = await client.call("asyncish", skill)
    return _seen(result, client.events(result.task_id))


@pytest.mark.parametrize(
    ("skill", "expected"),
    [
        ("timeout_block", ("completed", "caught TimeoutError", None)),
        ("uncaught_timeout", ("failed", None, "TimeoutError")),
        ("wait_for", ("completed", "wait_for timed out", None)),
        ("task_group", ("completed", ["ValueError"], None)),
        ("shielded", ("completed", "shield kept working: finished", None)),
        ("reply", ("completed", {"kind": "a2a-message", "text": "hi", "data": {"n": 1}}, None)),
    ],
)
async def test_asyncio_cancellation_inside_skills_matches(
    stack: DevStack, skill: str, expected: tuple[Any, ...]
) -> None:
    local = await _in_process(skill)
    async with running(stack, PARITY_AGENTS) as client:
        handle = await client.start("asyncish", skill)
        events = [e async for e in handle.events()]
        remote = _seen(await handle.result(), events)
    assert local == remote
    assert local[:3] == expected


async def test_a_call_that_times_out_is_canceled_and_the_skill_goes_on(stack: DevStack) -> None:
    Asyncish.seen.clear()
    local_client = InMemoryA2AClient(PARITY_AGENTS)
    local = await local_client.call("asyncish", "call_with_timeout")
    local_child = local.output[2]
    assert local_client.contexts[local_child].cancelled
    async with running(stack, PARITY_AGENTS) as client:
        handle = await client.start("asyncish", "call_with_timeout")
        events = [e async for e in handle.events()]
        remote = await handle.result()
        child = await client.get_task(remote.output[2]).result()
    assert (local.status, local.output[:2]) == (remote.status, remote.output[:2])
    assert remote.output[:2] == ["canceled", "timed out after 1s"]
    assert events == local_client.events(local.task_id)
    assert (child.status, child.error) == ("canceled", "canceled by caller")
    assert Asyncish.seen == ["CancelledByCaller", "CancelledByCaller"], "in-process, then Temporal"


async def test_only_the_callers_cancel_is_cancelled_by_caller(stack: DevStack) -> None:
    Asyncish.seen.clear()
    local_client = InMemoryA2AClient(PARITY_AGENTS)
    call = asyncio.create_task(
        local_client.call("asyncish", "catch_caller_cancel", args={"seconds": 60})
    )
    while not any(
        e.payload.get("message") == "own timeout done"
        for ctx in local_client.contexts.values()
        for e in ctx.events
    ):
        await asyncio.sleep(0.01)
    [ctx] = local_client.contexts.values()
    ctx.cancel()
    local = await call
    local_seen = list(Asyncish.seen)
    Asyncish.seen.clear()
    async with running(stack, PARITY_AGENTS) as client:
        handle = await client.start("asyncish", "catch_caller_cancel", args={"seconds": 60})
        async for event in handle.events():
            if event.payload.get("message") == "own timeout done":
                break
        await handle.cancel()
        remote = await handle.result()
    assert (
        (local.status, local.error)
        == (remote.status, remote.error)
        == (
            "canceled",
            "canceled by caller",
        )
    )
    assert local_seen == Asyncish.seen == ["own timeout", "caller cancel"]


async def test_ctx_log_lines_carry_the_task_and_redact_secrets_in_both(stack: DevStack) -> None:
    secrets = {"DIARY_KEY": "diary-key-value-123456"}

    async def logged(client: Any) -> list[MutableMapping[str, Any]]:
        with structlog.testing.capture_logs() as logs:
            result = await client.call("diarist", "note")
        assert result.output == "ok", result.error
        lines = [line for line in logs if line["event"] == "noted"]
        for line in lines:
            assert (line.pop("task_id"), line.pop("agent")) == (result.task_id, "diarist")
            line.pop("workflow_id", None), line.pop("run_id", None), line.pop("attempt", None)
        return lines

    local = await logged(InMemoryA2AClient(LOGGING_AGENTS, secrets))
    async with running(stack, LOGGING_AGENTS, secrets=secrets) as client:
        remote = await logged(client)
    expected = {
        "event": "noted",
        "log_level": "info",
        "step": "one",
        "key": "[secret DIARY_KEY]",
        "n": 1,
        "more": '{"a": [1]}',
    }
    assert local == remote == [expected]


@pytest.mark.parametrize(
    ("agent", "skill", "args"),
    [
        ("chooser", "relaxed", {"choice": "x"}),
        ("chooser", "steady", {"choice": "y z"}),
        ("spender", "spend", {"tokens": 40, "depth": 2}),
    ],
)
async def test_steps_usage_and_budgets_match(
    stack: DevStack, agent: str, skill: str, args: dict[str, Any]
) -> None:
    budget = Budget(tokens=100)

    def seen(result: CallResult, events: list[AgentEvent]) -> tuple[Any, ...]:
        return (*_seen(result, events), result.usage, result.superseded_steps)

    local_client = InMemoryA2AClient([Chooser(), Spender()])
    local_result = await local_client.call(agent, skill, args=args, budget=budget)
    local = seen(local_result, local_client.events(local_result.task_id))
    async with running(stack, [Chooser(), Spender()]) as client:
        handle = await client.start(agent, skill, args=args, budget=budget)
        events = [e async for e in handle.events()]
        remote = seen(await handle.result(), events)
    assert local == remote
