"""Finding 5: push webhooks and remote agents only where requests may go.

Refusals are proven where the URL is given or resolved (literal addresses,
`.invalid` names, a resolver that answers loopback): no test sends a request
to a link-local, private or public address. The one request that is sent goes
to a server of the test's own, on loopback, once loopback is allowed.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import ActivityError, ApplicationError

from a2a_temporal.errors import OutboundRefused
from a2a_temporal.temporal.models import PushTarget, SkillRunInput
from a2a_temporal.testing import DevStack
from a2a_temporal.trust.guarded_http import guarded_client
from a2a_temporal.trust.outbound import LOOPBACK_ALLOW, OutboundPolicy
from tests.agents import Approver
from tests.gateway_helpers import serving
from tests.remote_agents import Relay
from tests.security.gateway_calls import rpc, send_params, tenant_gateway
from tests.temporal_helpers import running
from tests.test_encryption import KEY

INVALID_PARAMS = -32602
REFUSED = {
    "http://169.254.169.254/latest/meta-data/": "link-local",
    "http://127.0.0.1:8233/": "loopback",
    "http://[::1]/hook": "loopback",
    "http://[::ffff:10.0.0.7]/": "private",
    "http://10.1.2.3/hook": "private",
    "http://localhost:9/": "points at this machine",
    "file:///etc/passwd": "must be http(s)",
    "gopher://hooks.example.com/": "must be http(s)",
    "http://user:pw@hooks.example.com/": "credentials in the URL",
}


async def test_the_gateway_and_the_client_refuse_webhooks_where_requests_may_not_go(
    stack: DevStack,
) -> None:
    async with (
        running(stack, [Approver()], outbound_allow=[]) as client,
        tenant_gateway(client, outbound_allow=[]) as base,
        httpx.AsyncClient(timeout=60) as http,
    ):
        url = f"{base}/agents/approver"
        before = await rpc(http, url, "ListTasks", {}, "ann")
        replies = {}
        for hook, _ in REFUSED.items():
            params = send_params(data={"text": "plan"}, skill="review")
            params["configuration"]["taskPushNotificationConfig"] = {"url": hook}
            replies[hook] = await rpc(http, url, "SendMessage", params, "ann")
        sent = await rpc(http, url, "SendMessage", send_params(data={"text": "x"}), "ann")
        task_id = sent["result"]["task"]["id"]
        added = await rpc(
            http,
            url,
            "CreateTaskPushNotificationConfig",
            {"taskId": task_id, "url": "http://169.254.169.254/"},
            "ann",
        )
        listed = await rpc(http, url, "ListTasks", {}, "ann")
        with pytest.raises(OutboundRefused, match="link-local"):
            await client.start(
                "approver",
                "review",
                args={"text": "plan"},
                push=[PushTarget(id="h", url="http://169.254.169.254/")],
            )
        await client.get_task(task_id).cancel()
    for hook, reason in REFUSED.items():
        error = replies[hook]["error"]
        assert error["code"] == INVALID_PARAMS, (hook, error)
        assert reason in error["message"], (hook, error)
    assert added["error"]["code"] == INVALID_PARAMS and "link-local" in added["error"]["message"]
    started = {t["id"] for t in listed["result"]["tasks"]} - {
        t["id"] for t in before["result"].get("tasks", [])
    }
    assert started == {task_id}, "no refused send started a task"


async def test_a_worker_refuses_a_webhook_a_namespace_client_slipped_in(stack: DevStack) -> None:
    async with running(stack, [Approver()], outbound_allow=[]) as client:
        task_id = f"approver.impatient/{uuid.uuid4()}"
        raw = SkillRunInput(
            agent="approver",
            skill="impatient",
            push=[PushTarget(id="h", url="http://10.1.2.3/hook", auth_scheme="Bearer")],
        )
        await client.temporal.start_workflow(
            "a2a.SkillRun",
            raw.model_dump(mode="json"),
            id=task_id,
            task_queue=client.settings.task_queue,
        )
        await client.get_task(task_id).result()
        delivery = client.temporal.get_workflow_handle(f"{task_id}/push-1")
        with pytest.raises(WorkflowFailureError) as failed:
            await delivery.result()
        history = await delivery.fetch_history()
    assert isinstance(failed.value.cause, ActivityError)
    refusal = failed.value.cause.cause
    assert isinstance(refusal, ApplicationError) and refusal.type == "PushRefused"
    assert "10.1.2.3 is a private address" in refusal.message
    attempts = [e for e in history.events if e.HasField("activity_task_started_event_attributes")]
    assert [e.activity_task_started_event_attributes.attempt for e in attempts] == [1], (
        "refused once, not retried for a day"
    )


async def test_a_remote_call_to_a_local_address_is_rejected_before_any_request(
    stack: DevStack,
) -> None:
    async with running(stack, [Relay()], outbound_allow=[]) as client:
        metadata = await client.call(
            "relay", "ask_remote", args={"url": "http://169.254.169.254/a2a"}
        )
        local = await client.call("relay", "ask_remote", args={"url": "http://127.0.0.1:9/a2a"})
    assert metadata.output["status"] == "rejected"
    assert "169.254.169.254 is a link-local address" in metadata.output["error"]
    assert local.output["status"] == "rejected"
    assert "loopback" in local.output["error"]


async def test_names_are_checked_again_by_the_addresses_they_resolve_to() -> None:
    hosts: list[str] = []

    async def hook(request: Request) -> PlainTextResponse:
        hosts.append(request.headers["host"])
        return PlainTextResponse("heard")

    async def rebinding(host: str, port: int) -> list[str]:
        return {"rebind.invalid": ["127.0.0.1"], "mixed.invalid": ["8.8.8.8", "10.0.0.1"]}[host]

    app = Starlette(routes=[Route("/hook", hook, methods=["POST"])])
    async with serving(app) as base:
        port = base.rsplit(":", 1)[1]
        target = f"http://rebind.invalid:{port}/hook"
        strict = OutboundPolicy()
        assert strict.check_url(target) == target, "a name passes until it is resolved"
        async with guarded_client(strict, resolve=rebinding) as http:
            with pytest.raises(OutboundRefused, match=r"rebind\.invalid \(127\.0\.0\.1\)"):
                await http.post(target)
            with pytest.raises(OutboundRefused, match=r"10\.0\.0\.1"):
                await http.post(f"http://mixed.invalid:{port}/hook")
        local = OutboundPolicy(LOOPBACK_ALLOW)
        async with guarded_client(local, resolve=rebinding) as http:
            heard = await http.post(target)
    assert hosts == [f"rebind.invalid:{port}"], "only the allowed request arrived, by its name"
    assert heard.text == "heard"


async def test_an_ended_tasks_webhook_credentials_are_stored_sealed(stack: DevStack) -> None:
    secret = f"credential-{uuid.uuid4().hex}"
    encrypted: dict[str, Any] = {"payload_encryption_key_id": "K1"}
    async with (
        running(stack, [Approver()], {"PAYLOAD_KEY_K1": KEY}, **encrypted) as client,
        tenant_gateway(client) as base,
        httpx.AsyncClient(timeout=60) as http,
    ):
        url = f"{base}/agents/approver"
        sent = await rpc(http, url, "SendMessage", send_params(data={"text": "x"}), "ann")
        task_id = sent["result"]["task"]["id"]
        await client.get_task(task_id).cancel()
        await client.get_task(task_id).result()
        config = {
            "taskId": task_id,
            "id": "late",
            "url": "https://hooks.example.com/late",
            "authentication": {"scheme": "Bearer", "credentials": secret},
        }
        added = await rpc(http, url, "CreateTaskPushNotificationConfig", config, "ann")
        listed = await rpc(http, url, "ListTaskPushNotificationConfigs", {"taskId": task_id}, "ann")
    stored = b"".join(
        stack.minio().get_object(stack.bucket, o.object_name or "").read()
        for o in stack.minio().list_objects(stack.bucket, recursive=True)
        if task_id in (o.object_name or "")
    )
    assert "error" not in added, added
    assert [c["id"] for c in listed["result"]["configs"]] == ["late"]
    assert stored, "the ended task's webhooks are in the bucket"
    assert secret.encode() not in stored and b"hooks.example.com" not in stored
