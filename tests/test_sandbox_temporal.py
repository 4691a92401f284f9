"""The sandbox through Temporal: the same results as in-process, cancel and crash clean-up."""

from __future__ import annotations

import asyncio
import io
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from a2a_temporal import (
    AgentEvent,
    CallResult,
    InMemoryA2AClient,
    InMemoryWorkspace,
    ProcessSandbox,
)
from a2a_temporal.testing import DevStack
from tests.sandbox_agents import SANDBOX_AGENTS
from tests.sandbox_helpers import (
    processes_in,
    sandbox_root,
    wait_for_processes_in,
    wait_until_empty,
)
from tests.temporal_helpers import running

SNIPPET = """
import os, sys
name = sys.stdin.read()
print("hello", name)
print("to stderr", file=sys.stderr)
os.makedirs("out/charts", exist_ok=True)
open("out/data.csv", "w").write("x,y\\n1,2\\n")
open("out/charts/plot.svg", "w").write("<svg/>")
"""
SLEEPER = "import time\nprint('sleeping', flush=True)\ntime.sleep(600)\n"


@pytest.fixture
def root() -> Iterator[Path]:
    with sandbox_root() as path:
        yield path
        assert list(path.iterdir()) == [], "a box or its record was left behind"


def _seen(result: CallResult, events: list[AgentEvent]) -> tuple[Any, ...]:
    def plain(event: AgentEvent) -> tuple[str, dict[str, Any]]:
        payload = dict(event.payload)
        payload.pop("uri", None)
        return event.kind, payload

    # stdout and stderr come through two pipes: their events may interleave either way
    ordered = sorted((plain(e) for e in events), key=repr)
    return result.status, result.output, result.error, ordered


async def test_a_snippet_runs_the_same_in_process_and_on_temporal(
    stack: DevStack, root: Path
) -> None:
    args = {"code": SNIPPET, "stdin": "world"}
    local_client = InMemoryA2AClient(SANDBOX_AGENTS, sandbox=ProcessSandbox(root=root))
    local = await local_client.call("code-runner", "run_python", args=args)
    local_seen = _seen(local, local_client.events(local.task_id))
    local_files = local_client.contexts[local.task_id].artifacts
    async with running(stack, SANDBOX_AGENTS, sandbox_dir=str(root)) as client:
        handle = await client.start("code-runner", "run_python", args=args)
        events = [e async for e in handle.events()]
        remote = await handle.result()
        stored = {ref.name: await handle.read_artifact(ref.name) for ref in remote.artifacts}
    assert _seen(remote, events) == local_seen
    assert remote.output == {
        "exit_code": 0,
        "stdout": "hello world\n",
        "stderr": "to stderr\n",
        "timed_out": False,
        "truncated": False,
        "files": ["charts/plot.svg", "data.csv"],
    }
    assert stored == local_files == {"charts/plot.svg": b"<svg/>", "data.csv": b"x,y\n1,2\n"}
    assert local_seen[3] == [
        ("artifact", {"name": "charts/plot.svg", "mime_type": "image/svg+xml", "size_bytes": 6}),
        ("artifact", {"name": "data.csv", "mime_type": "text/csv", "size_bytes": 8}),
        ("progress", {"message": "running the snippet", "fraction": None}),
        ("progress", {"message": "to stderr", "fraction": None}),
        ("text_delta", {"text": "hello world\n"}),
    ]


async def test_a_worker_without_a_sandbox_says_how_to_enable_one(stack: DevStack) -> None:
    local = await InMemoryA2AClient(SANDBOX_AGENTS).call(
        "code-runner", "run_python", args={"code": "print(1)"}
    )
    async with running(stack, SANDBOX_AGENTS, sandbox="none") as client:
        remote = await client.call("code-runner", "run_python", args={"code": "print(1)"})
    assert local.status == remote.status == "failed"
    assert local.error is not None and remote.error is not None
    assert "SandboxUnavailable" in local.error and "LocalRunContext(sandbox=" in local.error
    assert "SandboxUnavailable" in remote.error
    assert "A2A_TEMPORAL_SANDBOX=process" in remote.error


