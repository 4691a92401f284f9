"""Signed identities start one run each: which run chain first used a task id, in the bucket.

Temporal lets a workflow id be used again once its run has ended (with an id
reuse policy that allows it). A signed identity is bound to a task id, so a
second, unrelated run under the same id could replay it: workers record the
first run chain (`first_execution_run_id`) that used each signed task id and
refuse any other. The workflow's own continue-as-new keeps its chain.

A claim is one marker per chain (`identity-runs/<task id>/<chain>`), written
while the task's markers are listed, both at once: Temporal never runs two
chains of one workflow id at the same time, so a chain sees every chain
that ran before it, and a claim costs one round trip to the bucket.
"""

from __future__ import annotations

import asyncio
from urllib.parse import quote

from a2a_temporal.errors import IdentityRefused
from a2a_temporal.temporal.artifacts import storage_errors
from a2a_temporal.temporal.storage import ObjectStore

__all__ = ["RunClaims"]

_PREFIX = "identity-runs/"
_KNOWN_MAX = 10_000


class RunClaims:
    """The run chain each signed task id belongs to.

    Args:
        store: The bucket.
    """

    def __init__(self, store: ObjectStore) -> None:
        self._store = store
        self._known: dict[str, str] = {}

    async def claim(self, task_id: str, chain: str) -> None:
        """Record that run chain `chain` runs task `task_id`, unless another one did first.

        Raises:
            IdentityRefused: Another run chain already ran `task_id` with a signed identity.
            InfrastructureError: The bucket failed.
        """
        if self._known.get(task_id) == chain:
            return
        prefix = f"{_PREFIX}{quote(task_id, safe='')}/"
        own = prefix + quote(chain, safe="")
        with storage_errors():
            _, listed = await asyncio.gather(
                self._store.put_bytes(own, b"", "text/plain"), self._store.keys(prefix)
            )
        others = [key.removeprefix(prefix) for key in listed if key != own]
        if others:
            raise IdentityRefused(
                f"task id {task_id!r} already ran (run {others[0]}) with a signed identity; an "
                "identity starts one run, so a reused workflow id is refused"
            )
        if len(self._known) >= _KNOWN_MAX:
            self._known.clear()
        self._known[task_id] = chain
