"""Secrets stay on the worker: not in history, events, logs, errors or the bucket."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from a2a_temporal import InMemoryA2AClient, MissingSecrets
from a2a_temporal.testing import DevStack
from tests.secret_agents import KEEPERS, SECRET
from tests.temporal_helpers import history, running

REDACTED = "PermissionError: the service refused token [secret TOKEN] (token=s3cr...)"


async def test_a_worker_without_a_declared_secret_refuses_to_start(stack: DevStack) -> None:
    with pytest.raises(MissingSecrets, match="keeper needs TOKEN"):
        async with running(stack, KEEPERS):
            pass
    with pytest.raises(MissingSecrets, match="keeper needs TOKEN"):
        InMemoryA2AClient(KEEPERS)


async def test_no_secret_value_leaves_the_worker(stack: DevStack, tmp_path: Path) -> None:
    secrets_dir = tmp_path / "secrets"
    secrets_dir.mkdir()
    (secrets_dir / "TOKEN").write_text(SECRET + "\n")
    queue = f"q-{uuid.uuid4().hex[:8]}"
    log = tmp_path / "worker.log"
    worker = stack.worker_process(
        "tests.secret_agents:KEEPERS", log, task_queue=queue, secrets_dir=str(secrets_dir)
    )
    worker.start()
    try:
        await stack.wait_for_agents(["keeper"], queue)
        client = await stack.client(task_queue=queue)
        refused = await client.start("keeper", "refused")
        events = [e async for e in refused.events()]
        failed = await refused.result()
        used = await client.call("keeper", "uses")
        histories = [await history(client, task) for task in (failed.task_id, used.task_id)]
    finally:
        await worker.stop()
    local = await InMemoryA2AClient(KEEPERS, {"TOKEN": SECRET}).call("keeper", "refused")
    assert (failed.status, failed.error) == ("failed", REDACTED)
    assert (local.status, local.error) == ("failed", REDACTED), "the same in-process"
    assert [e.payload["reason"] for e in events if e.kind == "retry"] == [REDACTED]
    assert used.status == "completed"
    raw = b"".join(event.SerializeToString() for h in histories for event in h.events)
    assert b"[secret TOKEN]" in raw, "the history holds the redacted error"
    assert SECRET.encode() not in raw
    s3 = stack.minio()
    stored = [
        s3.get_object(stack.bucket, obj.object_name).read()
        for obj in s3.list_objects(stack.bucket, recursive=True)
        if obj.object_name is not None
    ]
    assert stored, "the run wrote to the bucket"
    assert not [blob for blob in stored if SECRET.encode() in blob]
    text = log.read_text()
    assert "refused token [secret TOKEN]" in text, "the worker logged the failure, redacted"
    assert SECRET not in text
