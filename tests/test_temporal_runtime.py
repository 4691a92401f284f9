import asyncio
import hashlib
import uuid

import pytest

from a2a_temporal import AgentEvent, CallResult, ScopedAuth, UnknownTask
from a2a_temporal.testing import DevStack
from tests.agents import Analyst, Delay, Flaky, Nosy, Recorder, Slow, Splitter, Vault, Writer
from tests.temporal_helpers import (
    CHILD_STARTED,
    SCHEDULED,
    count,
    history,
    running,
    wait_started,
)


async def test_skill_completes_with_output_events_and_readable_id(stack: DevStack) -> None:
    async with running(stack, [Splitter()]) as client:
        handle = await client.start("splitter", "split", args={"text": "a b c"})
        assert handle.task_id.startswith("splitter.split/")
        events = [e async for e in handle.events()]
        result = await handle.result()
    assert result == CallResult(
        task_id=handle.task_id, status="completed", output={"words": ["a", "b", "c"], "count": 3}
    )
    assert events == [AgentEvent("progress", {"message": "splitting", "fraction": 0.5})]


async def test_calls_run_as_child_workflows_with_deterministic_ids(stack: DevStack) -> None:
    async with running(stack, [Splitter(), Analyst()]) as client:
        result = await client.call("analyst", "report", args={"text": "to be or not"})
        assert result.ok, result.error
        assert result.output["report"] == "4 words: TO BE OR NOT"
        assert result.output["children"] == [f"{result.task_id}/call-0", f"{result.task_id}/call-1"]
        hist = await history(client, result.task_id)
        assert count(hist, CHILD_STARTED) == 2
        nested = await client.call("analyst", "nested", args={"n": 3})
        assert (nested.status, nested.output) == ("completed", 3)
        deepest = await client.get_task(f"{nested.task_id}/call-0/call-0/call-0").result()
        assert (deepest.status, deepest.output) == ("completed", 0)


async def test_rejections_fail_fast_without_retries(stack: DevStack) -> None:
    async with running(stack, [Splitter(), Vault()]) as client:
        unknown = await client.call("nobody", "x")
        assert unknown.status == "rejected"
        assert unknown.error is not None
        assert unknown.error.startswith("unknown agent 'nobody' (agents: ")
        assert {"splitter", "vault"} <= set(unknown.error[33:-1].split(", "))
        assert count(await history(client, unknown.task_id), SCHEDULED) == 0
        no_skill = await client.call("splitter", "nope")
        assert no_skill.error == "agent 'splitter' has no skill 'nope' (skills: split, upper)"
        bad_args = await client.call("splitter", "split", args={"text": 3})
        assert bad_args.status == "rejected"
        assert bad_args.error == "invalid args for 'split': text: Input should be a valid string"
        assert count(await history(client, bad_args.task_id), SCHEDULED) == 1
        auth = ScopedAuth(subject="bob", scopes=("other",))
        scopes = await client.call("vault", "reveal", args={"text": "K"}, auth=auth)
        assert (scopes.status, scopes.error) == ("rejected", "missing scopes: vault:read")
        in_handler = await client.call("vault", "admin", auth={"subject": "ann"})
        assert in_handler.error == "missing scopes: vault:admin, vault:read"


async def test_failure_after_retries_is_visible_as_retry_events(stack: DevStack) -> None:
    flaky = Flaky(failures=5)
    async with running(stack, [flaky]) as client:
        handle = await client.start("flaky", "work")
        events = [e async for e in handle.events()]
        result = await handle.result()
    assert (result.status, result.error) == ("failed", "ValueError: boom 3")
    assert flaky.attempts == 3
    assert events == [
        AgentEvent("retry", {"attempt": 2, "reason": "ValueError: boom 1"}),
        AgentEvent("retry", {"attempt": 3, "reason": "ValueError: boom 2"}),
    ]


async def test_a_retry_writing_other_text_supersedes_the_earlier_deltas(stack: DevStack) -> None:
    async with running(stack, [Flaky()]) as client:
        handle = await client.start("flaky", "ramble")
        events = [e async for e in handle.events()]
        result = await handle.result()
    assert (result.status, result.output) == ("completed", "the final text")
    assert events == [
        AgentEvent("progress", {"message": "writing", "fraction": None}),
        AgentEvent("text_delta", {"text": "the draft "}),
        AgentEvent("retry", {"attempt": 2, "reason": "ValueError: connection reset"}),
        AgentEvent("diverged", {"superseded_from": 1}),
        AgentEvent("text_delta", {"text": "the final text "}),
    ]


