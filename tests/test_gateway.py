"""The official a2a-sdk client against our gateway over real HTTP."""

from __future__ import annotations

import httpx
import pytest
from a2a.types import a2a_pb2 as pb
from a2a.utils.errors import A2AError

from a2a_temporal.testing import DevStack
from tests.agents import Approver, Slow, Splitter, Writer
from tests.gateway_helpers import a2a_client, data_of, gateway, message
from tests.temporal_helpers import running

AGENTS = [Splitter(), Approver(), Slow(), Writer()]
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


async def test_every_request_is_authenticated_and_scopes_are_checked(stack: DevStack) -> None:
    async with running(stack, AGENTS) as client, gateway(client) as url:
        async with a2a_client(f"{url}/agents/splitter", token=None) as a2a:
            request = pb.SendMessageRequest(message=message(data={"text": "x"}, skill="split"))
            with pytest.raises(A2AError, match="authentication required"):
                [r async for r in a2a.send_message(request)]
        async with a2a_client(f"{url}/agents/splitter", token="wrong") as a2a:
            with pytest.raises(A2AError, match="authentication required"):
                await a2a.get_task(pb.GetTaskRequest(id="x"))
        async with a2a_client(f"{url}/agents/splitter") as a2a:
            bad = pb.SendMessageRequest(message=message(data={"text": 3}, skill="nope"))
            with pytest.raises(A2AError, match="has no skill 'nope'"):
                [r async for r in a2a.send_message(bad)]


async def test_a_resubscribing_client_loses_nothing_and_repeats_nothing(stack: DevStack) -> None:
    async with running(stack, AGENTS) as client, gateway(client) as url:
        async with a2a_client(f"{url}/agents/writer", streaming=True) as a2a:
            request = pb.SendMessageRequest(
                message=message(data={"deltas": 2000, "word": "w "}, skill="stream")
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
            await stream.aclose()
            resumed = a2a.subscribe(pb.SubscribeToTaskRequest(id=task_id))
            snapshot = (await anext(resumed)).task
            text = next((a.parts[0].text for a in snapshot.artifacts if a.name == "text"), "")
            assert text.startswith(seen)
            async for event in resumed:
                update = event.artifact_update
                if event.HasField("artifact_update") and update.artifact.name == "text":
                    text = (text if update.append else "") + update.artifact.parts[0].text
        assert text == "w " * 2000
