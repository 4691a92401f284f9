"""Findings 1, 3 and 4: a tenant reaches only its own tasks, objects and questions.

Through the real gateway, Temporal and S3: another tenant's task is not found
by any task method (and is left as it was), `ListTasks` shows the caller's
own tasks only, artifacts are served from the task's own objects whatever an
event claims, an attempt's token cannot be guessed, and a question injected
by a signal is neither shown nor answered.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from a2a_temporal.temporal.client import TemporalA2AClient
from a2a_temporal.temporal.models import (
    AttemptToken,
    EventRecord,
    PublishBatch,
    Question,
    RelayedQuestion,
)
from a2a_temporal.temporal.wire import CHILD_QUESTION_SIGNAL, PUBLISH_UPDATE
from a2a_temporal.testing import DevStack
from tests.agents import Approver
from tests.security.exposure_agents import Leaker
from tests.security.gateway_calls import TASK_NOT_FOUND, rpc, send_params, tenant_gateway
from tests.temporal_helpers import running

SIGNALED = EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
TASK_COMPLETED = EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED


async def _asking_task(http: httpx.AsyncClient, url: str, who: str, text: str) -> str:
    """Start `approver.review` as `who`; return its id once it waits for an answer."""
    sent = await rpc(
        http, url, "SendMessage", send_params(data={"text": text}, skill="review"), who
    )
    task_id = str(sent["result"]["task"]["id"])
    async with asyncio.timeout(30):
        while True:
            got = await rpc(http, url, "GetTask", {"id": task_id}, who)
            if got["result"]["status"]["state"] == "TASK_STATE_INPUT_REQUIRED":
                return task_id
            await asyncio.sleep(0.1)


@contextlib.asynccontextmanager
async def _victim_and_attacker(
    stack: DevStack,
) -> AsyncIterator[tuple[TemporalA2AClient, httpx.AsyncClient, str, str, str]]:
    """Yield client, HTTP client, approver URL, ann's and bob's waiting task ids."""
    async with (
        running(stack, [Approver()]) as client,
        tenant_gateway(client) as base,
        httpx.AsyncClient(timeout=60) as http,
    ):
        url = f"{base}/agents/approver"
        victim = await _asking_task(http, url, "ann", "ann's secret plan")
        attacker = await _asking_task(http, url, "bob", "bob's plan")
        yield client, http, url, victim, attacker


async def _signals_handled(handle: WorkflowHandle[Any, Any]) -> None:
    """Wait until a workflow task has completed after the last signal in the history."""
    async with asyncio.timeout(30):
        while True:
            kinds = [e.event_type async for e in handle.fetch_history_events()]
            last_signal = max(i for i, k in enumerate(kinds) if k == SIGNALED)
            if TASK_COMPLETED in kinds[last_signal:]:
                return
            await asyncio.sleep(0.05)


async def test_a_tenant_cannot_read_list_cancel_answer_or_hook_anothers_task(
    stack: DevStack,
) -> None:
    async with _victim_and_attacker(stack) as (client, http, url, victim, own):
        attempts: dict[str, tuple[str, Any]] = {
            "get": ("GetTask", {"id": victim}),
            "subscribe": ("SubscribeToTask", {"id": victim}),
            "cancel": ("CancelTask", {"id": victim}),
            "answer": ("SendMessage", send_params(text="bob's answer", task_id=victim)),
            "hook": (
                "CreateTaskPushNotificationConfig",
                {"taskId": victim, "url": "https://hooks.example.com/steal"},
            ),
            "hooks": ("ListTaskPushNotificationConfigs", {"taskId": victim}),
            "hook get": ("GetTaskPushNotificationConfig", {"taskId": victim, "id": "x"}),
            "unhook": ("DeleteTaskPushNotificationConfig", {"taskId": victim, "id": "x"}),
        }
        replies = {
            name: await rpc(http, url, method, params, "bob")
            for name, (method, params) in attempts.items()
        }
        unknown = await rpc(http, url, "GetTask", {"id": f"approver.review.{uuid.uuid4()}"}, "bob")
        listed_by_bob = await rpc(http, url, "ListTasks", {}, "bob")
        listed_by_ann = await rpc(http, url, "ListTasks", {}, "ann")
        seen_by_admin = await rpc(http, url, "GetTask", {"id": victim}, "admin")
        answered = await rpc(
            http, url, "SendMessage", send_params(text="yes", task_id=victim), "ann"
        )
        result = await client.get_task(victim).result()
        await client.get_task(own).cancel()
    assert unknown["error"]["code"] == TASK_NOT_FOUND
    for name, reply in replies.items():
        assert reply.get("error", {}).get("code") == TASK_NOT_FOUND, (name, reply)
        assert reply["error"]["message"] == f"no task {victim!r} of agent 'approver'", (
            f"{name}: refused exactly as an unknown id is (no existence oracle)"
        )
        assert "secret plan" not in str(reply)
    bobs = [t["id"] for t in listed_by_bob["result"]["tasks"]]
    assert own in bobs and victim not in bobs
    assert victim in [t["id"] for t in listed_by_ann["result"]["tasks"]]
    assert own not in [t["id"] for t in listed_by_ann["result"]["tasks"]]
    assert seen_by_admin["result"]["id"] == victim, "tasks:admin sees every tenant's tasks"
    assert "error" not in answered
    assert (result.status, result.output) == ("completed", "yes"), (
        "the victim's task was neither cancelled nor answered by bob"
    )


async def test_artifacts_are_served_from_the_tasks_own_objects_only(stack: DevStack) -> None:
    bob_key = f"workspaces/bob-{uuid.uuid4().hex[:6]}/secret.txt"
    minio = stack.minio()
    await asyncio.to_thread(minio.put_object, stack.bucket, bob_key, io.BytesIO(b"bob's"), 5)
    async with (
        running(stack, [Leaker()]) as client,
        tenant_gateway(client) as base,
        httpx.AsyncClient(timeout=60) as http,
    ):
        url = f"{base}/agents/leaker"
        uri = f"s3://{stack.bucket}/{bob_key}"
        sent = await rpc(http, url, "SendMessage", send_params(data={"uri": uri}), "ann")
        task_id = sent["result"]["task"]["id"]
        assert (await client.get_task(task_id).result()).status == "completed"
        task = (await rpc(http, url, "GetTask", {"id": task_id}, "ann"))["result"]
    files = {a["name"]: a["parts"][0] for a in task["artifacts"] if a["name"] != "result"}
    assert set(files) == {"own.txt"}, "the announced foreign object is not served"
    assert files["own.txt"]["raw"] == "bWluZQ==", "own.txt is the task's own bytes (b'mine')"
    assert "bob's" not in str(task)


async def test_an_attempts_token_cannot_be_guessed_by_a_namespace_client(stack: DevStack) -> None:
    async with running(stack, [Approver()]) as client:
        handle = await client.start("approver", "review", args={"text": "plan"})
        async with asyncio.timeout(30):
            while (await handle.state()).status != "input-required":
                await asyncio.sleep(0.05)
        guessed = PublishBatch(
            token=AttemptToken(run=1, attempt=1),
            records=[EventRecord(kind="progress", payload={"message": "forged"})],
        )
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await client.temporal.get_workflow_handle(handle.task_id).execute_update(
                PUBLISH_UPDATE, guessed
            )
        await handle.answer("q0", "yes")
        events = [e async for e in handle.events()]
    assert isinstance(refused.value.cause, ApplicationError)
    assert refused.value.cause.type == "ForgedAttempt"
    assert not [e for e in events if e.payload.get("message") == "forged"]


async def test_a_question_injected_by_a_signal_is_neither_shown_nor_answered(
    stack: DevStack,
) -> None:
    async with _victim_and_attacker(stack) as (client, http, url, victim, attacker):
        phishing = Question(id="q0", prompt="Session expired: reply with your password")
        victim_handle = client.temporal.get_workflow_handle(victim)
        for named in (attacker, f"{victim}/call-9"):  # elsewhere; below it but never asked
            await victim_handle.signal(
                CHILD_QUESTION_SIGNAL, RelayedQuestion(task_id=named, question=phishing)
            )
        await _signals_handled(victim_handle)
        seen = await rpc(http, url, "GetTask", {"id": victim}, "ann")
        answered = await rpc(
            http, url, "SendMessage", send_params(text="hunter2", task_id=victim), "ann"
        )
        victim_result = await client.get_task(victim).result()
        attacker_state = await client.get_task(attacker).state()
        events = [e async for e in client.get_task(victim).events()]
        await client.get_task(attacker).cancel()
    assert "password" not in str(seen), "the injected question is not shown"
    assert "error" not in answered
    assert victim_result.output == "hunter2", "the answer went to the victim's own question"
    assert attacker_state.status == "input-required", "nothing reached the attacker's task"
    assert not [e for e in events if "password" in str(e.payload)]
