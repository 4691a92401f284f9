"""A re-run that makes other calls: `fail` for deterministic code, `supersede` for LLM agents."""

from __future__ import annotations

import asyncio
from pathlib import Path

from a2a_temporal.testing import DevStack
from tests.agents import Chooser, Splitter
from tests.temporal_helpers import running


async def _settled(path: Path, limit: float = 30.0) -> str:
    async with asyncio.timeout(limit):
        while not path.exists():
            await asyncio.sleep(0.05)
    return path.read_text()


async def test_fail_policy_reports_the_other_call(stack: DevStack, tmp_path: Path) -> None:
    async with running(stack, [Chooser(), Splitter()]) as client:
        result = await client.call("chooser", "pick", args={"path": str(tmp_path)})
    assert result.status == "failed"
    assert result.error is not None
    assert result.error.startswith("CallMismatch: call #0 asks for splitter.upper")
    assert "chooser.linger" in result.error
    assert result.superseded_calls == ()


async def test_supersede_policy_replaces_the_earlier_calls(stack: DevStack, tmp_path: Path) -> None:
    async with running(stack, [Chooser(), Splitter()]) as client:
        handle = await client.start("chooser", "pick_freely", args={"path": str(tmp_path)})
        result = await handle.result()
        events = [e async for e in handle.events()]
        first = await client.get_task(f"{handle.task_id}/call-0").result()
        second = await client.get_task(f"{handle.task_id}/call-0-r1").result()
    assert (result.status, result.output) == ("completed", "SECOND THOUGHTS")
    assert result.superseded_calls == (f"{handle.task_id}/call-0",)
    assert first.status == "canceled", "the superseded call was still running: cancelled"
    assert await _settled(tmp_path / "linger-cancelled") == "CancelledByCaller"
    assert (second.status, second.output) == ("completed", "SECOND THOUGHTS")
    diverged = [e.payload for e in events if e.kind == "diverged"]
    assert diverged == [{"superseded_calls": [f"{handle.task_id}/call-0"], "from_call": 0}]
