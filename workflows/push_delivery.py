"""`PushDeliveryWorkflow`: tell one webhook about one state of a task, retrying until it listens."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from a2a_temporal.temporal.models import PushDelivery
    from a2a_temporal.temporal.wire import (
        DELIVER_PUSH_ACTIVITY,
        PUSH_DELIVERY_WORKFLOW,
        PUSH_REFUSED_ERROR_TYPE,
    )

__all__ = ["PushDeliveryWorkflow"]


@workflow.defn(name=PUSH_DELIVERY_WORKFLOW)
class PushDeliveryWorkflow:
    """Delivers a notification with retries and backoff for up to a day.

    A webhook that is down for a while still gets the notification once it is
    back; one that refuses it (4xx other than 408 and 429) is not asked again.
    """

    @workflow.run
    async def run(self, delivery: PushDelivery) -> str:
        """Deliver; return how it went."""
        await workflow.execute_activity(
            DELIVER_PUSH_ACTIVITY,
            delivery,
            start_to_close_timeout=timedelta(seconds=30),
            schedule_to_close_timeout=timedelta(days=1),
            retry_policy=RetryPolicy(
                initial_interval=timedelta(seconds=1),
                maximum_interval=timedelta(seconds=60),
                non_retryable_error_types=[PUSH_REFUSED_ERROR_TYPE],
            ),
            summary=f"POST {delivery.target.url}",
        )
        return "delivered"
