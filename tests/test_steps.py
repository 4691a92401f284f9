"""Durable steps, usage and budgets, on Temporal and in-process."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from a2a_temporal import (
    A2AAgent,
    AgentEvent,
    Budget,
    CallResult,
    InMemoryA2AClient,
    NoAuth,
    Pipeline,
    RunContext,
    TaskHandle,
    TemporalA2AClient,
    Usage,
    skill,
)
from a2a_temporal._process import ManagedProcess
from a2a_temporal.core.steps import StepLedger
from a2a_temporal.temporal.journal import step_object_prefix
from a2a_temporal.testing import DevStack
from tests.completions_server import API_KEY, Requests, completions_server, reply_pieces
from tests.step_agents import Chooser, Researcher, Spender, Thinker
from tests.temporal_helpers import running


@pytest.fixture
def endpoint() -> Iterator[tuple[str, Requests]]:
    with completions_server() as served:
        yield served


def model_secrets(base_url: str) -> dict[str, str]:
    return {"OPENAI_API_KEY": API_KEY, "OPENAI_BASE_URL": base_url}


def prompts(seen: Requests) -> list[str]:
    return [body["messages"][-1]["content"] for body in seen.bodies]


async def test_model_calls_are_paid_once_across_a_park_and_a_resume(
    stack: DevStack, endpoint: tuple[str, Requests]
) -> None:
    base_url, seen = endpoint
    async with running(
        stack, [Thinker()], secrets=model_secrets(base_url), input_park_after="PT0.3S"
    ) as client:
        handle = await client.start("thinker", "think", args={"calls": 20, "ask": True})
        _, result = await _answered_once_parked(client, handle)
    assert result.status == "completed", result.error
    assert prompts(seen) == [f"question {i}" for i in range(20)], "a model call was re-sent"
    assert result.output["answers"] == ["".join(reply_pieces(f"question {i}")) for i in range(20)]
    assert result.output["reply"] == "yes"
    assert (result.usage.calls, result.usage.input_tokens) == (20, 40)
    assert result.usage.cost_usd == pytest.approx(0.02)


async def _answered_once_parked(
    client: TemporalA2AClient, handle: TaskHandle
) -> tuple[list[AgentEvent], CallResult]:
    """Follow the task; answer its question "yes" once its skill parked; its events and result."""
    events = []
    async for event in handle.events():
        events.append(event)
        if event.kind == "question":
            async with asyncio.timeout(30):
                while (await client.get_task(handle.task_id).state()).parked_on is None:
                    await asyncio.sleep(0.05)
            await handle.answer(event.payload["id"], "yes")
    return events, await handle.result()


async def test_a_killed_worker_re_sends_at_most_the_call_in_flight(
    stack: DevStack, endpoint: tuple[str, Requests], tmp_path: Path
) -> None:
    base_url, seen = endpoint
    queue = "steps-kill"
    env = {
        **stack.environment(task_queue=queue, heartbeat_timeout="PT2S"),
        **{f"A2A_SECRET_{k}": v for k, v in model_secrets(base_url).items()},
    }
    argv = [
        sys.executable,
        "-m",
        "a2a_temporal.cli",
        "worker",
        "--agents",
        "tests.step_agents:STEP_AGENTS",
    ]
    first = ManagedProcess("worker", argv, tmp_path / "one.log", env=env)
    second = ManagedProcess("worker", argv, tmp_path / "two.log", env=env)
    try:
        first.start()
        await stack.wait_for_agents(["thinker"], queue)
        client = await stack.client(task_queue=queue)
        handle = await client.start("thinker", "think", args={"calls": 20})
        async with asyncio.timeout(60):
            while len(seen.bodies) < 15:
                await asyncio.sleep(0.005)
        assert first.process is not None
        first.process.send_signal(signal.SIGKILL)
        await asyncio.to_thread(first.process.wait)
        second.start()
        result = await handle.result()
    finally:
        await first.stop()
        await second.stop()
    assert result.status == "completed", result.error
    sent = prompts(seen)
    assert sorted(set(sent)) == sorted(f"question {i}" for i in range(20))
    assert len(sent) - 20 <= 1, f"re-sent more than the call in flight: {sent}"
    assert result.usage.calls == 20


@pytest.mark.parametrize("runtime", ["in-process", "temporal"])
async def test_a_changed_step_fails_by_default_and_is_superseded_when_asked(
    stack: DevStack, runtime: str
) -> None:
    async def call(skill: str, choice: str) -> Any:
        if runtime == "in-process":
            return await InMemoryA2AClient([Chooser()]).call(
                "chooser", skill, args={"choice": choice}
            )
        async with running(stack, [Chooser()]) as client:
            return await client.call("chooser", skill, args={"choice": choice})

    strict = await call("strict", "a")
    assert strict.status == "failed"
    assert "CallMismatch" in (strict.error or "") and "step 'pick#0'" in (strict.error or "")
    relaxed = await call("relaxed", "b")
    assert (relaxed.status, relaxed.output) == ("completed", "b-changed / B-CHANGED (1)")
    assert relaxed.superseded_steps == ("pick#0", "note#0")


async def test_recorded_values_come_back_typed_and_large_ones_from_s3(stack: DevStack) -> None:
    async with running(stack, [Chooser()]) as client:
        result = await client.call("chooser", "steady", args={"choice": "a word"})
        [key] = await client.store.keys(step_object_prefix(result.task_id))
        stored = await client.store.get(key)
    assert key.startswith(f"{step_object_prefix(result.task_id)}big#0."), key
    assert (result.status, result.output) == ("completed", "Note A WORD 102400")
    assert len(stored) == 100 * 1024 + 2  # the JSON string, in the bucket, not the history
    local = await InMemoryA2AClient([Chooser()]).call(
        "chooser", "steady", args={"choice": "a word"}
    )
    assert (local.status, local.output) == (result.status, result.output)


async def test_gathered_steps_keep_their_names_and_keys(stack: DevStack) -> None:
    async with running(
        stack, [Thinker()], secrets=model_secrets("http://unused.invalid")
    ) as client:
        result = await client.call("thinker", "gathered", args={"calls": 4})
    assert result.output == [f"answer {i} for {result.task_id}/echo#{i}" for i in range(4)]


async def test_streamed_text_inside_a_step_is_sent_once_across_a_resume(
    stack: DevStack, endpoint: tuple[str, Requests]
) -> None:
    base_url, seen = endpoint
    async with running(
        stack, [Thinker()], secrets=model_secrets(base_url), input_park_after="PT0.3S"
    ) as client:
        handle = await client.start(
            "thinker", "think", args={"calls": 2, "ask": True, "stream": True}
        )
        events, result = await _answered_once_parked(client, handle)
    assert result.status == "completed", result.error
    text = "".join(e.payload["text"] for e in events if e.kind == "text_delta")
    assert text == "".join(reply_pieces("question 0") + reply_pieces("question 1"))
    assert not [e for e in events if e.kind == "diverged"]
    assert len(seen.bodies) == 2


@pytest.mark.parametrize("runtime", ["in-process", "temporal"])
async def test_a_budget_binds_a_three_level_call_tree(stack: DevStack, runtime: str) -> None:
    args = {"tokens": 40, "depth": 2}
    if runtime == "in-process":
        top = await InMemoryA2AClient([Spender()]).call(
            "spender", "spend", args=args, budget=Budget(tokens=100)
        )
    else:
        async with running(stack, [Spender()]) as client:
            top = await client.call("spender", "spend", args=args, budget=Budget(tokens=100))
    # top spends 40 of 100; the middle gets the 60 left and spends 40; the grandchild gets
    # 20, spends 40 and fails; each level's usage holds its subtree's
    assert top.status == "completed", top.error
    assert (top.usage.tokens, top.usage.calls) == (120, 3)
    middle = top.output["child"]
    assert middle["status"] == "completed", middle["error"]
    assert (middle["usage"]["input_tokens"], middle["usage"]["calls"]) == (80, 2)
    assert middle["output"]["left"] == {"tokens": 0, "cost_usd": None}
    grandchild = middle["output"]["child"]
    assert grandchild["status"] == "failed"
    assert grandchild["error"].startswith("BudgetExceeded: budget exceeded: 40 of 20 tokens")
    assert (grandchild["usage"]["input_tokens"], grandchild["usage"]["calls"]) == (40, 1)
    assert top.output["left"] == {"tokens": 0, "cost_usd": None}


async def test_a_pipeline_budget_binds_its_steps_and_sums_their_usage(stack: DevStack) -> None:
    pipeline = Pipeline.parse(
        {
            "name": "spending",
            "budget": {"tokens": 60},
            "steps": [
                {"id": "first", "agent": "spender", "skill": "spend", "args": {"tokens": 40}},
                {"id": "second", "agent": "spender", "skill": "spend", "args": {"tokens": 40},
                 "depends_on": ["first"]},
            ],
        }
    )  # fmt: skip
    async with running(stack, [Spender()]) as client:
        state = await (await client.start_pipeline(pipeline)).result()
    assert state.steps["first"].status == "completed"
    second = state.steps["second"]
    assert second.status == "failed"
    assert "BudgetExceeded: budget exceeded: 40 of 20 tokens" in (second.error or "")
    assert (state.status, state.usage.tokens, state.usage.calls) == ("failed", 80, 2)


async def test_the_gateway_shows_a_tasks_usage_in_its_metadata(stack: DevStack) -> None:
    pytest.importorskip("a2a")
    from a2a.types import a2a_pb2 as pb
    from google.protobuf import json_format

    from tests.gateway_helpers import a2a_client, gateway, message

    request = pb.SendMessageRequest(message=message(data={"tokens": 7}, skill="spend"))
    async with (
        running(stack, [Spender()]) as client,
        gateway(client) as url,
        a2a_client(f"{url}/agents/spender") as a2a,
    ):
        [response] = [r async for r in a2a.send_message(request)]
    usage = json_format.MessageToDict(response.task.metadata)["usage"]
    assert (usage["input_tokens"], usage["calls"]) == (7, 1)


def test_a_remote_tasks_reported_usage_counts_else_one_call() -> None:
    pytest.importorskip("a2a")
    from a2a.types import a2a_pb2 as pb

    from a2a_temporal.protocol.remote import reported_usage

    task = pb.Task(id="t")
    task.metadata.update({"usage": {"input_tokens": 5, "output_tokens": 2, "calls": 3}})
    assert reported_usage(task) == Usage(input_tokens=5, output_tokens=2, calls=3)
    task.metadata.update({"usage": {"input_tokens": -1}})
    assert reported_usage(task) == Usage(calls=1), "a bad report counts as one call"
    assert reported_usage(pb.Message(message_id="m")) == Usage(calls=1)


@pytest.mark.parametrize("runtime", ["in-process", "temporal"])
async def test_a_durable_pydantic_ai_agent_sends_each_model_request_once(
    stack: DevStack, endpoint: tuple[str, Requests], runtime: str
) -> None:
    pytest.importorskip("pydantic_ai")
    base_url, seen = endpoint
    researcher = Researcher()
    if runtime == "in-process":
        client = InMemoryA2AClient([researcher], secrets=model_secrets(base_url))
        result = await client.call("researcher", "research", args={"word": "cat"})
        events = client.events(result.task_id)
    else:
        async with running(stack, [researcher], secrets=model_secrets(base_url)) as temporal:
            handle = await temporal.start("researcher", "research", args={"word": "cat"})
            events = [e async for e in handle.events()]
            result = await handle.result()
    assert result.status == "completed", result.error
    answer = "".join(reply_pieces("the tool said cat-is-a-word"))
    assert result.output == answer
    assert len(seen.bodies) == 2, "a model request was sent again on the re-run"
    assert researcher.lookups == 1, "the tool ran again on the re-run"
    assert result.usage.calls == 2
    assert "".join(e.payload["text"] for e in events if e.kind == "text_delta") == answer


async def test_the_steps_update_refuses_what_an_attempt_could_not_have_sent(
    stack: DevStack,
) -> None:
    """A namespace client holding an attempt's token still cannot point a step elsewhere."""
    from temporalio.client import WorkflowUpdateFailedError

    from a2a_temporal.core.types import StepRecord
    from a2a_temporal.temporal.models import AttemptToken, SkillOptions, StepBatch
    from a2a_temporal.temporal.wire import STEPS_QUERY, STEPS_UPDATE
    from tests.temporal_helpers import attempt_inputs, skill_attempts

    async with running(stack, [Chooser()]) as client:
        options = (
            await client.router.resolve("chooser", "steady", client.settings.task_queue)
        ).options
        assert options is not None
        parked = options.model_copy(update={"task_queue": "nobody-polls"})
        task_id = "chooser.steady/forged-steps"
        handle = await client.temporal.start_workflow(
            "a2a.SkillRun",
            {"agent": "chooser", "skill": "steady", "args": {"choice": "x"},
             "options": SkillOptions.model_dump(parked, mode="json")},
            id=task_id,
            task_queue=client.settings.task_queue,
        )  # fmt: skip
        async with asyncio.timeout(30):
            while skill_attempts(await handle.fetch_history()) == 0:
                await asyncio.sleep(0.05)
        [scheduled] = attempt_inputs(await handle.fetch_history())
        token = AttemptToken(run=1, attempt=1, nonce=scheduled["nonce"])

        def record(**fields: Any) -> StepRecord:
            return StepRecord(key="note#0", seq=0, digest="d", **fields)

        forged = {
            "another task's object": [record(stored="tasks/other/artifacts/secret.txt")],
            "a value over 4 KiB inline": [record(value="x" * 5000)],
            "too many records": [record() for _ in range(1001)],
        }
        for why, records in forged.items():
            with pytest.raises(WorkflowUpdateFailedError):
                await handle.execute_update(STEPS_UPDATE, StepBatch(token=token, records=records))
            assert await handle.query(STEPS_QUERY, result_type=list[StepRecord]) == [], why
        elsewhere = StepBatch(token=token, records=[], calls={"other/call-0": Usage(calls=9)})
        with pytest.raises(WorkflowUpdateFailedError):
            await handle.execute_update(STEPS_UPDATE, elsewhere)
        own = record(stored=f"tasks/{task_id}/steps/note#0.abc.json")
        await handle.execute_update(STEPS_UPDATE, StepBatch(token=token, records=[own]))
        assert await handle.query(STEPS_QUERY, result_type=list[StepRecord]) == [own]
        await handle.terminate("test over")


async def test_step_names_nesting_and_set_args_are_checked_before_anything_runs() -> None:
    client = InMemoryA2AClient([Nester()])
    nested = await client.call("nester", "nest")
    assert nested.status == "failed" and "steps do not nest" in (nested.error or "")
    named = await client.call("nester", "badly_named")
    assert named.status == "failed" and "step name '../escape'" in (named.error or "")
    # a set's order differs between processes; its digest must not
    first = StepLedger().enter("s", ({"gamma", "alpha", "beta", "delta"},), {})
    second = StepLedger().enter("s", ({"delta", "beta", "alpha", "gamma"},), {})
    assert first.digest == second.digest


async def _echo_text(text: str) -> str:
    return text


class Nester(A2AAgent):
    name = "nester"

    @skill(retries=0)
    async def nest(self, ctx: RunContext[NoAuth]) -> str:
        async def outer() -> str:
            return str(await ctx.step("inner", _echo_text, "x"))

        return str(await ctx.step("outer", outer))

    @skill(retries=0)
    async def badly_named(self, ctx: RunContext[NoAuth]) -> str:
        return str(await ctx.step("../escape", _echo_text, "x"))
