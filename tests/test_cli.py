"""The `a2a-temporal` CLI against the dev stack, run as a real process."""

import asyncio
import json
import os
import sys
import uuid
from pathlib import Path

import pytest

from a2a_temporal import Pipeline
from a2a_temporal.testing import DevStack
from tests.agents import Analyst, Mathy, Slow, Splitter, Writer
from tests.temporal_helpers import running, wait_started


async def cli(env: dict[str, str], *argv: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "a2a_temporal.cli",
        *argv,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


@pytest.fixture
def queue() -> str:
    return f"cli-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def env(stack: DevStack, queue: str) -> dict[str, str]:
    return {**os.environ, **stack.environment(task_queue=queue)}


async def test_run_follow_result_events_artifacts(
    stack: DevStack, queue: str, env: dict[str, str], tmp_path: Path
) -> None:
    async with running(stack, [Splitter(), Analyst()], task_queue=queue):
        code, out, err = await cli(
            env, "run", "splitter", "split", "--args", '{"text": "a b"}', "--follow"
        )
        assert code == 0, err
        task_id = err.strip().removeprefix("task ")
        assert out.startswith('[progress] {"message": "splitting", "fraction": 0.5}\n')
        result = json.loads(out.split("\n", 1)[1])
        assert result["status"] == "completed"
        assert result["output"] == {"words": ["a", "b"], "count": 2}

        code, out, _ = await cli(env, "result", task_id)
        assert (code, json.loads(out)["task_id"]) == (0, task_id)
        code, out, _ = await cli(env, "events", task_id)
        assert (code, out) == (0, '[progress] {"message": "splitting", "fraction": 0.5}\n')

        code, out, err = await cli(env, "run", "analyst", "report", "--args", '{"text": "x"}')
        report_id = err.strip().removeprefix("task ")
        code, out, _ = await cli(env, "artifacts", report_id)
        assert code == 0
        name, size, mime, uri = out.strip().split("\t")
        assert (name, size, mime) == ("report.txt", "10", "text/plain")
        assert uri.endswith(f"/tasks/{report_id}/artifacts/report.txt")
        target = tmp_path / "report.txt"
        code, _, err = await cli(
            env, "artifacts", report_id, "--get", "report.txt", "-o", str(target)
        )
        assert code == 0, err
        assert target.read_bytes() == b"1 words: X"


async def test_text_deltas_print_as_running_text_between_event_lines(
    stack: DevStack, queue: str, env: dict[str, str]
) -> None:
    progress = '[progress] {{"message": "{} of 150", "fraction": null}}\n'
    expected = progress.format(0) + "ab" * 100 + "\n" + progress.format(100) + "ab" * 50 + "\n"
    async with running(stack, [Writer()], task_queue=queue):
        code, out, err = await cli(
            env, "run", "writer", "stream", "--args", '{"deltas": 150, "word": "ab"}', "--follow"
        )
        assert code == 0, err
        assert out.startswith(expected)
        assert json.loads(out.removeprefix(expected))["output"] == 150
        code, out, _ = await cli(env, "events", err.strip().removeprefix("task "))
    assert (code, out) == (0, expected)


async def test_cancel_from_the_cli(stack: DevStack, queue: str, env: dict[str, str]) -> None:
    async with running(stack, [Slow()], task_queue=queue) as client:
        handle = await client.start("slow", "sleep", args={"seconds": 60})
        await wait_started(client, handle.task_id)
        code, out, _ = await cli(env, "cancel", handle.task_id)
        assert (code, out.strip()) == (0, f"cancel requested for {handle.task_id}")
        assert (await handle.result()).status == "canceled"
        code, out, _ = await cli(env, "result", handle.task_id)
        assert code == 1
        assert json.loads(out)["status"] == "canceled"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("--address", "127.0.0.1:1", "result", "x"), "cannot reach Temporal at 127.0.0.1:1"),
        (("result", "no-such-task"), "no task 'no-such-task'"),
        (("run", "a", "b", "--args", "{bad"), "--args is not valid JSON"),
        (("run", "a", "b", "--args", "[1]"), "--args must be a JSON object"),
        (("worker", "--agents", "nope"), "must look like 'package.module:attr'"),
    ],
)
async def test_errors_are_one_line_without_traceback(
    env: dict[str, str], argv: tuple[str, ...], message: str
) -> None:
    code, out, err = await cli(env, *argv)
    assert out == ""
    assert code == 2
    assert message in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


async def test_pipeline_run_status_cancel(
    stack: DevStack, queue: str, env: dict[str, str], tmp_path: Path
) -> None:
    spec = tmp_path / "p.yaml"
    spec.write_text(
        "name: cli\nsteps:\n"
        "  - {id: nums, agent: mathy, skill: numbers, args: {n: 4}}\n"
        "  - {id: sum, agent: mathy, skill: total, args: {values: '${steps.nums.output.values}'}}\n"
    )
    slow = tmp_path / "slow.json"
    slow.write_text(
        json.dumps(
            {"steps": [{"id": "nap", "agent": "mathy", "skill": "slow", "args": {"seconds": 60}}]}
        )
    )
    async with running(stack, [Mathy()], task_queue=queue) as client:
        code, out, err = await cli(env, "pipeline", "run", str(spec), "--follow")
        assert code == 0, err
        lines = out.splitlines()
        pipeline_id = lines[0].removeprefix("pipeline ")
        assert lines[1:3] == ["[step] nums running", "[step] nums completed"]
        assert lines[-5:-3] == ["[step] sum running", "[step] sum completed"]
        assert lines[-3] == "completed"
        assert lines[-1].split()[:2] == ["sum", "completed"]
        code, out, _ = await cli(env, "pipeline", "status", pipeline_id)
        assert code == 0
        assert out.splitlines()[0] == "completed"

        handle = await client.start_pipeline(Pipeline.load(slow))
        await wait_started(client, f"{handle.pipeline_id}/nap")
        code, out, _ = await cli(env, "pipeline", "cancel", handle.pipeline_id)
        assert (code, out.strip()) == (0, f"cancel requested for {handle.pipeline_id}")
        assert (await handle.result()).status == "canceled"
        code, out, err = await cli(env, "pipeline", "run", str(tmp_path / "missing.yaml"))
        assert code == 2
        assert "cannot read" in err
