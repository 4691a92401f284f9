"""Findings 7 and 8: workspaces and grants belong to people and tasks.

An anonymous run's workspace is its own task's, shared with nobody (not with
other anonymous runs, nor with a subject that happens to be named `shared`);
subjects' folders never nest. A grant lifted from history is refused to a
run on anyone else's behalf, and outside the task tree it was made in.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from a2a_temporal import ScopedAuth
from a2a_temporal.testing import DevStack
from tests.grant_agents import GRANT_AGENTS
from tests.security.exposure_agents import EXPOSURE_AGENTS, Notes
from tests.temporal_helpers import history, running
from tests.test_grants import KEY


def _keys(stack: DevStack, prefix: str) -> list[str]:
    return sorted(
        o.object_name or ""
        for o in stack.minio().list_objects(stack.bucket, prefix, recursive=True)
    )


async def test_anonymous_runs_and_subjects_never_share_a_workspace(stack: DevStack) -> None:
    async with running(stack, EXPOSURE_AGENTS) as client:
        first = await client.call("notes", "keep", args={"text": "first anonymous"})
        second = await client.call("notes", "keep", args={"text": "second anonymous"})
        named = {}
        for subject in ("shared", "a", "a/b"):
            auth = ScopedAuth(subject=subject)
            named[subject] = await client.call(
                "signed-notes", "keep", args={"text": f"note of {subject}"}, auth=auth
            )
        again = await client.call(
            "signed-notes", "keep", args={"text": "x"}, auth=ScopedAuth(subject="a")
        )
    assert first.output == {"before": None, "files": ["notes.txt"]}
    assert second.output == {"before": None, "files": ["notes.txt"]}, "nothing shared"
    assert _keys(stack, f"task-workspaces/{first.task_id}/") == [
        f"task-workspaces/{first.task_id}/notes.txt"
    ]
    assert all(result.output["before"] is None for result in named.values())
    assert again.output == {"before": "note of a", "files": ["notes.txt"]}, (
        "subject 'a' sees its own note only, not the one of 'a/b'"
    )
    assert _keys(stack, "workspaces/a%2Fb/") == ["workspaces/a%2Fb/notes.txt"]
    assert _keys(stack, "workspaces/shared/") == ["workspaces/shared/notes.txt"]


async def test_a_grant_lifted_from_history_works_for_nobody_else(stack: DevStack) -> None:
    owner = f"owner-{uuid.uuid4().hex[:8]}"
    secrets = {"WORKSPACE_GRANT_KEY": KEY}
    async with running(stack, [*GRANT_AGENTS, Notes()], secrets) as client:
        auth = ScopedAuth(subject=owner, scopes=("read",))
        shared = await client.call("owner", "share", args={}, auth=auth)
        helper_id = f"{shared.task_id}/call-0"
        started = (await history(client, helper_id)).events[0]
        attributes = started.workflow_execution_started_event_attributes
        lifted = json.loads(attributes.input.payloads[0].data)["grant"]
        anonymous = await client.call("notes", "keep", args={"text": "x"}, grant=lifted)
        runs: dict[str, Any] = {
            "another subject": {"auth": ScopedAuth(subject="mallory")},
            "outside its tree": {"auth": auth},
            "inside its tree": {"auth": auth, "task_id": f"{shared.task_id}/call-7"},
        }
        reports = {}
        for name, extra in runs.items():
            handle = await client.start("helper", "work", grant=lifted, **extra)
            reports[name] = (await handle.result()).output
    assert shared.output["report"]["read data/a.csv"] == "a,1", "the grant works where made"
    assert anonymous.status == "failed" and anonymous.error is not None
    assert f"made on behalf of '{owner}', and this run acts for None" in anonymous.error
    assert "acts for 'mallory'" in reports["another subject"]["workspace"]
    assert "is not one of them" in reports["outside its tree"]["workspace"]
    assert reports["inside its tree"]["read data/a.csv"] == "a,1"
    assert reports["inside its tree"]["read data/b.txt"] == "refused"
