"""Raw temporalio baselines: the same work without a2a-temporal (imports only temporalio)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import activity, workflow


@activity.defn
async def raw_noop(text: str) -> str:
    return text.upper()


@workflow.defn
class RawOneActivity:
    @workflow.run
    async def run(self, text: str) -> str:
        return await workflow.execute_activity(
            raw_noop, text, start_to_close_timeout=timedelta(seconds=60)
        )


@workflow.defn
class RawFanOut:
    @workflow.run
    async def run(self, n: int) -> list[str]:
        info = workflow.info()
        return list(
            await asyncio.gather(
                *(
                    workflow.execute_child_workflow(
                        RawOneActivity.run, f"t{i}", id=f"{info.workflow_id}/c{i}"
                    )
                    for i in range(n)
                )
            )
        )


@workflow.defn
class RawSequential:
    @workflow.run
    async def run(self, n: int) -> list[str]:
        info = workflow.info()
        return [
            await workflow.execute_child_workflow(
                RawOneActivity.run, f"t{i}", id=f"{info.workflow_id}/s{i}"
            )
            for i in range(n)
        ]


@workflow.defn
class RawLimitedFanOut:
    @workflow.run
    async def run(self, n: int, limit: int) -> int:
        info = workflow.info()
        waiting = list(range(n))
        active: set[asyncio.Task[str]] = set()
        done_count = 0
        while waiting or active:
            while waiting and len(active) < limit:
                i = waiting.pop(0)
                active.add(
                    asyncio.create_task(
                        workflow.execute_child_workflow(
                            RawOneActivity.run, f"t{i}", id=f"{info.workflow_id}/m{i}"
                        )
                    )
                )
            done, pending = await workflow.wait(active, return_when=asyncio.FIRST_COMPLETED)
            active = set(pending)
            done_count += len(done)
        return done_count
