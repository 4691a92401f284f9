"""Remote A2A agents, written with the official a2a-sdk, as `ctx.call` targets."""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from pathlib import Path

from a2a_temporal import InMemoryA2AClient, TaskHandle
from a2a_temporal._process import ManagedProcess
from a2a_temporal.protocol.remote import HttpA2AClient
from a2a_temporal.testing import DevStack
from a2a_temporal.trust.outbound import LOOPBACK_ALLOW, OutboundPolicy
from tests.a2a_peer import PeerServer
from tests.cli_helpers import cli
from tests.remote_agents import Relay
from tests.temporal_helpers import running


async def _until(handle: TaskHandle, kind: str, prefix: str = "") -> dict[str, object]:
    async for event in handle.events():
        if event.kind == kind and str(event.payload.get("message", "")).startswith(prefix):
            return event.payload
    raise AssertionError(f"no {kind} event")


async def test_in_process_a_url_target_calls_the_remote_agent() -> None:
    local = OutboundPolicy(LOOPBACK_ALLOW)
    async with PeerServer().serving() as peer:
        client = InMemoryA2AClient([Relay()], remote=HttpA2AClient(outbound=local))
        result = await client.call("relay", "ask_remote", args={"url": peer.url("streamer")})
        default = InMemoryA2AClient([Relay()], remote=HttpA2AClient())
        refused = await default.call("relay", "ask_remote", args={"url": peer.url("streamer")})
    assert result.output == {"status": "completed", "output": "remote text streamed", "error": None}
    assert refused.output["status"] == "rejected"
    assert "127.0.0.1 is a loopback address" in refused.output["error"]
    assert sum(peer.messages.values()) == 1, "the refused client sent nothing"


async def test_in_process_a_url_target_without_a_remote_client_is_rejected_saying_how() -> None:
    result = await InMemoryA2AClient([Relay()]).call(
        "relay", "ask_remote", args={"url": "http://agent.invalid/a2a"}
    )
    assert result.output["status"] == "rejected"
    assert "remote=HttpA2AClient()" in result.output["error"]


async def test_on_temporal_a_remote_call_streams_asks_and_cancels(stack: DevStack) -> None:
    async with PeerServer().serving() as peer, running(stack, [Relay()]) as client:
        streamed = await client.start("relay", "ask_remote", args={"url": peer.url("streamer")})
        result = await streamed.result()
        call = client.get_task(f"{streamed.task_id}/call-0")
        events = [e async for e in call.events()]
        assert result.output == {
            "status": "completed",
            "output": "remote text streamed",
            "error": None,
        }
        text = "".join(e.payload["text"] for e in events if e.kind == "text_delta")
        assert text == "remote text streamed"
        assert sum(n for (kind, _), n in peer.messages.items() if kind == "streamer") == 1

        asking = await client.start("relay", "ask_remote", args={"url": peer.url("asker")})
        question = await _until(asking, "question")
        assert (question["prompt"], question["task_id"]) == (
            "which colour?",
            f"{asking.task_id}/call-0",
        )
        await client.get_task(str(question["task_id"])).answer(str(question["id"]), "blue")
        answered = await asking.result()
        assert answered.output == {"status": "completed", "output": "you said blue", "error": None}

        gated = await client.start("relay", "ask_remote", args={"url": peer.url("gate")})
        await peer.started.wait()
        await _until(client.get_task(f"{gated.task_id}/call-0"), "progress", "remote task")
        await gated.cancel()
        canceled = await gated.result()
    assert canceled.status == "canceled"
    assert len(peer.cancelled) == 1, "cancelling the task cancelled the remote task"


async def test_a_worker_killed_mid_call_follows_the_same_remote_task(
    stack: DevStack, tmp_path: Path
) -> None:
    queue = f"remote-{uuid.uuid4().hex[:8]}"
    workers = [
        ManagedProcess(
            "worker",
            stack.worker_process(
                "tests.remote_agents:RELAYS",
                tmp_path / f"w{n}.log",
                task_queue=queue,
                heartbeat_timeout="PT2S",
            ).argv,
            tmp_path / f"w{n}.log",
            env=stack.environment(task_queue=queue, heartbeat_timeout="PT2S"),
        )
        for n in (1, 2)
    ]
    async with PeerServer().serving() as peer:
        try:
            workers[0].start()
            await stack.wait_for_agents(["relay"], queue)
            client = await stack.client(task_queue=queue)
            handle = await client.start("relay", "ask_remote", args={"url": peer.url("gate")})
            await peer.started.wait()
            await _until(client.get_task(f"{handle.task_id}/call-0"), "progress", "remote task")
            assert workers[0].process is not None
            workers[0].process.kill()
            workers[0].process.wait()
            workers[1].start()
            await asyncio.sleep(0)
            peer.gate.set()
            result = await handle.result(timeout=90)
        finally:
            for worker in workers:
                await worker.stop()
    assert result.output == {"status": "completed", "output": "gate opened", "error": None}
    assert sum(peer.messages.values()) == 1, "the remote agent saw the message once"


async def test_remote_agents_registered_by_url_are_called_by_name(stack: DevStack) -> None:
    name = f"peer-{uuid.uuid4().hex[:6]}"
    env = {**os.environ, **stack.environment()}
    async with PeerServer().serving() as peer, running(stack, [Relay()]) as client:
        code, out, err = await cli(env, "agents", "register", peer.url("streamer"), "--name", name)
        assert (code, out.strip()) == (0, f"registered {name} -> {peer.url('streamer')}"), err
        code, out, _ = await cli(env, "agents", "--tag", "streamer", "--json")
        listed = {card["name"]: card for card in json.loads(out)}
        assert listed[name]["skills"][0]["name"] == "streamer"
        result = await client.call("relay", "ask_remote", args={"url": name})
        code, out, _ = await cli(env, "agents", "forget", name)
        assert (code, out.strip()) == (0, f"forgot {name} (1 entries)")
        code, _, err = await cli(env, "agents", "forget", name)
        assert (code, err.strip()) == (2, f"a2a-temporal: error: no agent {name!r} is registered")
    assert result.output == {"status": "completed", "output": "remote text streamed", "error": None}
