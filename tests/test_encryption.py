"""Payload encryption: history and the bucket hold ciphertext; the codec server opens it."""

from __future__ import annotations

import base64
import json

import httpx
import pytest
from pydantic import BaseModel
from temporalio.api.common.v1 import Payload

from a2a_temporal import A2AAgent, NoAuth, RunContext, skill
from a2a_temporal.testing import DevStack
from a2a_temporal.trust.codec_server import create_codec_app
from a2a_temporal.trust.encryption import AesGcmCodec, generate_key
from tests.gateway_helpers import serving
from tests.temporal_helpers import history, running

MARKER = "zebra-plaintext-marker"
KEY = generate_key()
UI = "http://localhost:8233"


class Text(BaseModel):
    text: str


class Echoer(A2AAgent):
    """Repeats what it is given, in events and in its result, or fails with it."""

    name = "echoer"

    @skill(retries=0)
    async def echo(self, ctx: RunContext[NoAuth], args: Text) -> str:
        """Streams the text, reports it as progress and returns it."""
        await ctx.emit_text_delta(args.text[:100])
        await ctx.emit_progress(f"echoing {args.text[:40]}")
        return args.text

    @skill(retries=0)
    async def fail(self, ctx: RunContext[NoAuth], args: Text) -> str:
        """Fails with the text as the error."""
        raise ValueError(args.text)


async def test_history_and_bucket_hold_no_plaintext_and_the_codec_server_opens_it(
    stack: DevStack,
) -> None:
    big = f"{MARKER} " * 20_000  # ~460 KiB: stored in S3
    encrypted = {"payload_encryption_key_id": "K1"}
    async with running(stack, [Echoer()], {"PAYLOAD_KEY_K1": KEY}, **encrypted) as client:
        small = await client.call("echoer", "echo", args={"text": f"{MARKER} small"})
        large = await client.call("echoer", "echo", args={"text": big})
        failed = await client.call("echoer", "fail", args={"text": f"{MARKER} failure"})
        histories = [await history(client, r.task_id) for r in (small, large, failed)]
    assert (small.status, small.output) == ("completed", f"{MARKER} small")
    assert (large.status, large.output) == ("completed", big)
    assert (failed.status, failed.error) == ("failed", f"ValueError: {MARKER} failure")
    raw = b"".join(event.SerializeToString() for h in histories for event in h.events)
    assert b"binary/encrypted" in raw
    assert MARKER.encode() not in raw, "no args, result, event or error in plain text"
    s3 = stack.minio()
    stored = [
        s3.get_object(stack.bucket, obj.object_name).read()
        for obj in s3.list_objects(stack.bucket, recursive=True)
        if obj.object_name is not None
    ]
    assert any(b"binary/encrypted" in blob for blob in stored), "the big payload went to S3"
    assert not [blob for blob in stored if MARKER.encode() in blob]

    started = histories[0].events[0].workflow_execution_started_event_attributes
    body = {
        "payloads": [
            {
                "metadata": {k: base64.b64encode(v).decode() for k, v in p.metadata.items()},
                "data": base64.b64encode(p.data).decode(),
            }
            for p in started.input.payloads
        ]
    }
    codec = AesGcmCodec({"K1": KEY}, "K1")
    async with (
        serving(create_codec_app(codec, token="t0k", ui_origin=UI)) as url,
        httpx.AsyncClient(base_url=url) as http,
    ):
        decoded = await http.post(
            "/decode", json=body, headers={"Authorization": "Bearer t0k", "Origin": UI}
        )
        refused = await http.post("/decode", json=body, headers={"Authorization": "Bearer no"})
        in_url = await http.get("/login", params={"token": "t0k"})
        form = await http.get("/login")
        wrong_login = await http.post("/login", data={"token": "no"})
        without_cookie = await http.post("/decode", json=body)
        await http.post("/login", data={"token": "t0k"})
        with_cookie = await http.post("/decode", json=body)
        preflight = {"Origin": UI, "Access-Control-Request-Method": "POST"}
        allowed = await http.options("/decode", headers=preflight)
        elsewhere = await http.options(
            "/decode", headers={**preflight, "Origin": "https://evil.example"}
        )
    assert decoded.status_code == 200
    assert decoded.headers["access-control-allow-origin"] == UI
    [opened] = decoded.json()["payloads"]
    assert json.loads(base64.b64decode(opened["data"]))["args"] == {"text": f"{MARKER} small"}
    assert refused.status_code == wrong_login.status_code == without_cookie.status_code == 401
    assert in_url.status_code == 400, "a token in a URL would land in access logs"
    assert 'method="post"' in form.text and 'type="password"' in form.text
    assert with_cookie.json() == decoded.json(), "the browser's cookie works like the token"
    assert allowed.headers.get("access-control-allow-origin") == UI
    assert "access-control-allow-origin" not in elsewhere.headers


async def test_keys_rotate_by_id_and_tampering_is_caught() -> None:
    old, new = generate_key(), generate_key()
    [sealed] = await AesGcmCodec({"K1": old}, "K1").encode([Payload(data=b"x")])
    rotated = AesGcmCodec({"K2": new, "K1": old}, "K2")
    assert [p.data for p in await rotated.decode([sealed])] == [b"x"]
    with pytest.raises(ValueError, match="key 'K1', which is not configured"):
        await AesGcmCodec({"K2": new}, "K2").decode([sealed])
    tampered = Payload(metadata=sealed.metadata, data=sealed.data[:-1] + b"?")
    with pytest.raises(ValueError, match="fails its integrity check"):
        await rotated.decode([tampered])
