"""A worker's JSON log: every line of a skill run carries its task's fields; secrets never show."""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path
from typing import Any

from a2a_temporal import Pipeline
from a2a_temporal._process import ManagedProcess
from a2a_temporal.testing import DevStack

TOKEN = "chronicle-token-value-1234"


def json_lines(path: Path) -> list[dict[str, Any]]:
    lines = []
    for line in path.read_text().splitlines():
        if line.startswith("{"):
            lines.append(json.loads(line))
    return lines


async def test_a_workers_json_log_binds_every_line_to_its_task_and_pipeline_step(
    stack: DevStack, tmp_path: Path
) -> None:
    queue = f"logs-{uuid.uuid4().hex[:8]}"
    log = tmp_path / "worker.log"
    env = {
        **stack.environment(task_queue=queue, log_format="json", log_level="info"),
        "A2A_SECRET_CHRONICLE_TOKEN": TOKEN,
    }
    argv = [
        sys.executable,
        "-m",
        "a2a_temporal.cli",
        "worker",
        "--agents",
        "tests.agents:LOG_AGENTS",
    ]
    pipeline = Pipeline.parse(
        {
            "name": "logged",
            "steps": [
                {
                    "id": "chronicle",
                    "agent": "chronicler",
                    "skill": "chronicle",
                    "args": {"text": "a b c"},
                }
            ],
        }
    )
    worker = ManagedProcess("worker", argv, log, env=env)
    try:
        worker.start()
        await stack.wait_for_agents(["chronicler", "splitter"], queue)
        client = await stack.client(task_queue=queue)
        handle = await client.start_pipeline(pipeline)
        state = await handle.result()
    finally:
        await worker.stop()
    step = state.steps["chronicle"]
    assert (state.status, step.output) == ("completed", 3), state.error
    pipeline_id = handle.pipeline_id
    [task_id] = step.task_ids
    text = log.read_text()
    assert TOKEN not in text, "a secret value reached the log"
    lines = json_lines(log)
    assert any(line["event"] == "worker started" and line["level"] == "info" for line in lines)
    in_step = {"pipeline_id": pipeline_id, "step": "chronicle", "parent_id": pipeline_id}
    task = {"task_id": task_id, "workflow_id": task_id, "agent": "chronicler", **in_step}
    started = [line for line in lines if line["event"] == "chronicle started"]
    assert [line["attempt"] for line in started] == [1, 2]
    for line in started:
        assert (
            line.items()
            >= {**task, "skill": "chronicle", "token": "[secret CHRONICLE_TOKEN]"}.items()
        )
        assert line["run_id"] and line["timestamp"]
    [failed] = [line for line in lines if line["event"] == "skill_failed"]
    assert failed.items() >= {**task, "skill": "chronicle", "attempt": 1}.items()
    assert "[secret CHRONICLE_TOKEN]" in failed["error"]
    # workflow code logs through workflow.logger, with the same fields
    [retrying] = [line for line in lines if line["event"] == "task retrying"]
    assert retrying.items() >= {**task, "skill": "chronicle", "attempt": 1, "kind": "skill"}.items()
    assert "[secret CHRONICLE_TOKEN]" in retrying["reason"] and retrying["level"] == "info"
    ended = {line["task_id"]: line for line in lines if line["event"] == "task ended"}
    assert ended[task_id].items() >= {**task, "status": "completed", "attempt": 2}.items()
    [call] = [tid for tid in ended if tid.startswith(f"{task_id}/call-")]
    assert ended[call]["parent_id"] == task_id and "pipeline_id" not in ended[call]
    assert ended[call]["agent"] == "splitter" and ended[call]["status"] == "completed"
    [step_ended] = [line for line in lines if line["event"] == "step ended"]
    assert (
        step_ended.items()
        >= {"pipeline_id": pipeline_id, "step": "chronicle", "status": "completed"}.items()
    )
    [pipeline_ended] = [line for line in lines if line["event"] == "pipeline ended"]
    assert pipeline_ended.items() >= {"pipeline_id": pipeline_id, "status": "completed"}.items()