async def test_skill_timeout_fails_the_attempt(stack: DevStack) -> None:
    async with running(stack, [Flaky()]) as client:
        result = await client.call("flaky", "hang")
    assert result.status == "failed"
    assert result.error is not None
    assert result.error.startswith("TimeoutError")


@pytest.mark.parametrize(
    ("skill", "seen"),
    [("wait_cancel", "CancelledByCaller"), ("poll_cancel", "CancelledByCaller")],
)
async def test_cancel_raises_cancelled_by_caller_in_the_handler(
    stack: DevStack, skill: str, seen: str
) -> None:
    Recorder.seen.clear()
    async with running(stack, [Recorder()]) as client:
        handle = await client.start("recorder", skill, args={"seconds": 60})
        async for event in handle.events():
            assert event.kind == "progress"
            break
        await handle.cancel()
        result = await handle.result()
    assert result.status == "canceled"
    assert Recorder.seen == [seen]


async def test_cancel_reaches_children_and_call_timeout(stack: DevStack) -> None:
    async with running(stack, [Slow()]) as client:
        parent = await client.start("slow", "delegate", args=Delay(seconds=60))
        child = client.get_task(f"{parent.task_id}/call-0")
        await wait_started(client, child.task_id)
        async for event in child.events():
            assert event.payload["message"] == "sleeping"
            break
        await parent.cancel()
        assert (await parent.result()).status == "canceled"
        assert (await child.result()).status == "canceled"
        timed = await client.call("slow", "delegate", args=Delay(seconds=60), timeout=1.5)
        assert (timed.status, timed.error) == ("canceled", "timed out after 1.5s")


async def test_artifacts_in_s3_idempotent_across_retries(stack: DevStack) -> None:
    key = uuid.uuid4().hex
    async with running(stack, [Writer()]) as client:
        handle = await client.start("writer", "flaky_write", args={"key": key})
        events = [e async for e in handle.events()]
        result = await handle.result()
        assert result.ok, result.error
        assert [(a.name, a.size_bytes, a.mime_type) for a in result.artifacts] == [
            ("out/report.txt", 11, "text/plain"),
            ("partial.txt", 14, "text/plain"),
        ]
        uri = f"s3://{stack.bucket}/tasks/{handle.task_id}/artifacts/out/report.txt"
        assert result.artifacts[0].uri == uri
        assert await handle.read_artifact("out/report.txt") == b"final bytes"
        assert [a.name for a in await handle.artifacts()] == ["out/report.txt", "partial.txt"]
        assert [e.kind for e in events] == ["artifact", "artifact", "retry"], (
            "the retry's re-announcement of out/report.txt was already sent by attempt 1"
        )
        with pytest.raises(FileNotFoundError):
            await handle.read_artifact("missing.txt")


@pytest.mark.parametrize("name", ["../escape", "/abs", "a\x00b", "a/./b"])
async def test_bad_artifact_names_fail_clearly(stack: DevStack, name: str) -> None:
    async with running(stack, [Writer()]) as client:
        result = await client.call("writer", "bad_name", args={"text": name})
    assert result.status == "failed"
    assert result.error is not None
    assert result.error.startswith("ValueError: artifact name")


async def test_streamed_artifact(stack: DevStack) -> None:
    async with running(stack, [Writer()]) as client:
        handle = await client.start("writer", "big", args={"mib": 20})
        result = await handle.result()
        assert (result.status, result.output) == ("completed", 20 * 1024 * 1024)
        data = await handle.read_artifact("big.bin")
    expected = hashlib.sha256()
    for i in range(80):
        expected.update(bytes([i % 251]) * (256 * 1024))
    assert hashlib.sha256(data).hexdigest() == expected.hexdigest()


async def test_text_deltas_arrive_in_order_coalesced(stack: DevStack) -> None:
    async with running(stack, [Writer()]) as client:
        handle = await client.start("writer", "stream", args={"deltas": 2000, "word": "w "})
        events = [e async for e in handle.events()]
        result = await handle.result()
        hist = await history(client, handle.task_id)
    assert result.ok
    text = "".join(e.payload["text"] for e in events if e.kind == "text_delta")
    assert text == "w " * 2000
    progress = [e.payload["message"] for e in events if e.kind == "progress"]
    assert progress == [f"{i} of 2000" for i in range(0, 2000, 100)]
    assert len(events) < 100, "consecutive deltas are coalesced"
    assert len(hist.events) < 300


