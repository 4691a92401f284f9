"""A worker's JSON log: every line of a skill run carries its task's fields; secrets never show."""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path
from typing import Any

from a2a_temporal._process import ManagedProcess
from a2a_temporal.testing import DevStack

TOKEN = "chronicle-token-value-1234"


def json_lines(path: Path) -> list[dict[str, Any]]:
    lines = []
    for line in path.read_text().splitlines():
        if line.startswith("{"):
            lines.append(json.loads(line))
    return lines


async def test_a_workers_json_log_binds_every_skill_line_to_its_task(
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
    worker = ManagedProcess("worker", argv, log, env=env)
    try:
        worker.start()
        await stack.wait_for_agents(["chronicler", "splitter"], queue)
        client = await stack.client(task_queue=queue)
        result = await client.call("chronicler", "chronicle", args={"text": "a b c"})
    finally:
        await worker.stop()
    assert (result.status, result.output) == ("completed", 3), result.error
    text = log.read_text()
    assert TOKEN not in text, "a secret value reached the log"
    lines = json_lines(log)
    assert any(line["event"] == "worker started" and line["level"] == "info" for line in lines)
    task = {"task_id": result.task_id, "workflow_id": result.task_id, "agent": "chronicler"}
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
