"""The CLI never waits or leaves silently, and says what to do next.

As a real process against the dev stack: a command waiting without
`--follow` shows the question and the line that answers it, Ctrl-C says the
task goes on and how to cancel it, `pipeline status` shows what waits for
input, and unknown agents and unreachable servers are one plain line.
"""

import asyncio
import os
import signal
import sys
import uuid

import pytest

from a2a_temporal import Pipeline
from a2a_temporal.cli.servers import _exports
from a2a_temporal.settings import AgentSettings
from a2a_temporal.testing import DevStack
from tests.agents import Approver, Slow, Splitter
from tests.cli_helpers import cli
from tests.temporal_helpers import running


@pytest.fixture
def queue() -> str:
    return f"wait-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def env(stack: DevStack, queue: str) -> dict[str, str]:
    return {**os.environ, **stack.environment(task_queue=queue)}


async def _spawn(env: dict[str, str], *argv: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "a2a_temporal.cli", *argv,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, env=env,
    )  # fmt: skip


async def _lines_until(stream: asyncio.StreamReader, prefix: str) -> list[str]:
    lines: list[str] = []
    async with asyncio.timeout(60):
        while not lines or not lines[-1].startswith(prefix):
            line = await stream.readline()
            assert line, f"the stream ended before {prefix!r}: {lines}"
            lines.append(line.decode().rstrip("\n"))
    return lines


async def test_a_run_without_follow_shows_the_question_and_takes_a_checked_answer(
    stack: DevStack, queue: str, env: dict[str, str]
) -> None:
    async with running(stack, [Approver()], task_queue=queue):
        process = await _spawn(env, "run", "approver", "review", "--args", '{"text": "it"}')
        assert process.stderr is not None
        lines = await _lines_until(process.stderr, "  answer with: ")
        task_id = lines[0].removeprefix("task ")
        assert lines[-2] == f"[question] {task_id} q0: approve it?"
        assert lines[-1] == f"  answer with: a2a-temporal answer {task_id} q0 'your answer'"
        code, out, err = await cli(env, "answer", task_id, "q0", '{"approved": tru')
        assert (code, out) == (2, "")
        assert "looks like JSON but does not parse" in err and len(err.splitlines()) == 1
        code, out, err = await cli(env, "answer", task_id, "q0", "yes")
        assert code == 0, err
        out_bytes, _ = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0
    assert out_bytes.decode().lstrip().startswith("{"), "stdout holds the result alone"
    assert '"output": "yes"' in out_bytes.decode()


async def test_ctrl_c_says_the_task_goes_on_and_how_to_cancel_it(
    stack: DevStack, queue: str, env: dict[str, str]
) -> None:
    async with running(stack, [Slow()], task_queue=queue) as client:
        process = await _spawn(env, "run", "slow", "sleep", "--args", '{"seconds": 60}')
        assert process.stderr is not None
        [line] = await _lines_until(process.stderr, "task ")
        task_id = line.removeprefix("task ")
        process.send_signal(signal.SIGINT)
        _, err = await asyncio.wait_for(process.communicate(), 60)
        state = await client.get_task(task_id).state()
        await client.get_task(task_id).cancel()
        assert (await client.get_task(task_id).result()).status == "canceled"
    assert process.returncode == 130
    assert err.decode().strip() == (
        f"a2a-temporal: stopped waiting; the task {task_id} goes on: "
        f"`a2a-temporal cancel {task_id}` cancels it, `a2a-temporal result {task_id}` "
        "shows it again"
    )
    assert state.status == "running"


async def test_pipeline_status_shows_the_step_waiting_for_input(
    stack: DevStack, queue: str, env: dict[str, str]
) -> None:
    gate = {"id": "gate", "agent": "approver", "skill": "review", "args": {"text": "it"}}
    spec = {"name": "ask", "steps": [gate]}
    async with running(stack, [Approver()], task_queue=queue) as client:
        handle = await client.start_pipeline(Pipeline.parse(spec))
        step = f"{handle.pipeline_id}/gate"
        async with asyncio.timeout(30):
            while True:
                code, out, _ = await cli(env, "pipeline", "status", handle.pipeline_id)
                if "waiting for input" in out:
                    break
                await asyncio.sleep(0.2)
        await handle.cancel()
    assert code == 0
    assert f"    task {step}" in out.splitlines()
    assert f"    asks: {step} q0 (a2a-temporal answer {step} q0 VALUE)" in out.splitlines()


async def test_unknown_agents_and_unreachable_s3_are_one_plain_line(
    stack: DevStack, queue: str, env: dict[str, str]
) -> None:
    async with running(stack, [Splitter()], task_queue=queue):
        code, out, err = await cli(env, "run", "nope", "x")
        assert (code, out) == (2, "")
        assert err.startswith("a2a-temporal: error: unknown agent 'nope' (agents: ")
        assert "a2a-remote" not in err and len(err.splitlines()) == 1
        code, out, err = await cli(env, "agents")
        assert "a2a-remote" not in out
    no_s3 = {**env, "A2A_TEMPORAL_S3_ENDPOINT": "http://127.0.0.1:1"}
    code, out, err = await cli(no_s3, "run", "splitter", "upper", "--args", '{"text": "x"}')
    assert (code, out) == (2, "")
    assert err.strip() == (
        "a2a-temporal: error: cannot reach S3 at http://127.0.0.1:1: connection refused "
        "(setting s3_endpoint: env A2A_TEMPORAL_S3_ENDPOINT; `a2a-temporal dev` starts a "
        "local one)"
    )


async def test_the_gateway_refuses_to_start_unable_to_sign_what_workers_require(
    env: dict[str, str],
) -> None:
    unsigned = {k: v for k, v in env.items() if not k.startswith("A2A_TEMPORAL_IDENTITY_")}
    code, out, err = await cli(
        {**unsigned, "A2A_TEMPORAL_REQUIRE_SIGNED_IDENTITY": "true"}, "serve"
    )
    assert (code, out) == (2, "")
    assert "set A2A_TEMPORAL_IDENTITY_KEY_ID and A2A_TEMPORAL_IDENTITY_SIGNING_KEY" in err
    assert len(err.splitlines()) == 1


async def test_dev_prints_exports_that_a_shell_takes_as_they_are(stack: DevStack) -> None:
    lines = _exports(stack)
    script = "".join(f"export {line}\n" for line in lines) + "env"
    process = await asyncio.create_subprocess_exec(
        "bash", "-c", script, stdout=asyncio.subprocess.PIPE, env={"PATH": os.environ["PATH"]}
    )
    out, _ = await process.communicate()
    exported = dict(line.split("=", 1) for line in out.decode().splitlines() if "=" in line)
    assert exported["TEMPORAL_ADDRESS"] == stack.temporal_address
    assert exported["TEMPORAL_NAMESPACE"] == stack.namespace
    for name, value in stack.environment().items():
        if name in exported:
            assert exported[name] == value, name
    settings = AgentSettings.from_env(exported)
    assert settings.outbound_allow == stack.settings().outbound_allow
    assert settings.require_signed_identity is False
