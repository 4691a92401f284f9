"""Replay real `SkillRunWorkflow` histories to catch non-determinism."""

from temporalio.worker import Replayer

from a2a_temporal import AgentPlugin
from a2a_temporal.testing import DevStack
from tests.agents import Analyst, Delay, Flaky, Slow, Splitter, Writer
from tests.temporal_helpers import history, running, wait_started


async def test_histories_with_calls_events_cancel_and_failure_replay(stack: DevStack) -> None:
    agents = [Splitter(), Analyst(), Slow(), Flaky(failures=9), Writer()]
    async with running(stack, agents) as client:
        calls = await client.call("analyst", "report", args={"text": "x y"})
        nested = await client.call("analyst", "nested", args={"n": 2})
        streamed = await client.call("writer", "stream", args={"deltas": 300})
        failed = await client.call("flaky", "work")
        rejected = await client.call("splitter", "nope")
        canceled = await client.start("slow", "delegate", args=Delay(seconds=60))
        await wait_started(client, f"{canceled.task_id}/call-0")
        await canceled.cancel()
        assert (await canceled.result()).status == "canceled"
        timed_out = await client.call("slow", "delegate", args=Delay(seconds=60), timeout=1)
        ids = [
            calls.task_id,
            f"{calls.task_id}/call-0",
            nested.task_id,
            streamed.task_id,
            failed.task_id,
            rejected.task_id,
            canceled.task_id,
            f"{canceled.task_id}/call-0",
            timed_out.task_id,
        ]
        histories = [await history(client, task_id) for task_id in ids]
        plugin = AgentPlugin(agents, client.settings)
        replayer = Replayer(workflows=[], plugins=[plugin])
        for hist in histories:
            replayed = await replayer.replay_workflow(hist, raise_on_replay_failure=True)
            assert replayed.replay_failure is None
    assert [r.status for r in (calls, nested, streamed, failed, rejected, timed_out)] == [
        "completed",
        "completed",
        "completed",
        "failed",
        "rejected",
        "canceled",
    ]
