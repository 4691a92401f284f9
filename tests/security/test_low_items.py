"""Finding 10: reads that never hang on a wedged task, private dev data, public links.

(The codec server's sign-in by POST, never by a token in the URL, is checked
in `tests/test_encryption.py`.)
"""

from __future__ import annotations

import asyncio
import stat
import uuid
from pathlib import Path

import httpx

from a2a_temporal.temporal.attributes import task_attributes
from a2a_temporal.temporal.models import SkillRunInput
from a2a_temporal.testing import DevStack
from tests.agents import Approver
from tests.security.exposure_agents import Leaker
from tests.security.gateway_calls import rpc, send_params, tenant_gateway
from tests.temporal_helpers import running


async def test_reads_answer_though_a_task_sits_on_a_queue_nobody_polls(stack: DevStack) -> None:
    async with (
        running(stack, [Approver()]) as client,
        tenant_gateway(client) as base,
        httpx.AsyncClient(timeout=60) as http,
    ):
        url = f"{base}/agents/approver"
        wedged = []
        for subject in ("ann", "bob", "bob"):
            task_id = f"approver.review.{uuid.uuid4()}"
            await client.temporal.start_workflow(
                "a2a.SkillRun",
                SkillRunInput(agent="approver", skill="review", args={"text": "x"}).model_dump(
                    mode="json"
                ),
                id=task_id,
                task_queue=f"nobody-polls-{uuid.uuid4().hex[:6]}",
                search_attributes=task_attributes(
                    "approver", "review", f"a2a:{subject}", "c", subject
                ),
            )
            wedged.append(task_id)
        async with asyncio.timeout(45):  # every read is bounded; none may hang
            mine = await rpc(http, url, "SendMessage", send_params(data={"text": "x"}), "ann")
            listed = await rpc(http, url, "ListTasks", {}, "ann")
            got = await rpc(http, url, "GetTask", {"id": wedged[0]}, "ann")
            canceled = await rpc(
                http, url, "CancelTask", {"id": mine["result"]["task"]["id"]}, "ann"
            )
        for task_id in wedged:
            await client.temporal.get_workflow_handle(task_id).terminate("test over")
    ids = [t["id"] for t in listed["result"]["tasks"]]
    assert wedged[0] in ids and wedged[1] not in ids and wedged[2] not in ids
    assert got["result"]["id"] == wedged[0]
    assert got["result"]["status"]["state"] in ("TASK_STATE_SUBMITTED", "TASK_STATE_WORKING")
    assert canceled["result"]["status"]["state"] == "TASK_STATE_CANCELED"


async def test_the_dev_stacks_data_is_private_to_its_user(tmp_path: Path) -> None:
    data = tmp_path / "dev-data"
    async with DevStack(data_dir=data) as stack:
        await stack.connect()
    modes = {path.name: stat.S_IMODE(path.stat().st_mode) for path in data.iterdir()}
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert "temporal.db" in modes
    assert all(mode & 0o077 == 0 for mode in modes.values()), modes


async def test_artifact_links_point_at_the_public_s3_endpoint(stack: DevStack) -> None:
    public = "https://files.example.invalid:9443"
    async with (
        running(stack, [Leaker()]) as client,
        tenant_gateway(client, s3_public_endpoint=public, artifact_inline_limit=1) as base,
        httpx.AsyncClient(timeout=60) as http,
    ):
        url = f"{base}/agents/leaker"
        params = send_params(data={"uri": "s3://elsewhere/x"})
        task_id = (await rpc(http, url, "SendMessage", params, "ann"))["result"]["task"]["id"]
        await client.get_task(task_id).result()
        task = (await rpc(http, url, "GetTask", {"id": task_id}, "ann"))["result"]
    [own] = [a for a in task["artifacts"] if a["name"] == "own.txt"]
    link = own["parts"][0]["url"]
    assert link.startswith(f"{public}/{stack.bucket}/tasks/"), link
    assert "X-Amz-Signature=" in link
