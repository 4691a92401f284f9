"""Whether a process can do its work now: Temporal answers and S3 answers.

Readiness probes (a worker's `/readyz`, the gateway's) ask this; each check
is bounded, so a probe never hangs on a server that does not answer, and
`Readiness` shares one check among the probes of a second, so probes (the
gateway's are public) cannot multiply the calls to Temporal and S3.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta

from minio.error import S3Error
from temporalio.client import Client
from temporalio.service import RPCError

from a2a_temporal.errors import InfrastructureError
from a2a_temporal.temporal.storage import ObjectStore

__all__ = ["Readiness", "unready"]

_CHECK_TIMEOUT = 3.0
_PROBE_KEY = "health/probe"


class Readiness:
    """The reasons `check` gives, one check at a time, reused for `ttl` seconds.

    Probes that arrive while a check runs wait for it and share its answer.
    """

    def __init__(self, check: Callable[[], Awaitable[list[str]]], ttl: float = 1.0) -> None:
        self._check = check
        self._ttl = ttl
        self._lock = asyncio.Lock()
        self._checked_at: float | None = None
        self._reasons: list[str] = []

    async def reasons(self) -> list[str]:
        """Why the process is not ready (empty when it is)."""
        asked_at = time.monotonic()
        async with self._lock:
            if self._checked_at is None or self._checked_at < asked_at - self._ttl:
                self._reasons = await self._check()
                self._checked_at = time.monotonic()
            return self._reasons


async def unready(client: Client, store: ObjectStore, s3_endpoint: str) -> list[str]:
    """Why the process is not ready (empty when it is): one reason per server that fails."""
    temporal, s3 = await asyncio.gather(_temporal(client), _s3(store, s3_endpoint))
    return [reason for reason in (temporal, s3) if reason]


async def _temporal(client: Client) -> str:
    try:
        healthy = await client.service_client.check_health(
            timeout=timedelta(seconds=_CHECK_TIMEOUT)
        )
    except (RPCError, RuntimeError) as exc:
        return f"Temporal does not answer: {' '.join(str(exc).split())[:200]}"
    return "" if healthy else "Temporal says it is not serving"


async def _s3(store: ObjectStore, endpoint: str) -> str:
    try:
        await asyncio.wait_for(store.exists(_PROBE_KEY), _CHECK_TIMEOUT)
    except InfrastructureError as exc:
        return str(exc)
    except TimeoutError:
        return f"cannot reach S3 at {endpoint}: no answer within {_CHECK_TIMEOUT:g} s"
    except S3Error as exc:
        return f"S3 refuses to read the bucket: {exc.code}"
    return ""
