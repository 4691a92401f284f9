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
