"""SIGKILL a worker mid-skill; a new worker resumes without re-running finished calls."""

import asyncio
import uuid
from pathlib import Path

from a2a_temporal import Pipeline
from a2a_temporal._process import ManagedProcess
from a2a_temporal.testing import DevStack

REPO = Path(__file__).resolve().parent.parent


def _worker(stack: DevStack, queue: str, log: Path) -> ManagedProcess:
    return stack.worker_process(
        "tests.agents:CRASH_AGENTS", log, task_queue=queue, heartbeat_timeout="PT2S"
    )


async def _kill_when_parked(first: ManagedProcess, second: ManagedProcess, work: Path) -> None:
    """SIGKILL the first worker once the skill parked, then start the second."""
    await _wait_for(work / "parked", first)
    assert first.process is not None
    first.process.kill()
    first.process.wait()
    (work / "killed").write_text("yes")
    second.start()


async def _wait_for(path: Path, process: ManagedProcess, limit: float = 60.0) -> None:
    async with asyncio.timeout(limit):
        while not path.exists():
            process.check_alive()
            await asyncio.sleep(0.05)


async def test_sigkill_mid_skill_resumes_without_rerunning_calls(
    stack: DevStack, tmp_path: Path
) -> None:
    queue = f"crash-{uuid.uuid4().hex[:8]}"
    first = _worker(stack, queue, tmp_path / "worker1.log")
    second = _worker(stack, queue, tmp_path / "worker2.log")
    try:
        first.start()
        await stack.wait_for_agents(["crasher"], queue)
        client = await stack.client(task_queue=queue)
        handle = await client.start("crasher", "three_calls", args={"path": str(tmp_path)})
        await _kill_when_parked(first, second, tmp_path)
        result = await handle.result(timeout=120)
        events = [e async for e in handle.events()]
    finally:
        await first.stop()
        await second.stop()
    assert result.status == "completed", result.error
    hits = (tmp_path / "hits.log").read_text().split()
    assert sorted(hits) == [f"{handle.task_id}/call-{n}" for n in range(3)]
    assert result.output == [f"{handle.task_id}/call-{n}" for n in range(3)]
    progress = [e.payload["message"] for e in events if e.kind == "progress"]
    assert progress == ["called 1", "called 2", "called 3"], "each event once, in order"
    assert [e.payload for e in events if e.kind == "retry"] == [
        {"attempt": 2, "reason": "worker lost: no heartbeat for 2s"}
    ]


async def test_sigkill_mid_pipeline_resumes_without_rerunning_steps(
    stack: DevStack, tmp_path: Path
) -> None:
    queue = f"crash-pipe-{uuid.uuid4().hex[:8]}"
    args = {"path": str(tmp_path)}
    pipeline = Pipeline.parse(
        {
            "name": "crash",
            "steps": [
                {"id": "first", "agent": "crasher", "skill": "hit", "args": args},
                {
                    "id": "park",
                    "agent": "crasher",
                    "skill": "park",
                    "args": args,
                    "depends_on": ["first"],
                },
                {
                    "id": "last",
                    "agent": "crasher",
                    "skill": "hit",
                    "args": args,
                    "depends_on": ["park"],
                },
            ],
        }
    )
    first = _worker(stack, queue, tmp_path / "worker1.log")
    second = _worker(stack, queue, tmp_path / "worker2.log")
    try:
        first.start()
        await stack.wait_for_agents(["crasher"], queue)
        client = await stack.client(task_queue=queue)
        handle = await client.start_pipeline(pipeline)
        await _kill_when_parked(first, second, tmp_path)
        state = await asyncio.wait_for(handle.result(), 120)
    finally:
        await first.stop()
        await second.stop()
    assert state.status == "completed", state.error
    hits = (tmp_path / "hits.log").read_text().split()
    assert hits == [f"{handle.pipeline_id}/first", f"{handle.pipeline_id}/last"]
    assert state.steps["park"].output == "resumed"
