"""The official a2a-sdk client against our gateway over real HTTP."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import httpx
import pytest
import uvicorn
from a2a.types import a2a_pb2 as pb
from a2a.utils.errors import A2AError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from a2a_temporal._process import ManagedProcess, free_port
from a2a_temporal.testing import DevStack
from examples.a2a_client import main as a2a_client_example
from examples.agents import DEMO_AGENTS
from tests.agents import Approver, Chatty, Slow, Splitter, Writer
from tests.gateway_helpers import IDENTITY, TOKEN, a2a_client, data_of, gateway, message
from tests.temporal_helpers import running

AGENTS = [Splitter(), Approver(), Slow(), Writer(), Chatty()]
S = pb.TaskState


async def test_cards_and_a_blocking_send(stack: DevStack) -> None:
    async with running(stack, AGENTS) as client, gateway(client) as url:
        async with httpx.AsyncClient() as http:
            index = (await http.get(f"{url}/agents")).json()
            card = (await http.get(f"{url}/agents/splitter/.well-known/agent-card.json")).json()
        assert {"splitter", "approver"} <= {entry["name"] for entry in index}
        assert card["name"] == "splitter"
        assert card["capabilities"]["streaming"] is True
        assert [skill["id"] for skill in card["skills"]] == ["split", "upper"]
        async with a2a_client(f"{url}/agents/splitter") as a2a:
            request = pb.SendMessageRequest(message=message(data={"text": "a b c"}, skill="split"))
            [response] = [r async for r in a2a.send_message(request)]
            task = response.task
            assert task.status.state == S.TASK_STATE_COMPLETED
            result = next(a for a in task.artifacts if a.name == "result")
            assert data_of(result.parts[0]) == {"words": ["a", "b", "c"], "count": 3}
            got = await a2a.get_task(pb.GetTaskRequest(id=task.id))
            assert got.status.state == S.TASK_STATE_COMPLETED
            text_only = pb.SendMessageRequest(message=message(text="hello world"))
            [response] = [r async for r in a2a.send_message(text_only)]
            result = next(a for a in response.task.artifacts if a.name == "result")
            assert data_of(result.parts[0])["count"] == 2, (
                "text goes to the first skill's text field"
            )


async def test_non_blocking_send_stream_list_and_cancel(stack: DevStack) -> None:
    async with running(stack, AGENTS) as client, gateway(client) as url:
        async with a2a_client(f"{url}/agents/slow") as a2a:
            request = pb.SendMessageRequest(
                message=message(data={"seconds": 60}, skill="sleep", context_id="ctx-1"),
                configuration=pb.SendMessageConfiguration(return_immediately=True),
            )
            [response] = [r async for r in a2a.send_message(request)]
            task_id = response.task.id
            assert response.task.status.state in (S.TASK_STATE_SUBMITTED, S.TASK_STATE_WORKING)
            listed = await a2a.list_tasks(pb.ListTasksRequest(context_id="ctx-1"))
            assert [t.id for t in listed.tasks] == [task_id]
            canceled = await a2a.cancel_task(pb.CancelTaskRequest(id=task_id))
            assert canceled.status.state == S.TASK_STATE_CANCELED
            with pytest.raises(A2AError, match="already ended"):
                await a2a.cancel_task(pb.CancelTaskRequest(id=task_id))
            with pytest.raises(A2AError, match="no task"):
                await a2a.get_task(pb.GetTaskRequest(id="slow.sleep.nope"))
        async with a2a_client(f"{url}/agents/writer", streaming=True) as a2a:
            request = pb.SendMessageRequest(
                message=message(data={"deltas": 300, "word": "ab "}, skill="stream")
            )
            events = [e async for e in a2a.send_message(request)]
        assert events[0].HasField("task")
        chunks = [
            e.artifact_update
            for e in events
            if e.HasField("artifact_update") and e.artifact_update.artifact.name == "text"
        ]
        assert "".join(c.artifact.parts[0].text for c in chunks) == "ab " * 300
        assert not chunks[0].append and all(c.append for c in chunks[1:])
        assert events[-1].status_update.status.state == S.TASK_STATE_COMPLETED


async def test_a_question_becomes_input_required_and_a_message_answers_it(stack: DevStack) -> None:
    async with running(stack, AGENTS) as client, gateway(client) as url:
        async with a2a_client(f"{url}/agents/approver") as a2a:
            ask = pb.SendMessageRequest(message=message(data={"text": "the plan"}, skill="review"))
            [response] = [r async for r in a2a.send_message(ask)]
            task = response.task
            assert task.status.state == S.TASK_STATE_INPUT_REQUIRED
            assert task.status.message.parts[0].text == "approve the plan?"
            reply = pb.SendMessageRequest(
                message=message(text="yes, go", task_id=task.id, context_id=task.context_id)
            )
            [response] = [r async for r in a2a.send_message(reply)]
        assert response.task.status.state == S.TASK_STATE_COMPLETED
        result = next(a for a in response.task.artifacts if a.name == "result")
        assert result.parts[0].text == "yes, go"


async def test_blocking_sends_wait_for_each_question_across_continue_as_new(
    stack: DevStack,
) -> None:
    rounds, deltas = 3, 15
    async with (
        running(stack, [Chatty()], input_park_after="PT0.2S", continue_as_new_after=40) as client,
        gateway(client) as url,
        a2a_client(f"{url}/agents/chatty") as a2a,
    ):
        args = {"rounds": rounds, "deltas": deltas}
        start = pb.SendMessageRequest(message=message(data=args, skill="converse"))
        [response] = [r async for r in a2a.send_message(start)]
        prompts = []
        while response.task.status.state == S.TASK_STATE_INPUT_REQUIRED:
            task = response.task
            prompts.append(task.status.message.parts[0].text)
            handle = client.get_task(task.id)
            while (await handle.state()).parked_on is None:  # parked: it continues as new
                await asyncio.sleep(0.05)
            reply = message(text=f"yes {len(prompts)}", task_id=task.id, context_id=task.context_id)
            [response] = [r async for r in a2a.send_message(pb.SendMessageRequest(message=reply))]
        state = await client.get_task(response.task.id).state()
    task = response.task
    assert prompts == [f"go on after round {r}?" for r in range(rounds)], "one stop per question"
    assert task.status.state == S.TASK_STATE_COMPLETED
    result = next(a for a in task.artifacts if a.name == "result")
    assert data_of(result.parts[0]) == [f"yes {r + 1}" for r in range(rounds)]
    text = next(a for a in task.artifacts if a.name == "text")
    assert text.parts[0].text == "".join(f"r{r}.{i} " for r in range(rounds) for i in range(deltas))
    assert state.continued >= 2, "each send found the task in its newest run"


async def test_every_request_is_authenticated_and_scopes_are_checked(stack: DevStack) -> None:
    async with running(stack, AGENTS) as client, gateway(client) as url:
        async with a2a_client(f"{url}/agents/splitter", token=None) as a2a:
            request = pb.SendMessageRequest(message=message(data={"text": "x"}, skill="split"))
            with pytest.raises(A2AError, match="HTTP Error 401"):
                [r async for r in a2a.send_message(request)]
        async with a2a_client(f"{url}/agents/splitter", token="wrong") as a2a:
            with pytest.raises(A2AError, match="HTTP Error 401"):
                await a2a.get_task(pb.GetTaskRequest(id="x"))
        async with a2a_client(f"{url}/agents/splitter") as a2a:
            bad = pb.SendMessageRequest(message=message(data={"text": 3}, skill="nope"))
            with pytest.raises(A2AError, match="has no skill 'nope'"):
                [r async for r in a2a.send_message(bad)]


async def test_a_resubscribing_client_loses_nothing_and_repeats_nothing(stack: DevStack) -> None:
    async with running(stack, AGENTS) as client, gateway(client) as url:
        async with a2a_client(f"{url}/agents/chatty", streaming=True) as a2a:
            request = pb.SendMessageRequest(
                message=message(data={"rounds": 0, "deltas": 1000}, skill="trickle")
            )
            stream = a2a.send_message(request)
            first = await anext(stream)
            task_id = first.task.id
            seen = ""
            async for event in stream:
                if (
                    event.HasField("artifact_update")
                    and event.artifact_update.artifact.name == "text"
                ):
                    seen += event.artifact_update.artifact.parts[0].text
                    break
            await stream.aclose()  # type: ignore[attr-defined]
            resumed = a2a.subscribe(pb.SubscribeToTaskRequest(id=task_id))
            snapshot = (await anext(resumed)).task
            text = next((a.parts[0].text for a in snapshot.artifacts if a.name == "text"), "")
            assert text.startswith(seen)
            async for event in resumed:
                update = event.artifact_update
                if event.HasField("artifact_update") and update.artifact.name == "text":
                    text = (text if update.append else "") + update.artifact.parts[0].text
        assert text == "".join(f"{i} " for i in range(1000))


async def test_push_notifications_survive_a_webhook_that_is_down_for_a_while(
    stack: DevStack,
) -> None:
    received: list[tuple[str | None, dict[str, object]]] = []
    refusals = 2

    async def webhook(request: Request) -> Response:
        nonlocal refusals
        if refusals:
            refusals -= 1
            return Response(status_code=503)
        received.append((request.headers.get("x-a2a-notification-token"), await request.json()))
        return Response(status_code=204)

    port = free_port()
    receiver = uvicorn.Server(
        uvicorn.Config(
            Starlette(routes=[Route("/hook", webhook, methods=["POST"])]),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            lifespan="off",
        )
    )
    serving = asyncio.create_task(receiver.serve())
    try:
        async with (
            running(stack, AGENTS) as client,
            gateway(client) as url,
            a2a_client(f"{url}/agents/splitter") as a2a,
        ):
            config = pb.TaskPushNotificationConfig(
                url=f"http://127.0.0.1:{port}/hook", token="tok-1"
            )
            request = pb.SendMessageRequest(
                message=message(data={"text": "pushed"}, skill="upper"),
                configuration=pb.SendMessageConfiguration(task_push_notification_config=config),
            )
            [response] = [r async for r in a2a.send_message(request)]
            task_id = response.task.id
            configs = await a2a.list_task_push_notification_configs(
                pb.ListTaskPushNotificationConfigsRequest(task_id=task_id)
            )
            assert [c.url for c in configs.configs] == [config.url]
            async with asyncio.timeout(60):
                while not received:
                    await asyncio.sleep(0.1)
    finally:
        receiver.should_exit = True
        await serving
    [(token, body)] = received
    assert token == "tok-1"
    task = body["task"]
    assert isinstance(task, dict)
    assert task["id"] == task_id
    assert task["status"]["state"] == "TASK_STATE_COMPLETED"
    assert refusals == 0, "the webhook refused the first two deliveries"


async def test_clients_carry_on_across_a_gateway_restart(stack: DevStack, tmp_path: Path) -> None:
    queue = f"gw-{uuid.uuid4().hex[:8]}"
    port = free_port()

    def gateway_process(n: int) -> ManagedProcess:
        log = tmp_path / f"gateway{n}.log"
        return stack.gateway_process(port, log, task_queue=queue, gateway_tokens={TOKEN: IDENTITY})

    first, second = gateway_process(1), gateway_process(2)
    try:
        async with running(stack, [Chatty()], task_queue=queue):
            await stack.wait_for_agents(["chatty"], queue)
            first.start()
            await first.wait_until_listening(port)
            url = f"http://127.0.0.1:{port}/agents/chatty"
            async with a2a_client(url, streaming=True) as a2a:
                request = pb.SendMessageRequest(
                    message=message(data={"rounds": 0, "deltas": 600}, skill="trickle")
                )
                stream = a2a.send_message(request)
                task_id = (await anext(stream)).task.id
                async for event in stream:
                    if event.HasField("artifact_update"):
                        break
                assert first.process is not None
                first.process.kill()
                first.process.wait()
                second.start()
                await second.wait_until_listening(port)
                resumed = a2a.subscribe(pb.SubscribeToTaskRequest(id=task_id))
                snapshot = (await anext(resumed)).task
                text = next((a.parts[0].text for a in snapshot.artifacts if a.name == "text"), "")
                async for event in resumed:
                    update = event.artifact_update
                    if event.HasField("artifact_update") and update.artifact.name == "text":
                        text = (text if update.append else "") + update.artifact.parts[0].text
                    last = event
    finally:
        await first.stop()
        await second.stop()
    assert text == "".join(f"{i} " for i in range(600))
    assert last.status_update.status.state == S.TASK_STATE_COMPLETED


async def test_the_readme_client_example_runs_against_the_demo_agents(
    stack: DevStack, capsys: pytest.CaptureFixture[str]
) -> None:
    async with running(stack, DEMO_AGENTS) as client, gateway(client) as url:
        await a2a_client_example(f"{url}/agents/planner", TOKEN)
    assert capsys.readouterr().out == "TASK_STATE_COMPLETED ['result']\n"
