"""The docs' `temporal` CLI examples, run as written against a worker for the demo agents."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shlex
import uuid
from pathlib import Path

import yaml

from a2a_temporal.testing import DevStack, find_temporal_cli
from examples.agents import DEMO_AGENTS
from tests.doc_snippets import snippets
from tests.temporal_helpers import running

REPO = Path(__file__).resolve().parent.parent


def documented_commands() -> list[list[str]]:
    """The `temporal` CLI block of docs/runtime.md (the doc tests leave it to this test)."""
    [block] = [
        s
        for s in snippets(REPO / "docs" / "runtime.md")
        if s.directive == "skip" and "test_temporal_cli" in s.argument
    ]
    joined = block.code.replace("\\\n", " ")
    lines = [shlex.split(line) for line in joined.splitlines() if line.strip()]
    # `until ...; do sleep 1; done` waits for the step that the next query reads: `until()`
    return [argv for argv in lines if argv[0] != "until"]


async def temporal(env: dict[str, str], argv: list[str]) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        find_temporal_cli(),
        *argv[1:],
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env=env,
        cwd=REPO,
    )
    out, _ = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode is not None
    return process.returncode, out.decode()


async def until(env: dict[str, str], argv: list[str], expected: str, limit: float = 60) -> str:
    """Run a command until its output holds `expected` (a step not started yet, visibility lag)."""
    async with asyncio.timeout(limit):
        while True:
            code, out = await temporal(env, argv)
            if code == 0 and expected in out:
                return out
            await asyncio.sleep(0.5)


def test_the_pipeline_input_file_is_the_yaml_spec() -> None:
    as_json = json.loads((REPO / "examples/repo_analysis.input.json").read_text())
    assert as_json == {
        "pipeline": yaml.safe_load((REPO / "examples/repo_analysis.yaml").read_text())
    }


async def test_skills_and_pipelines_driven_by_the_temporal_cli_alone(stack: DevStack) -> None:
    suffix = uuid.uuid4().hex[:8]
    queue = f"temporal-cli-{suffix}"
    names = {
        "a2a-agents": queue,
        "plan-1": f"plan-{suffix}",
        "review-1": f"review-{suffix}",
        "bad-1": f"bad-{suffix}",
    }
    commands = [
        [re.sub("|".join(map(re.escape, names)), lambda m: names[m.group(0)], a) for a in argv]
        for argv in documented_commands()
    ]
    env = {
        **os.environ,
        "TEMPORAL_ADDRESS": stack.temporal_address,
        "TEMPORAL_NAMESPACE": stack.namespace,
    }
    outputs: list[str] = []
    async with running(stack, DEMO_AGENTS, task_queue=queue):
        for argv in commands:
            verb = argv[2]
            if verb == "query" and "a2a.questions" in argv:
                outputs.append(await until(env, argv, '"q0"'))
            elif verb == "list":
                outputs.append(await until(env, argv, names["plan-1"]))
            else:
                code, out = await temporal(env, argv)
                failing = names["bad-1"] in argv  # a rejected task's workflow is Failed
                assert (code != 0) == failing, (argv, out)
                outputs.append(out)
    state, plan, listed, bad, pipeline = outputs[1], outputs[2], outputs[3], outputs[4], outputs[-1]
    assert '"skill":"plan"' in state
    assert '"status":"completed"' in plan
    assert '"batches":[["a2a_temporal/__init__.py"' in plan
    assert names["plan-1"] in listed
    assert re.search(r"Status\s+FAILED", bad), bad
    assert "invalid a2a.SkillRun input: agent: Field required" in bad
    assert '"status":"completed"' in pipeline
    assert '"comment":"ship it"' in pipeline
