import asyncio
import io
import json
import sys
import uuid
from pathlib import Path

import pytest
from temporalio.worker import Worker

from a2a_temporal._process import port_is_open
from a2a_temporal.testing import DevStack
from tests.greet_workflow import GreetWorkflow, greet


def _assert_stopped(stack: DevStack, pids: list[int | None], ports: dict[str, int]) -> None:
    for pid in pids:
        assert pid is not None
        assert (
            not Path(f"/proc/{pid}").exists()
            or "zombie" in Path(f"/proc/{pid}/status").read_text().lower()
        ), f"process {pid} is still running"
    for name, port in ports.items():
        assert not port_is_open(port), f"{name} port {port} is still open"
    assert stack.processes == []


async def test_devstack_serves_temporal_and_s3_then_leaves_nothing(tmp_path: Path) -> None:
    async with DevStack(data_dir=tmp_path) as stack:
        print(f"DevStack up and answering in {stack.startup_seconds:.2f}s")
        pids = [p.pid for p in stack.processes]
        ports = dict(stack.ports)
        client = await stack.connect()
        queue = f"q-{uuid.uuid4()}"
        async with Worker(client, task_queue=queue, workflows=[GreetWorkflow], activities=[greet]):
            result = await client.execute_workflow(
                GreetWorkflow.run, "stack", id=f"greet-{uuid.uuid4()}", task_queue=queue
            )
        assert result == "hello stack"
        s3 = stack.minio()
        data = b"bytes through S3"
        await asyncio.to_thread(
            s3.put_object, stack.bucket, "probe/object.bin", io.BytesIO(data), len(data)
        )
        response = await asyncio.to_thread(s3.get_object, stack.bucket, "probe/object.bin")
        try:
            assert response.read() == data
        finally:
            response.close()
            response.release_conn()
        assert stack.ui_url
        assert port_is_open(stack.ports["ui"])
        assert (tmp_path / "temporal.db").exists()
    _assert_stopped(stack, pids, ports)
    assert (tmp_path / "temporal.db").exists(), "a given data dir is kept"


async def test_devstack_stops_everything_when_the_body_raises() -> None:
    stack = DevStack(ui=False)
    with pytest.raises(RuntimeError, match="body failed"):
        async with stack:
            pids = [p.pid for p in stack.processes]
            ports = dict(stack.ports)
            data_dir = stack.data_dir
            raise RuntimeError("body failed")
    _assert_stopped(stack, pids, ports)
    assert not data_dir.exists(), "a temporary data dir is removed"


async def test_devstack_reports_a_server_that_cannot_start(tmp_path: Path) -> None:
    (tmp_path / "temporal.db").mkdir()  # the SQLite file cannot be created
    stack = DevStack(data_dir=tmp_path, ui=False)
    with pytest.raises(RuntimeError, match="temporal dev server exited with code"):
        async with stack:
            pytest.fail("the stack must not start")
    assert stack.processes == []


async def test_servers_die_with_a_killed_parent(tmp_path: Path) -> None:
    script = (
        "import asyncio, json\n"
        "from a2a_temporal.testing import DevStack\n"
        "async def main():\n"
        "    async with DevStack(ui=False) as stack:\n"
        "        print(json.dumps([p.pid for p in stack.processes]), flush=True)\n"
        "        await asyncio.Event().wait()\n"
        "asyncio.run(main())\n"
    )
    parent = await asyncio.create_subprocess_exec(
        sys.executable, "-c", script, stdout=asyncio.subprocess.PIPE
    )
    assert parent.stdout is not None
    line = await asyncio.wait_for(parent.stdout.readline(), 60)
    pids = json.loads(line)
    parent.kill()
    await parent.wait()
    async with asyncio.timeout(15):
        while any(Path(f"/proc/{pid}").exists() for pid in pids):
            await asyncio.sleep(0.05)


async def test_devstack_moves_s3_to_another_port_when_its_port_was_taken(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import socket

    from a2a_temporal._process import free_port

    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    chosen = iter([port])  # the S3 port is the fifth one chosen: hand it the taken port
    calls = 0

    def racing_free_port() -> int:
        nonlocal calls
        calls += 1
        return next(chosen) if calls == 5 else free_port()

    monkeypatch.setattr("a2a_temporal.testing.free_port", racing_free_port)
    try:
        async with DevStack(ui=False) as stack:
            assert stack.ports["s3"] != port
            assert await asyncio.to_thread(stack.minio().bucket_exists, stack.bucket)
    finally:
        taken.close()