async def test_events_after_offset_and_unknown_task(stack: DevStack) -> None:
    async with running(stack, [Writer()]) as client:
        handle = await client.start("writer", "stream", args={"deltas": 250})
        await handle.result()
        everything = [e async for e in handle.events()]
        tail = [e async for e in handle.events(after=2)]
        assert tail == everything[2:]
        with pytest.raises(UnknownTask):
            await client.get_task("no-such-task").result()


async def test_large_results_go_to_external_storage(stack: DevStack) -> None:
    async with running(stack, [Writer()]) as client:
        result = await client.call("writer", "blob", args={"mib": 1})
        hist = await history(client, result.task_id)
    assert result.ok
    assert len(result.output) == 300 * 1024
    assert len(hist.to_json()) < 100 * 1024, "the 300 KiB payload is not inline"
    keys = [o.object_name for o in stack.minio().list_objects(stack.bucket, "v0/", recursive=True)]
    assert keys, "the payload was stored in the bucket"


async def test_secret_values_never_reach_history_or_bucket(
    stack: DevStack, tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = f"s3cr3t-{uuid.uuid4().hex}"
    env_secret = f"env-{uuid.uuid4().hex}"
    monkeypatch.setenv("A2A_SECRET_FROM_ENV", env_secret)
    async with running(stack, [Writer()], secrets={"API_KEY": secret}) as client:
        mapped = await client.call("writer", "use_secret", args={"text": "API_KEY"})
        from_env = await client.call("writer", "use_secret", args={"text": "FROM_ENV"})
        missing = await client.call("writer", "use_secret", args={"text": "NOPE"})
        histories = [await history(client, r.task_id) for r in (mapped, from_env)]
    assert (mapped.output, from_env.output) == (len(secret), len(env_secret))
    assert missing.status == "failed"
    assert missing.error is not None
    assert missing.error.startswith("KeyError: \"secret 'NOPE' is not configured")
    for hist in histories:
        dump = hist.to_json()
        assert secret not in dump
        assert env_secret not in dump
    s3 = stack.minio()
    for obj in s3.list_objects(stack.bucket, recursive=True):
        body = s3.get_object(stack.bucket, str(obj.object_name))
        try:
            content = body.read()
        finally:
            body.close()
            body.release_conn()
        assert secret.encode() not in content
        assert env_secret.encode() not in content


async def test_retried_skill_reuses_finished_calls(stack: DevStack) -> None:
    key = uuid.uuid4().hex
    async with running(stack, [Recorder()]) as client:
        result = await client.call("recorder", "call_then_crash", args={"key": key})
        hist = await history(client, result.task_id)
    assert (result.status, result.output) == ("completed", [1, 2, 3])
    assert Recorder.hits[key] == 3, "the first two callees ran once each"
    assert count(hist, CHILD_STARTED) == 3


async def test_retry_taking_another_path_is_reported(stack: DevStack) -> None:
    key = uuid.uuid4().hex
    async with running(stack, [Recorder(), Splitter()]) as client:
        result = await client.call("recorder", "change_path", args={"key": key})
    assert result.status == "failed"
    assert result.error is not None
    assert result.error.startswith("CallMismatch: call #0 asks for splitter.upper")
    assert "recorder.hit" in result.error


async def test_concurrent_runs(stack: DevStack) -> None:
    async with running(stack, [Splitter()]) as client:
        results = await asyncio.gather(
            *(client.call("splitter", "upper", args={"text": f"t{i}"}) for i in range(20))
        )
    assert [r.output for r in results] == [f"T{i}" for i in range(20)]


async def test_discovery_from_plugin_agents(stack: DevStack) -> None:
    async with running(stack, [Splitter(), Analyst()]) as client:
        cards = await client.discovery.find(tag="text")
        assert [c.name for c in cards] == ["analyst", "splitter"]
        assert all(c.task_queue for c in cards)


async def test_workspace_is_a_prefix_per_caller(stack: DevStack) -> None:
    async with running(stack, [Vault(), Nosy()]) as client:
        result = await client.call("vault", "store", args={"text": "hi"}, auth={"subject": "ann"})
        assert (result.status, result.output) == ("completed", ["notes/a.txt"])
        stored = stack.minio().get_object(stack.bucket, "workspaces/ann/notes/a.txt")
        try:
            assert stored.read() == b"hi"
        finally:
            stored.close()
            stored.release_conn()
        no_access = await client.call("nosy", "peek")
    assert no_access.status == "failed"
    assert no_access.error is not None
    assert no_access.error.startswith("PermissionError: this agent did not declare workspace")
