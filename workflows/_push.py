"""Push notifications: the webhooks told of a task's states, each told by its own workflow."""

from __future__ import annotations

import asyncio

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from a2a_temporal.temporal import wire
    from a2a_temporal.temporal.models import PushChange, PushDelivery, PushTarget, SkillOptions

__all__ = ["NOTIFIED", "Notifier"]

NOTIFIED = ("input-required", "completed", "failed", "canceled", "rejected")


class Notifier:
    """The task's webhooks, and the deliveries started for them.

    Args:
        targets: The webhooks.
        sent: Deliveries started so far (numbers the delivery workflows' ids).
    """

    def __init__(self, targets: list[PushTarget], sent: int) -> None:
        self.targets = list(targets)
        self.sent = sent
        self._starts: list[asyncio.Task[None]] = []

    def change(self, change: PushChange) -> list[PushTarget]:
        """Add, replace or delete a webhook; return the webhooks after the change."""
        self.targets = change.applied(self.targets)
        return self.targets

    def notify(self, state: str, options: SkillOptions | None) -> None:
        """Start one durable delivery per webhook; deliveries outlive the task."""
        task_id = workflow.info().workflow_id
        for target in self.targets:
            self.sent += 1
            delivery = PushDelivery(task_id=task_id, target=target, state=state)
            self._starts.append(asyncio.create_task(_start(delivery, self.sent, options)))

    async def started(self) -> None:
        """Wait until every delivery asked for so far has started."""
        await asyncio.gather(*self._starts)
        self._starts.clear()


async def _start(delivery: PushDelivery, number: int, options: SkillOptions | None) -> None:
    await workflow.start_child_workflow(
        wire.PUSH_DELIVERY_WORKFLOW,
        delivery,
        id=f"{delivery.task_id}/push-{number}",
        task_queue=options.task_queue if options else None,
        parent_close_policy=workflow.ParentClosePolicy.ABANDON,
        static_summary=f"notify {delivery.target.url} of {delivery.state}",
    )
