"""What the A2A TCK checks of the gateway, with the TCK's scenario agent and real clients."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from a2a.client.client import Client
from a2a.types import a2a_pb2 as pb
from a2a.utils.errors import A2AError

from a2a_temporal.testing import DevStack
from examples.tck_agent import LINKED_LINES, TCK_AGENTS
from tests.gateway_helpers import TOKEN, a2a_client, data_of, gateway, message
from tests.temporal_helpers import running

S = pb.TaskState


@contextlib.asynccontextmanager
async def tck_agent(stack: DevStack) -> AsyncIterator[str]:
    """The TCK's scenario agent on a worker, served by the gateway; yield its A2A URL."""
    async with running(stack, TCK_AGENTS) as client, gateway(client) as url:
        yield f"{url}/agents/tck"


async def _send(a2a: Client, prefix: str) -> pb.Task:
    """Send a blocking message whose id starts with `prefix`; return the task."""
    request = pb.SendMessageRequest(
        message=message(text="hi", message_id=f"{prefix}-{uuid.uuid4()}")
    )
    responses = [r async for r in a2a.send_message(request)]
    return (
        responses[-1].task
        if responses[-1].HasField("task")
        else await a2a.get_task(pb.GetTaskRequest(id=responses[0].task.id))
    )


async def test_the_message_id_picks_the_behaviour_and_files_come_inline_or_linked(
    stack: DevStack,
) -> None:
    async with (
        tck_agent(stack) as agent,
        a2a_client(agent) as a2a,
        httpx.AsyncClient() as http,
    ):
        small = await _send(a2a, "tck-artifact-file")
        [part] = small.artifacts[0].parts
        assert (part.raw, part.filename, part.media_type) == (
            b"tck",
            "output.txt",
            "text/plain",
        )

        large = await _send(a2a, "tck-artifact-file-url")
        [link] = large.artifacts[0].parts
        assert (link.filename, link.media_type) == ("output.txt", "text/plain")
        assert link.url.startswith("http") and "X-Amz-Signature" in link.url
        assert (await http.get(link.url)).content == b"tck\n" * LINKED_LINES

        data = await _send(a2a, "tck-artifact-data")
        result = next(a for a in data.artifacts if a.name == "result")
        assert data_of(result.parts[0]) == {"key": "value", "count": 42}

        rejected = await _send(a2a, "tck-reject-task")
        assert rejected.status.state == S.TASK_STATE_REJECTED
        assert rejected.status.message.parts[0].text == "rejected"

        waiting = await _send(a2a, "tck-input-required")
        assert waiting.status.state == S.TASK_STATE_INPUT_REQUIRED
        first = await a2a.get_task(pb.GetTaskRequest(id=waiting.id))
        again = await a2a.get_task(pb.GetTaskRequest(id=waiting.id))
        assert first == again, "reading a task twice gives the same task (ids, no clock)"


async def test_follow_ups_to_a_waiting_task_keep_their_ids_and_text_in_its_history(
    stack: DevStack,
) -> None:
    async with tck_agent(stack) as agent, a2a_client(agent) as a2a:
        waiting = await _send(a2a, "tck-input-required")
        sent = []
        for prefix, text in [
            ("tck-input-required", "first follow-up"),
            ("tck-input-required", "second follow-up"),
            ("tck-complete-task", "done now"),
        ]:
            follow_up = message(
                text=text,
                message_id=f"{prefix}-{uuid.uuid4()}",
                task_id=waiting.id,
                context_id=waiting.context_id,
            )
            sent.append(follow_up)
            request = pb.SendMessageRequest(message=follow_up)
            [response] = [r async for r in a2a.send_message(request)]
            expected = S.TASK_STATE_COMPLETED if text == "done now" else S.TASK_STATE_INPUT_REQUIRED
            assert response.task.status.state == expected, text
        task = await a2a.get_task(pb.GetTaskRequest(id=waiting.id, history_length=10))
    users = [m for m in task.history if m.role == pb.Role.ROLE_USER]
    assert [(m.message_id, m.parts[0].text) for m in users] == [
        (m.message_id, m.parts[0].text) for m in sent
    ]
    assert all((m.task_id, m.context_id) == (task.id, task.context_id) for m in users)
    result = next(a for a in task.artifacts if a.name == "result")
    assert result.parts[0].text == "done now", "the follow-up's id told the agent to finish"