async def test_a_snippet_past_its_timeout_is_reported_not_hung(stack: DevStack, root: Path) -> None:
    async with running(stack, SANDBOX_AGENTS, sandbox_dir=str(root)) as client:
        result = await client.call(
            "code-runner", "run_python", args={"code": SLEEPER, "timeout_s": 1}
        )
    assert result.status == "completed"
    assert (result.output["timed_out"], result.output["stdout"]) == (True, "sleeping\n")


async def test_a_read_write_workspace_round_trips_the_same_on_both_runtimes(
    stack: DevStack, root: Path
) -> None:
    command = "echo changed > workspace/a.txt && echo new > workspace/b.txt"
    workspace = InMemoryWorkspace({"a.txt": b"original"})
    local_client = InMemoryA2AClient(
        SANDBOX_AGENTS, sandbox=ProcessSandbox(root=root), workspace=workspace
    )
    local = await local_client.call("workspace-editor", "edit", args={"command": command})
    minio = stack.minio()
    task_id = f"workspace-editor.edit/{uuid.uuid4()}"
    key = f"task-workspaces/{task_id}/a.txt"  # a NoAuth run's workspace is its task's own
    await asyncio.to_thread(minio.put_object, stack.bucket, key, io.BytesIO(b"original"), 8)
    async with running(stack, SANDBOX_AGENTS, sandbox_dir=str(root)) as client:
        handle = await client.start(
            "workspace-editor", "edit", args={"command": command}, task_id=task_id
        )
        remote = await handle.result()
    stored = await asyncio.to_thread(minio.get_object, stack.bucket, key)
    assert (local.status, local.output) == (remote.status, remote.output)
    assert remote.output == ["a.txt", "b.txt"]
    assert stored.read() == workspace.files["a.txt"] == b"changed\n"


async def test_cancelling_the_task_kills_the_sandboxed_processes(
    stack: DevStack, root: Path
) -> None:
    async with running(stack, SANDBOX_AGENTS, sandbox_dir=str(root)) as client:
        handle = await client.start("code-runner", "run_python", args={"code": SLEEPER})
        await wait_for_processes_in(root)
        await handle.cancel()
        result = await handle.result(timeout=30)
        await wait_until_empty(root)
    assert result.status == "canceled"


async def test_a_killed_workers_sandbox_is_swept_by_the_next_worker(
    stack: DevStack, root: Path, tmp_path: Path
) -> None:
    queue = f"sbx-{uuid.uuid4().hex[:8]}"
    settings: dict[str, Any] = {
        "task_queue": queue,
        "heartbeat_timeout": "PT2S",
        "sandbox_dir": str(root),
    }
    workers = [
        stack.worker_process(
            "tests.sandbox_agents:SANDBOX_AGENTS", tmp_path / f"w{n}.log", **settings
        )
        for n in (1, 2)
    ]
    try:
        workers[0].start()
        await stack.wait_for_agents(["code-runner"], queue)
        client = await stack.client(task_queue=queue)
        handle = await client.start("code-runner", "run_python", args={"code": SLEEPER})
        orphans = set(await wait_for_processes_in(root))
        (first_box,) = [path.stem for path in root.glob("*.json")]
        assert workers[0].process is not None
        workers[0].process.kill()
        workers[0].process.wait()
        async with asyncio.timeout(10):
            while orphans & set(processes_in(root)):
                await asyncio.sleep(0.05)
        assert (root / first_box).is_dir(), "the box stays until a sweeper runs"
        workers[1].start()
        async with asyncio.timeout(60):
            while (root / first_box).exists():
                workers[1].check_alive()
                await asyncio.sleep(0.1)
        retried = set(await wait_for_processes_in(root))
        assert not retried & orphans
        assert not (root / f"{first_box}.json").exists()
        await handle.cancel()
        result = await handle.result(timeout=30)
        await wait_until_empty(root)
    finally:
        for worker in workers:
            await worker.stop()
    assert result.status == "canceled"
