"""The `deliver_push` activity: tell a webhook about a task's state (A2A push notifications)."""

from __future__ import annotations

from typing import Any

import httpx
from temporalio import activity
from temporalio.exceptions import ApplicationError

from a2a_temporal._extras import A2A_EXTRA_HINT
from a2a_temporal.errors import OutboundRefused
from a2a_temporal.settings import AgentSettings
from a2a_temporal.temporal.models import PushDelivery
from a2a_temporal.temporal.storage import ObjectStore
from a2a_temporal.temporal.wire import DELIVER_PUSH_ACTIVITY, PUSH_REFUSED_ERROR_TYPE
from a2a_temporal.trust.guarded_http import guarded_client

__all__ = ["PushActivities"]

_RETRIED_STATUSES = (408, 425, 429)


class PushActivities:
    """Delivers push notifications: the task as the A2A gateway shows it, POSTed as JSON.

    Args:
        store: Where the task's artifacts are (small ones go inline).
        settings: Artifact inline limit and link lifetime.
    """

    def __init__(self, store: ObjectStore, settings: AgentSettings) -> None:
        self._store = store
        self._settings = settings
        self._outbound = settings.outbound()

    def definitions(self) -> list[Any]:
        """The activity callables to register on a worker."""
        return [self.deliver_push]

    @activity.defn(name=DELIVER_PUSH_ACTIVITY)
    async def deliver_push(self, delivery: PushDelivery) -> None:
        """POST the task to the webhook; anything but a refusal is retried.

        A 4xx answer, or a URL where requests may not go (`outbound_allow`), is final.
        """
        try:
            from google.protobuf.json_format import MessageToDict

            from a2a_temporal.protocol.tasks import ArtifactParts, TaskReader
        except ImportError:
            raise ApplicationError(
                f"push notifications need the A2A extra on workers: {A2A_EXTRA_HINT}",
                type=PUSH_REFUSED_ERROR_TYPE,
                non_retryable=True,
            ) from None
        reader = TaskReader(
            activity.client(),
            ArtifactParts(self._store, self._settings),
        )
        info = await reader.info(delivery.task_id)
        if info is None:
            raise ApplicationError(
                f"task {delivery.task_id!r} does not exist",
                type=PUSH_REFUSED_ERROR_TYPE,
                non_retryable=True,
            )
        task = await reader.task(info)
        target = delivery.target
        headers = {}
        if target.token:
            headers["X-A2A-Notification-Token"] = target.token
        if target.auth_scheme and target.auth_credentials:
            headers["Authorization"] = f"{target.auth_scheme} {target.auth_credentials}"
        async with guarded_client(self._outbound, what="push webhook URL", timeout=20.0) as http:
            try:
                response = await http.post(
                    target.url, json={"task": MessageToDict(task)}, headers=headers
                )
            except OutboundRefused as exc:
                raise ApplicationError(
                    str(exc), type=PUSH_REFUSED_ERROR_TYPE, non_retryable=True
                ) from None
            except httpx.HTTPError as exc:
                raise ApplicationError(f"{target.url} is unreachable: {exc}") from None
        if response.status_code < 300:
            return
        message = f"{target.url} answered {response.status_code} for {delivery.state}"
        if 400 <= response.status_code < 500 and response.status_code not in _RETRIED_STATUSES:
            raise ApplicationError(message, type=PUSH_REFUSED_ERROR_TYPE, non_retryable=True)
        raise ApplicationError(message)
