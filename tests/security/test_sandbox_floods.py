"""Finding 9: what sandboxed code writes cannot wedge its task or its worker.

Streamed output reaches the task's stream as few, bounded events (a flood of
a megabyte of lines is a handful of events, and past a hard cap the live view
stops with a marker); an `rw` session's write-back goes file by file and
writes nothing when the changed files pass the write-back limit.
"""

from __future__ import annotations

from a2a_temporal.sandbox.live_output import CHUNK_BYTES, MAX_EVENTS, LiveOutput
from a2a_temporal.testing import DevStack
from tests.security.exposure_agents import EXPOSURE_AGENTS, MIB
from tests.temporal_helpers import history, running


class Events:
    """Collects what `LiveOutput` sends."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    async def emit_text_delta(self, text: str) -> None:
        self.sent.append(("text_delta", text))

    async def emit_progress(self, message: str) -> None:
        self.sent.append(("progress", message))


async def test_a_flood_of_output_is_a_few_bounded_events_on_temporal(stack: DevStack) -> None:
    async with running(stack, EXPOSURE_AGENTS) as client:
        handle = await client.start("flooder", "flood")
        result = await handle.result()
        events = [e async for e in handle.events()]
        size = sum(
            len(e.SerializeToString()) for e in (await history(client, handle.task_id)).events
        )
    streamed = [e for e in events if e.kind in ("text_delta", "progress")]
    assert (result.status, result.output) == (
        "completed",
        {"exit_code": 0, "stdout": MIB, "stderr": MIB, "truncated": False},
    )
    assert len(streamed) <= 2 * MIB // CHUNK_BYTES + 20, len(streamed)
    assert sum(len(e.payload.get("text", "")) for e in streamed) == MIB, "stdout whole, in order"
    sizes = [len(e.payload.get("text") or e.payload.get("message") or "") for e in streamed]
    assert max(sizes) <= 64 * 1024, "each event is bounded (deltas merge up to 64 KiB)"
    assert size < 8 * MIB, f"history of {size} bytes"


async def test_the_live_view_stops_at_its_cap_with_a_marker() -> None:
    host = Events()
    output = LiveOutput(limit=64 * MIB, host=host)
    async with output.streaming():
        for _ in range(MAX_EVENTS + 50):
            await output.feed("stdout", b"x" * CHUNK_BYTES)
        await output.feed("stderr", b"late line\n")
    kinds = [kind for kind, _ in host.sent]
    assert kinds == ["text_delta"] * MAX_EVENTS + ["progress"]
    assert host.sent[-1][1].startswith(f"[live output stopped after {MAX_EVENTS} events")
    assert len(output.stdout) == (MAX_EVENTS + 50) * CHUNK_BYTES, "the result keeps it all"


async def test_write_back_over_its_limit_writes_nothing(stack: DevStack) -> None:
    async with running(stack, EXPOSURE_AGENTS, sandbox_write_back_limit=2 * MIB) as client:
        over = await client.call("flooder", "write_back")
    async with running(stack, EXPOSURE_AGENTS) as client:
        within = await client.call("flooder", "write_back")
    assert over.status == "failed"
    assert over.error is not None and "write-back limit" in over.error
    assert not list(
        stack.minio().list_objects(stack.bucket, f"task-workspaces/{over.task_id}/", recursive=True)
    ), "none of it was written back"
    assert (within.status, within.output) == ("completed", ["big-1", "big-2", "big-3"])
