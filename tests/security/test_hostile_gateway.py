"""Generated hostile traffic at the gateway: every method, at another tenant's tasks, malformed.

Every combination of 13 methods, 15 task ids (the victim's, ids made to look
like them, junk), 9 body forms (valid, not JSON, wrong types, oversized
fields, deep nesting...) and 3 callers (another tenant, no token, a wrong
token) is sent: 5,265 requests through the real gateway, Temporal and S3.
None may read or change the victim's tasks, none may leak their contents, and
the gateway answers every one with a protocol error, never a crash. The tally
of outcomes is printed with the session summary.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import uuid
from collections import Counter
from typing import Any

import httpx

from a2a_temporal.testing import DevStack
from tests.agents import Approver
from tests.security.gateway_calls import TOKENS, rpc, send_params, tenant_gateway
from tests.security.test_fuzz import TALLY
from tests.temporal_helpers import running

SECRET = f"VICTIM-SECRET-{uuid.uuid4().hex[:8]}"
ANSWER = f"VICTIM-ANSWER-{uuid.uuid4().hex[:8]}"
METHODS = [
    "GetTask",
    "SubscribeToTask",
    "CancelTask",
    "ListTasks",
    "SendMessage",
    "SendStreamingMessage",
    "CreateTaskPushNotificationConfig",
    "GetTaskPushNotificationConfig",
    "ListTaskPushNotificationConfigs",
    "DeleteTaskPushNotificationConfig",
    "GetExtendedAgentCard",
    "tasks/get",
    "NoSuchMethod",
]
FORMS = [
    "valid",
    "not json",
    "json array",
    "params a string",
    "no params",
    "extra fields",
    "oversized field",
    "wrong types",
    "deep nesting",
]
CALLERS = ["bob", "no token", "wrong token"]


def _ids(victims: list[str], own: str) -> list[Any]:
    waiting, done = victims
    return [
        waiting,
        done,
        f"{waiting}/call-0",
        waiting.upper(),
        f" {waiting}",
        f"../{waiting}",
        f"{done}\x00",
        own,
        str(uuid.uuid4()),
        "",
        "x" * 10_000,
        "ταυτότητα/☃",
        None,
        12345,
        {"id": waiting},
    ]


def _params(method: str, task_id: Any) -> dict[str, Any]:
    if method in ("SendMessage", "SendStreamingMessage"):
        params = send_params(text=f"answer {uuid.uuid4()}")
        params["message"]["taskId"] = task_id
        return params
    if method == "ListTasks":
        return {"pageSize": 50, "pageToken": task_id if isinstance(task_id, str) else ""}
    if "PushNotificationConfig" in method:
        return {"taskId": task_id, "id": "hook", "url": "https://hooks.example.com/x"}
    return {"id": task_id}


def _body(method: str, task_id: Any, form: str) -> bytes:
    envelope: Any = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": method,
        "params": _params(method, task_id),
    }
    if form == "not json":
        return b'{"jsonrpc": "2.0", "method": "' + method.encode() + b'", "params": {'
    if form == "json array":
        envelope = [envelope, envelope]
    elif form == "params a string":
        envelope["params"] = json.dumps(envelope["params"])
    elif form == "no params":
        del envelope["params"]
    elif form == "extra fields":
        envelope["params"]["historyLength"] = -7
        envelope["params"]["tenant"] = "ann"
        envelope["admin"] = True
    elif form == "oversized field":
        envelope["params"]["metadata"] = {"note": "x" * 200_000}
    elif form == "wrong types":
        envelope["id"] = {"nested": [1, 2]}
        envelope["params"] = {key: [value] for key, value in envelope["params"].items()}
    elif form == "deep nesting":
        envelope["params"] = "NESTED"
        nested = '{"id": ' * 5_000 + json.dumps(task_id) + "}" * 5_000
        return json.dumps(envelope).replace('"NESTED"', nested).encode()
    return json.dumps(envelope).encode()


def _headers(method: str, caller: str) -> dict[str, str]:
    headers = {"Content-Type": "application/json"}
    if "/" not in method:  # v1.0 method names; a v0.3 client sends no version
        headers["A2A-Version"] = "1.0"
    if caller == "bob":
        headers["Authorization"] = f"Bearer {TOKENS['bob']}"
    elif caller == "wrong token":
        headers["Authorization"] = f"Bearer {TOKENS['ann']}-guess"
    return headers


async def _send(
    http: httpx.AsyncClient, url: str, method: str, body: bytes, caller: str
) -> tuple[int, str]:
    headers = _headers(method, caller)
    async with http.stream("POST", url, content=body, headers=headers) as response:
        text = ""
        async for chunk in response.aiter_text():
            text += chunk
            if response.headers.get("content-type", "").startswith("text/event-stream"):
                break  # a stream's first event is enough: it would follow a live task
        return response.status_code, text


async def test_5265_hostile_requests_read_and_change_nothing_of_another_tenant(
    stack: DevStack,
) -> None:
    async with (
        running(stack, [Approver()]) as client,
        tenant_gateway(
            client,
            gateway_requests_per_second=1e6,
            gateway_request_burst=100_000,
            gateway_max_streams=1_000,
        ) as base,
        httpx.AsyncClient(timeout=60) as http,
    ):
        url = f"{base}/agents/approver"
        waiting = await _started(http, url, "ann", SECRET)
        done = await _started(http, url, "ann", "done")
        answer = send_params(text=ANSWER, task_id=done)
        await rpc(http, url, "SendMessage", answer, "ann")
        await client.get_task(done).result()
        own = await _started(http, url, "bob", "bob's own")
        victims = [waiting, done]
        cases = list(itertools.product(METHODS, _ids(victims, own), FORMS, CALLERS))
        slots = asyncio.Semaphore(16)
        outcomes: Counter[str] = Counter()
        leaks: list[str] = []
        crashes: list[str] = []

        async def attack(method: str, task_id: Any, form: str, caller: str) -> None:
            async with slots:
                status, text = await _send(http, url, method, _body(method, task_id, form), caller)
            case = f"{method} {str(task_id)[:60]!r} {form} {caller}"
            if status >= 500 or '"code":-32603' in text.replace(" ", ""):
                crashes.append(f"{case}: HTTP {status} {text[:200]}")
            if SECRET in text or ANSWER in text or _read_victim(text, victims):
                leaks.append(f"{case}: {text[:300]}")
            outcomes[_outcome(status, text)] += 1

        await asyncio.gather(*(attack(*case) for case in cases))
        waiting_after = await rpc(http, url, "GetTask", {"id": waiting}, "ann")
        hooks = await rpc(http, url, "ListTaskPushNotificationConfigs", {"taskId": waiting}, "ann")
        done_after = await client.get_task(done).result()
        await client.get_task(waiting).cancel()
    for outcome, count in sorted(outcomes.items()):
        TALLY.record("gateway requests", outcome, count)
    assert len(cases) == sum(outcomes.values()) >= 5_000
    assert not crashes, crashes[:5]
    assert not leaks, f"{len(leaks)} cross-tenant reads: {leaks[:3]}"
    assert waiting_after["result"]["status"]["state"] == "TASK_STATE_INPUT_REQUIRED"
    assert SECRET in json.dumps(waiting_after), "the victim's task is as it was"
    assert hooks["result"].get("configs", []) == []
    assert (done_after.status, done_after.output) == ("completed", ANSWER)


async def _started(http: httpx.AsyncClient, url: str, who: str, text: str) -> str:
    params = send_params(data={"text": text}, skill="review")
    task_id = str((await rpc(http, url, "SendMessage", params, who))["result"]["task"]["id"])
    async with asyncio.timeout(30):
        while True:
            got = await rpc(http, url, "GetTask", {"id": task_id}, who)
            if got["result"]["status"]["state"] in (
                "TASK_STATE_INPUT_REQUIRED",
                "TASK_STATE_COMPLETED",
            ):
                return task_id
            await asyncio.sleep(0.1)


def _read_victim(text: str, victims: list[str]) -> bool:
    """Whether a successful reply carries one of the victim's tasks."""
    for line in text.splitlines() or [text]:
        data = line.removeprefix("data:").strip()
        if not data.startswith("{"):
            continue
        try:
            reply = json.loads(data)
        except json.JSONDecodeError:
            continue
        result = reply.get("result") if isinstance(reply, dict) else None
        if result and any(victim in json.dumps(result) for victim in victims):
            return True
    return False


def _outcome(status: int, text: str) -> str:
    if status != 200:
        return f"HTTP {status}"
    data = text.split("data:", 1)[-1].strip() if text.startswith("data:") else text
    try:
        reply = json.loads(data)
    except json.JSONDecodeError:
        return "HTTP 200, not JSON"
    if isinstance(reply, dict) and "error" in reply:
        return f"error {reply['error'].get('code')}"
    return "result (own task or public)"