async def test_ended_tasks_keep_push_configs_and_refuse_subscriptions(stack: DevStack) -> None:
    async with tck_agent(stack) as agent, a2a_client(agent, streaming=True) as a2a:
        done = await _send(a2a, "tck-complete-task")
        assert done.status.state == S.TASK_STATE_COMPLETED
        with pytest.raises(A2AError, match="has ended"):
            [e async for e in a2a.subscribe(pb.SubscribeToTaskRequest(id=done.id))]

        config = pb.TaskPushNotificationConfig(
            task_id=done.id, id="late", url="http://127.0.0.1:9/hook", token="t"
        )
        created = await a2a.create_task_push_notification_config(config)
        assert (created.id, created.url) == ("late", config.url)
        got = await a2a.get_task_push_notification_config(
            pb.GetTaskPushNotificationConfigRequest(task_id=done.id, id="late")
        )
        assert got.url == config.url
        delete = pb.DeleteTaskPushNotificationConfigRequest(task_id=done.id, id="late")
        await a2a.delete_task_push_notification_config(delete)
        await a2a.delete_task_push_notification_config(delete)  # idempotent
        listed = await a2a.list_task_push_notification_configs(
            pb.ListTaskPushNotificationConfigsRequest(task_id=done.id)
        )
        assert list(listed.configs) == []


async def test_media_types_malformed_requests_and_a_strict_v1_card(stack: DevStack) -> None:
    async with tck_agent(stack) as agent:
        headers = {"Authorization": f"Bearer {TOKEN}", "A2A-Version": "1.0"}
        async with httpx.AsyncClient(headers=headers) as http:
            card = (await http.get(f"{agent}/.well-known/agent-card.json")).json()
            assert "url" not in card and "preferredTransport" not in card
            assert {i["protocolBinding"] for i in card["supportedInterfaces"]} == {
                "JSONRPC",
                "HTTP+JSON",
            }

            as_text = await http.post(agent, content=b"{}", headers={"Content-Type": "text/plain"})
            assert as_text.json()["error"]["code"] == -32005

            empty = {"jsonrpc": "2.0", "id": 1, "method": "SendMessage", "params": {}}
            refused = (await http.post(agent, json=empty)).json()
            assert "messageId" in refused["error"]["message"]

            unversioned = await http.post(
                agent, json={**empty, "id": "u1"}, headers={"A2A-Version": ""}
            )
            assert unversioned.json()["id"] == "u1"
            assert unversioned.json()["error"]["code"] == -32009
            assert "send the header 'A2A-Version: 1.0'" in unversioned.json()["error"]["message"]
            v03 = {"jsonrpc": "2.0", "id": 3, "method": "tasks/get", "params": {"id": "nope"}}
            legacy = (await http.post(agent, json=v03, headers={"A2A-Version": ""})).json()
            assert legacy["error"]["code"] != -32009, "v0.3 methods need no header"

            extended = {"jsonrpc": "2.0", "id": 2, "method": "GetExtendedAgentCard", "params": {}}
            refused = (await http.post(agent, json=extended)).json()
            assert "no extended card" in refused["error"]["message"]

            rest_empty = await http.post(f"{agent}/message:send", json={})
            assert rest_empty.status_code == 400

            rest = await http.post(
                f"{agent}/message:send",
                json={
                    "message": {
                        "role": "ROLE_USER",
                        "messageId": f"tck-complete-task-{uuid.uuid4()}",
                        "parts": [{"text": "hi"}],
                    }
                },
            )
            assert rest.headers["content-type"] == "application/json"
            assert rest.json()["task"]["status"]["state"] == "TASK_STATE_COMPLETED"
