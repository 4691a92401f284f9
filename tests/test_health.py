"""Liveness, readiness and draining of workers and the gateway, as Kubernetes probes see them."""

from __future__ import annotations

import asyncio
import signal
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from a2a_temporal._process import free_port
from a2a_temporal.temporal.readiness import Readiness
from a2a_temporal.testing import DevStack
from a2a_temporal.worker.run import run_worker
from tests.agents import Slow
from tests.gateway_helpers import IDENTITY, TOKEN
from tests.tcp_proxy import FlakyProxy


async def test_a_worker_is_ready_then_drains_on_sigterm_letting_its_skill_finish(
    stack: DevStack, tmp_path: Path
) -> None:
    queue = f"drain-{uuid.uuid4().hex[:8]}"
    port = free_port()
    worker = stack.worker_process(
        "tests.agents:Slow",
        tmp_path / "worker.log",
        task_queue=queue,
        health_port=port,
        worker_shutdown_grace="PT20S",
    )
    # A rolling update: the pod that stays serves the workflow tasks of the one draining.
    staying = stack.worker([Slow()], task_queue=queue)
    try:
        worker.start()
        await stack.wait_for_agents(["slow"], queue)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            assert (await http.get("/livez")).status_code == 200
            ready = await http.get("/readyz")
            assert (ready.status_code, ready.text.strip()) == (200, "ready")
            client = await stack.client(task_queue=queue)
            handle = await client.start("slow", "sleep", args={"seconds": 2.0})
            while (await handle.state()).attempts == 0:
                await asyncio.sleep(0.05)
            await staying.__aenter__()
            assert worker.process is not None
            worker.process.send_signal(signal.SIGTERM)
            draining = await http.get("/readyz")
            while draining.status_code == 200:
                draining = await http.get("/readyz")
            assert draining.status_code == 503 and "draining" in draining.text
            assert (await http.get("/livez")).status_code == 200, "alive while it drains"
            result = await handle.result(timeout=30)
        code = await asyncio.to_thread(worker.process.wait, 30)
        history = await client.temporal.get_workflow_handle(handle.task_id).fetch_history()
    finally:
        await worker.stop()
        await staying.__aexit__(None, None, None)
    assert (result.status, result.output) == ("completed", "woke")
    attempts = [e for e in history.events if e.HasField("activity_task_started_event_attributes")]
    assert len(attempts) == 1, "the skill finished on the draining worker, not a retry"
    assert code == 0, worker.log_tail()


async def test_a_worker_whose_s3_goes_down_is_not_ready_and_says_why(stack: DevStack) -> None:
    s3 = FlakyProxy(int(urlsplit(stack.s3_endpoint).port or 0))
    await s3.up()
    port = free_port()
    settings = stack.settings(
        task_queue=f"unready-{uuid.uuid4().hex[:8]}",
        health_port=port,
        s3_endpoint=f"http://127.0.0.1:{s3.port}",
    )
    stop = asyncio.Event()
    running = asyncio.create_task(run_worker([Slow()], settings, stop))
    try:
        await stack.wait_for_agents(["slow"], settings.task_queue)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            assert (await http.get("/readyz")).status_code == 200
            await s3.down()
            ready = await http.get("/readyz")
            assert ready.status_code == 503
            assert f"cannot reach S3 at http://127.0.0.1:{s3.port}" in ready.text
            assert (await http.get("/livez")).status_code == 200
            assert (await http.get("/nope")).status_code == 404
            assert (await http.post("/readyz")).status_code == 405
            await s3.up()
    finally:
        stop.set()
        await running
        await s3.down()


async def test_the_gateway_probes_need_no_token_and_sigterm_ends_open_streams(
    stack: DevStack, tmp_path: Path
) -> None:
    queue = f"gw-{uuid.uuid4().hex[:8]}"
    port = free_port()
    tokens = {TOKEN: IDENTITY}
    gateway = stack.gateway_process(
        port,
        tmp_path / "gateway.log",
        task_queue=queue,
        gateway_tokens=tokens,
        gateway_shutdown_grace="PT1S",
    )
    async with stack.worker([Slow()], task_queue=queue):
        try:
            gateway.start()
            await gateway.wait_until_listening(port)
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
                assert (await http.get("/livez")).status_code == 200
                assert (await http.get("/readyz")).text.strip() == "ready"
                stream = {
                    "jsonrpc": "2.0",
                    "id": 1,
                    "method": "SendStreamingMessage",
                    "params": {
                        "message": {
                            "role": "ROLE_USER",
                            "messageId": str(uuid.uuid4()),
                            "parts": [{"data": {"seconds": 30}}],
                            "metadata": {"skill": "sleep"},
                        }
                    },
                }
                headers = {"Authorization": f"Bearer {TOKEN}", "A2A-Version": "1.0"}
                async with http.stream(
                    "POST", "/agents/slow", json=stream, headers=headers, timeout=30
                ) as response:
                    lines = response.aiter_lines()
                    first = await anext(lines)
                    assert first.startswith("data:"), first
                    assert gateway.process is not None
                    gateway.process.send_signal(signal.SIGTERM)
                    async with asyncio.timeout(15):
                        rest = [line async for line in lines]
            code = await asyncio.to_thread(gateway.process.wait, 15)
        finally:
            await gateway.stop()
    assert "TASK_STATE_COMPLETED" not in "".join(rest), "the stream ended before the task did"
    assert code == 0, gateway.log_tail()


async def test_probes_share_one_check_and_the_gateways_reuse_it_for_a_while() -> None:
    checks = 0

    async def check() -> list[str]:
        nonlocal checks
        checks += 1
        await asyncio.sleep(0.05)
        return [f"check {checks}"]

    shared = Readiness(check, ttl=0.0)
    answers = await asyncio.gather(*(shared.reasons() for _ in range(10)))
    assert checks == 1 and answers == [["check 1"]] * 10, "concurrent probes, one check"
    assert await shared.reasons() == ["check 2"], "a later probe checks again"
    reused = Readiness(check, ttl=60.0)
    assert [await reused.reasons() for _ in range(3)] == [["check 3"]] * 3
