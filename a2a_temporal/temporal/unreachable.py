"""One plain line for a server that cannot be reached: which one, where, why, what to do.

Temporal's and urllib3's own errors name neither the setting nor the next
step (`tonic::transport::Error(Transport, ConnectError(...))`,
`MaxRetryError: HTTPConnectionPool(host=..., port=...)`).
"""

from __future__ import annotations

import re

import urllib3

__all__ = ["connection_reason", "s3_unreachable", "temporal_unreachable"]

_DEV_HINT = "`a2a-temporal dev` starts a local one"
_OS_MESSAGE = re.compile(r'message: "([^"]+)"')
_ERRNO = re.compile(r"\[Errno -?\d+\] ([^)\]\n]+)")
_WIDTH = 160


def connection_reason(text: str) -> str:
    """The human part of a connection error's text: `connection refused`, not its wrapping."""
    lowered = text.lower()
    if "dns error" in lowered or "name or service not known" in lowered:
        return "the name does not resolve"
    if "timed out" in lowered or "deadline" in lowered:
        return "no answer in time"
    for pattern in (_OS_MESSAGE, _ERRNO):
        found = pattern.search(text)
        if found:
            return found.group(1).strip().lower()
    if "tls" in lowered or "certificate" in lowered or "ssl" in lowered:
        return f"TLS failed: {' '.join(text.split())[:_WIDTH]}"
    return " ".join(text.split())[:_WIDTH]


def temporal_unreachable(address: str, exc: BaseException) -> str:
    """Why Temporal at `address` could not be reached, and what to do next."""
    return (
        f"cannot reach Temporal at {address}: {connection_reason(str(exc))} (setting "
        f"temporal_address: env A2A_TEMPORAL_TEMPORAL_ADDRESS or --address; {_DEV_HINT})"
    )


def s3_unreachable(exc: urllib3.exceptions.MaxRetryError) -> str:
    """Why the S3 server could not be reached, and what to do next."""
    pool = exc.pool
    endpoint = f"{pool.scheme}://{pool.host}:{pool.port}" if pool is not None else "its endpoint"
    return (
        f"cannot reach S3 at {endpoint}: {connection_reason(str(exc.reason))} (setting "
        f"s3_endpoint: env A2A_TEMPORAL_S3_ENDPOINT; {_DEV_HINT})"
    )
