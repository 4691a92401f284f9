"""Whether a process can do its work now: Temporal answers and S3 answers.

Readiness probes (a worker's `/readyz`, the gateway's) ask this; each check
is bounded, so a probe never hangs on a server that does not answer.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from minio.error import S3Error
from temporalio.client import Client
from temporalio.service import RPCError

from a2a_temporal.errors import InfrastructureError
from a2a_temporal.temporal.storage import ObjectStore

__all__ = ["unready"]

_CHECK_TIMEOUT = 3.0
_PROBE_KEY = "health/probe"


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
