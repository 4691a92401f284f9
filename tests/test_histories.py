"""Checked-in histories of every workflow type replay on today's code (upgrade safety).

The histories under `tests/histories/` were recorded from earlier code (see
`tests/histories/record.py`). A workflow change that would break a task
running at upgrade time fails here; put such a change behind
`workflow.patched` and record a history of the new path.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from a2a_temporal import AgentPlugin, AgentSettings
from a2a_temporal.temporal.wire import PIPELINE_WORKFLOW, PUSH_DELIVERY_WORKFLOW, SKILL_RUN_WORKFLOW

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))
WORKFLOW_TYPES = {SKILL_RUN_WORKFLOW, PIPELINE_WORKFLOW, PUSH_DELIVERY_WORKFLOW}


def load(path: Path) -> WorkflowHistory:
    saved = json.loads(path.read_text())
    return WorkflowHistory.from_json(saved["workflow_id"], saved["history"])


def workflow_type(history: WorkflowHistory) -> str:
    started = history.events[0].workflow_execution_started_event_attributes
    return started.workflow_type.name


def test_every_workflow_type_has_recorded_histories() -> None:
    recorded = {workflow_type(load(path)) for path in HISTORIES}
    assert recorded == WORKFLOW_TYPES


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_recorded_history_replays(path: Path) -> None:
    replayer = Replayer(workflows=[], plugins=[AgentPlugin([], AgentSettings())])
    result = await replayer.replay_workflow(load(path), raise_on_replay_failure=False)
    assert result.replay_failure is None, f"{path.name}: {result.replay_failure}"
