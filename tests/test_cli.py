"""The `a2a-temporal` CLI against the dev stack, run as a real process."""

import asyncio
import json
import os
import shlex
import sys
import uuid
from pathlib import Path

import pytest

from a2a_temporal import Pipeline
from a2a_temporal.testing import DevStack
from tests.agents import Analyst, Approver, Mathy, Slow, Splitter, Writer
from tests.cli_helpers import cli
from tests.temporal_helpers import running, wait_started


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
        assert code == 0
        assert out.startswith(f"cancel requested for {handle.task_id} and its callees")
        assert (await handle.result()).status == "canceled"
        code, out, _ = await cli(env, "result", handle.task_id)
        assert code == 1
        assert json.loads(out)["status"] == "canceled"
        code, out, _ = await cli(env, "cancel", handle.task_id)
        assert (code, out.strip()) == (
            3,
            f"task {handle.task_id} already ended canceled: nothing to cancel",
        )


DEEP = "[" * 5_000 + "]" * 5_000


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("--address", "127.0.0.1:1", "result", "x"), "cannot reach Temporal at 127.0.0.1:1"),
        (("run", "a", "b", "--args", "{bad"), "--args is not valid JSON"),
        (("run", "a", "b", "--args", "[1]"), "--args must be a JSON object"),
        (("run", "a", "b", "--args", DEEP), "--args is nested too deeply"),
        (("run", "a", "b", "--args", "@/no/such/file.json"), "cannot read --args from"),
        (("run", "a", "b", "--task"), "unrecognized arguments: --task"),
        (("worker", "--agents", "nope"), "must look like 'package.module:attr'"),
        (("schema", "nope"), "invalid choice: 'nope'"),
        (("pipeline", "run", "/no/such.yaml"), "cannot read /no/such.yaml"),
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


async def test_every_command_refuses_unknown_and_wrong_kind_ids(
    stack: DevStack, queue: str, env: dict[str, str]
) -> None:
    async with running(stack, [Splitter()], task_queue=queue) as client:
        task = await client.call("splitter", "upper", args={"text": "x"})
        pipeline = await client.start_pipeline(
            Pipeline.parse(
                {
                    "steps": [
                        {"id": "u", "agent": "splitter", "skill": "upper", "args": {"text": "y"}}
                    ]
                }
            )
        )
        await pipeline.result()
        cases = [
            (("result", "{id}"), "task"),
            (("events", "{id}"), "task"),
            (("cancel", "{id}"), "task"),
            (("artifacts", "{id}"), "task"),
            (("answer", "{id}", "q0", "yes"), "task"),
            (("pipeline", "status", "{id}"), "pipeline"),
            (("pipeline", "cancel", "{id}"), "pipeline"),
        ]
        for argv, kind in cases:
            wrong = pipeline.pipeline_id if kind == "task" else task.task_id
            for workflow_id, message in (
                ("no-such-id", f"no {kind} 'no-such-id'"),
                (wrong, f"is a {'pipeline' if kind == 'task' else 'task'}, not a {kind}"),
            ):
                code, out, err = await cli(env, *(a.format(id=workflow_id) for a in argv))
                assert (code, out) == (2, ""), (argv, err)
                assert message in err, (argv, err)
                assert len(err.strip().splitlines()) == 1, err


async def test_args_from_a_file_or_stdin_and_a_warning_when_no_worker_polls(
    stack: DevStack, queue: str, env: dict[str, str], tmp_path: Path
) -> None:
    big = {"text": "w " * 100_000}
    args_file = tmp_path / "args.json"
    args_file.write_text(json.dumps(big))
    async with running(stack, [Splitter()], task_queue=queue):
        code, out, err = await cli(env, "run", "splitter", "upper", "--args", f"@{args_file}")
        assert code == 0, err
        assert json.loads(out)["output"] == big["text"].upper()
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "a2a_temporal.cli",
            "run",
            "splitter",
            "upper",
            "--args",
            "-",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
        )
        out_bytes, _ = await asyncio.wait_for(process.communicate(b'{"text": "piped"}'), 60)
        assert json.loads(out_bytes)["output"] == "PIPED"
    lonely = {**env, "A2A_TEMPORAL_TASK_QUEUE": f"nobody-{uuid.uuid4().hex[:6]}"}
    spec = tmp_path / "lonely.yaml"
    spec.write_text("steps:\n  - {id: a, agent: splitter, skill: upper, args: {text: x}}\n")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "a2a_temporal.cli",
        "pipeline",
        "run",
        str(spec),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=lonely,
    )
    assert process.stderr is not None
    lines = [await asyncio.wait_for(process.stderr.readline(), 30) for _ in range(2)]
    process.kill()
    await process.wait()
    assert lines[0].startswith(b"waiting for it to end; questions show here")
    assert b"no worker is polling task queue 'nobody-" in lines[1]


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
        assert lines[3:5] == ["[step] sum running", "[step] sum completed"]
        summary = lines[lines.index("completed") :]
        assert [line.split()[:2] for line in summary if not line.startswith("    ")][1:] == [
            ["nums", "completed"],
            ["sum", "completed"],
        ]
        assert f"    task {pipeline_id}/sum" in summary
        code, out, _ = await cli(env, "pipeline", "status", pipeline_id)
        assert code == 0
        assert out.splitlines()[0] == "completed"

        handle = await client.start_pipeline(Pipeline.load(slow))
        await wait_started(client, f"{handle.pipeline_id}/nap")
        code, out, _ = await cli(env, "pipeline", "cancel", handle.pipeline_id)
        assert code == 0
        assert out.startswith(f"cancel requested for {handle.pipeline_id} and its running steps")
        assert (await handle.result()).status == "canceled"
        code, out, _ = await cli(env, "pipeline", "cancel", handle.pipeline_id)
        assert code == 3
        assert out.strip().endswith("already ended canceled: nothing to cancel")
        code, out, err = await cli(env, "pipeline", "run", str(tmp_path / "missing.yaml"))
        assert code == 2
        assert "cannot read" in err


async def test_following_shows_questions_with_the_line_that_answers_them(
    stack: DevStack, queue: str, env: dict[str, str], tmp_path: Path
) -> None:
    spec = tmp_path / "ask.yaml"
    spec.write_text(
        "name: ask\nsteps:\n  - {id: gate, agent: approver, skill: review, args: {text: it}}\n"
    )
    async with running(stack, [Approver()], task_queue=queue):
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "a2a_temporal.cli",
            "pipeline",
            "run",
            str(spec),
            "--follow",
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
        )
        assert process.stdout is not None
        lines: list[str] = []
        async with asyncio.timeout(60):
            while not lines or not lines[-1].startswith("  answer with: "):
                lines.append((await process.stdout.readline()).decode().rstrip("\n"))
        pipeline_id = lines[0].removeprefix("pipeline ")
        assert lines[-2] == f"[question] {pipeline_id}/gate q0: approve it?"
        command = shlex.split(lines[-1].removeprefix("  answer with: "))
        assert command[:4] == ["a2a-temporal", "answer", f"{pipeline_id}/gate", "q0"]
        code, out, err = await cli(env, *command[1:3], command[3], "yes")
        assert (code, out.strip()) == (0, f"answered q0 of {pipeline_id}/gate"), err
        rest, _ = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0
    assert "[step] gate completed" in rest.decode()
    assert "completed" in rest.decode().splitlines()
