"""Finding 2: a signed identity authorizes one run, of what it was minted for.

A namespace client lifts a task's envelope from its history and, once the
task ended, starts the same workflow id again with `temporal workflow execute
--id-reuse-policy AllowDuplicate`: with the same input, another skill, or (for
a pipeline) another spec. Each run is rejected before any skill runs.
"""

from __future__ import annotations

import json
import os
from typing import Any

from a2a_temporal import Pipeline, TemporalA2AClient
from a2a_temporal.testing import DevStack, find_temporal_cli
from tests.delegation_agents import DELEGATION_AGENTS
from tests.temporal_helpers import executed_outcome, history, running
from tests.test_delegation import ANN, CHAIN
from tests.test_identity import SIGNING
from tests.test_temporal_cli import temporal


async def _reuse(
    stack: DevStack, task_queue: str, workflow_type: str, workflow_id: str, input: Any
) -> dict[str, Any]:
    """Run `input` under `workflow_id` again with the `temporal` CLI; the run's result."""
    env = {**os.environ, "TEMPORAL_ADDRESS": stack.temporal_address}
    code, out = await temporal(
        env,
        [
            find_temporal_cli(),
            "workflow",
            "execute",
            "--type",
            workflow_type,
            "--task-queue",
            task_queue,
            "--workflow-id",
            workflow_id,
            "--id-reuse-policy",
            "AllowDuplicate",
            "--input",
            json.dumps(input),
            "-o",
            "json",
        ],
    )
    assert code in (0, 1), out  # 1: the run is Failed (rejected)
    return executed_outcome(out)


async def _start_input(client: TemporalA2AClient, workflow_id: str) -> dict[str, Any]:
    """What the workflow's newest run was started with, as its history holds it (JSON)."""
    started = (await history(client, workflow_id)).events[0]
    attributes = started.workflow_execution_started_event_attributes
    found: dict[str, Any] = json.loads(attributes.input.payloads[0].data)
    return found


async def test_a_lifted_envelope_runs_nothing_under_a_reused_workflow_id(
    stack: DevStack,
) -> None:
    async with running(stack, DELEGATION_AGENTS, **SIGNING) as client:
        queue = client.settings.task_queue
        signed = await client.call("relay_a", "whoami", args=CHAIN, auth=ANN)
        started = (await history(client, signed.task_id)).events[0]
        sent = json.loads(
            started.workflow_execution_started_event_attributes.input.payloads[0].data
        )
        same = await _reuse(stack, queue, "a2a.SkillRun", signed.task_id, sent)
        other_skill = await _reuse(
            stack, queue, "a2a.SkillRun", signed.task_id, {**sent, "skill": "impersonate"}
        )

        pipeline = Pipeline.parse(
            {"name": "p", "steps": [{"id": "a", "agent": "relay_a", "skill": "whoami"}]}
        )
        handle = await client.start_pipeline(pipeline, auth=ANN)
        done = await handle.result()
        spec = await _start_input(client, handle.pipeline_id)
        spec["pipeline"]["steps"][0]["skill"] = "impersonate"
        other_spec = await _reuse(stack, queue, "a2a.Pipeline", handle.pipeline_id, spec)
    assert signed.status == "completed"
    assert same["status"] == "rejected"
    assert "already ran" in same["error"] and "reused workflow id is refused" in same["error"]
    assert other_skill["status"] == "rejected"
    assert "minted for another run" in other_skill["error"]
    assert done.status == "completed"
    assert other_spec["status"] == "rejected"
    assert "minted for another run" in other_spec["error"]
