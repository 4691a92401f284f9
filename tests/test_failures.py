"""Every skill error reaches the caller as itself, promptly, whatever the exception."""

from __future__ import annotations

import uuid

from a2a_temporal import InMemoryA2AClient
from a2a_temporal.testing import DevStack
from tests.agents import Broken
from tests.temporal_helpers import running


async def test_errors_that_are_hard_to_report_are_reported(stack: DevStack) -> None:
    key = uuid.uuid4().hex
    local = InMemoryA2AClient([Broken()])
    async with running(stack, [Broken()]) as client:
        for where, caller in (("local", local), ("temporal", client)):
            bad_str = await caller.call("broken", "bad_str", args={"key": f"{key}-{where}-str"})
            huge = await caller.call("broken", "huge_message", args={"key": f"{key}-{where}-huge"})
            result = await caller.call(
                "broken", "unserialisable", args={"key": f"{key}-{where}-json"}
            )
            assert (bad_str.status, bad_str.error) == (
                "failed",
                "BadStr: <the message could not be rendered: ValueError>",
            )
            assert Broken.attempts[f"{key}-{where}-str"] == 2, "retried as usual"
            assert huge.status == "failed"
            assert huge.error is not None
            assert huge.error.startswith("ValueError: xxxx")
            assert huge.error.endswith("... [4996000 more characters]")
            assert result.status == "failed"
            assert result.error is not None
            assert result.error.startswith(
                "OutputNotSerializable: skill 'unserialisable' returned a object"
            )
            assert Broken.attempts[f"{key}-{where}-json"] == 1, "deterministic: not retried"
