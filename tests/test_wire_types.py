"""Every JSON type survives the A2A wire, whose structs know only doubles.

Through the real gateway over JSON-RPC and HTTP+JSON (and its SSE stream):
integers stay integers in task results and agent cards, floats stay floats,
and strings, booleans, null, lists and objects come back as sent. The
restoring function is also checked on its own against JSON Schemas.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest
from a2a.types import a2a_pb2 as pb
from pydantic import BaseModel, Field

from a2a_temporal import A2AAgent, MessageReply, NoAuth, RunContext, skill
from a2a_temporal.protocol.convert import TaskFold
from a2a_temporal.protocol.numbers import restore_numbers
from a2a_temporal.temporal.models import EventRecord
from a2a_temporal.testing import DevStack
from tests.gateway_helpers import TOKEN, gateway
from tests.temporal_helpers import running

VALUES: dict[str, Any] = {
    "count": 3,
    "ratio": 2.5,
    "whole_ratio": 2.0,
    "name": "x",
    "flag": True,
    "nothing": None,
    "mixed": [1, 2.5, "three", False, None, {"deep": [7, {"deeper": 8}]}],
    "nested": {"n": 42, "big": 2**40, "neg": -5},
}


class Everything(BaseModel):
    count: int
    ratio: float
    whole_ratio: float
    name: str
    flag: bool
    nothing: None
    mixed: list[Any]
    nested: dict[str, int]
    size: int = Field(default=8, ge=1)


class Echo(A2AAgent):
    """Returns its args, each as typed."""

    name = "echo"

    @skill()
    async def echo(self, ctx: RunContext[NoAuth], args: Everything) -> dict[str, Any]:
        """Return the args, noting which came in as ints."""
        kinds = {key: type(value).__name__ for key, value in args.model_dump().items()}
        return {"echo": args.model_dump(), "kinds": kinds}

    @skill()
    async def reply(self, ctx: RunContext[NoAuth], args: Everything) -> MessageReply:
        """Answer with a message rather than a task's result."""
        return MessageReply(text=f"{args.count} things", data={"count": args.count})


def _send(method: str, data: Any, skill: str = "echo") -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "id": str(uuid.uuid4()),
        "method": method,
        "params": {
            "message": {
                "messageId": str(uuid.uuid4()),
                "role": "ROLE_USER",
                "parts": [{"data": data, "mediaType": "application/json"}],
                "metadata": {"skill": skill},
            }
        },
    }


def _result_data(task: dict[str, Any]) -> Any:
    assert "artifacts" in task, task
    [result] = [a for a in task["artifacts"] if a["name"] == "result"]
    return result["parts"][0]["data"]


async def test_every_json_type_round_trips_through_the_gateway(stack: DevStack) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}", "A2A-Version": "1.0"}
    async with (
        running(stack, [Echo()]) as client,
        gateway(client) as base,
        httpx.AsyncClient(timeout=60, headers=headers) as http,
    ):
        url = f"{base}/agents/echo"
        card = (await http.get(f"{url}/.well-known/agent-card.json")).json()
        sent = (await http.post(url, json=_send("SendMessage", VALUES))).json()
        rest = await http.post(f"{url}/message:send", json=_send("", VALUES)["params"])
        replied = (await http.post(url, json=_send("SendMessage", VALUES, "reply"))).json()
        called = await client.call("echo", "reply", args=VALUES)
        streamed: list[dict[str, Any]] = []
        async with http.stream("POST", url, json=_send("SendStreamingMessage", VALUES)) as reply:
            async for line in reply.aiter_lines():
                if line.startswith("data:"):
                    streamed.append(json.loads(line.removeprefix("data:")))
    echoed = _result_data(sent["result"]["task"])
    assert echoed["echo"] == {**VALUES, "size": 8}
    assert echoed["kinds"]["count"] == "int" and echoed["kinds"]["whole_ratio"] == "float"
    expected = json.dumps({**VALUES, "whole_ratio": 2, "size": 8}, sort_keys=True)
    assert json.dumps(echoed["echo"], sort_keys=True) == expected, (
        "in the JSON, integral numbers are integers (a float schema restores them on arrival)"
    )
    assert _result_data(rest.json()["task"])["echo"] == {**VALUES, "size": 8}
    [streamed_result] = [
        e["result"]["artifactUpdate"]["artifact"]["parts"][0]["data"]
        for e in streamed
        if e.get("result", {}).get("artifactUpdate", {}).get("artifact", {}).get("name") == "result"
    ]
    assert json.dumps(streamed_result["echo"], sort_keys=True) == expected, "SSE events too"
    message = replied["result"]["message"]
    assert message["role"] == "ROLE_AGENT" and "task" not in replied["result"]
    assert message["parts"][0]["text"] == "3 things"
    assert message["parts"][1]["data"] == {"count": 3}
    assert called.output == {"kind": "a2a-message", "text": "3 things", "data": {"count": 3}}
    schemas = next(e for e in card["capabilities"]["extensions"] if "skills" in e["params"])
    size = schemas["params"]["skills"]["echo"]["input"]["properties"]["size"]
    assert size["default"] == 8 and isinstance(size["default"], int)
    assert isinstance(size["minimum"], int)


def test_restoring_follows_the_schema() -> None:
    schema = Everything.model_json_schema()
    restored = restore_numbers(
        {"count": 3.0, "ratio": 2.0, "mixed": [1.0, 2.5], "nested": {"n": 4.0}}, schema
    )
    assert restored == {"count": 3, "ratio": 2.0, "mixed": [1, 2.5], "nested": {"n": 4}}
    assert type(restored["count"]) is int and type(restored["ratio"]) is float
    assert type(restored["mixed"][0]) is int and type(restored["nested"]["n"]) is int
    referenced = {
        "$defs": {"Point": {"type": "object", "properties": {"x": {"type": "number"}}}},
        "type": "object",
        "properties": {"at": {"$ref": "#/$defs/Point"}, "n": {"anyOf": [{"type": "integer"},
                       {"type": "null"}]}},
    }  # fmt: skip
    both = restore_numbers({"at": {"x": 1.0}, "n": 5.0}, referenced)
    assert type(both["at"]["x"]) is float and type(both["n"]) is int
    assert restore_numbers(float("inf")) == float("inf")
    assert restore_numbers([[[1.0]]]) == [[[1]]]


@pytest.mark.parametrize(
    "sent",
    [None, "not a message", 5, {"parts": "x"}, {"messageId": 7}, {"role": "ROLE_AGENT"}],
)
def test_an_answer_event_with_a_forged_message_still_folds_to_a_user_message(sent: Any) -> None:
    fold = TaskFold("t-1", "c-1")
    payload = {"question_id": "q-0", "value": {"ok": True}, "message": sent}
    fold.apply(0, EventRecord(kind="answer", payload=payload))
    [answer] = fold.history
    assert answer.role == pb.Role.ROLE_USER
    assert (answer.task_id, answer.context_id) == ("t-1", "c-1")
    assert answer.message_id and answer.parts, "an id and the value stand in for what is missing"
