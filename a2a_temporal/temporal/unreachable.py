"""One plain line for a server that cannot be reached: which one, where, why, what to do.

Temporal's and urllib3's own errors name neither the setting nor the next
step (`tonic::transport::Error(Transport, ConnectError(...))`,
`MaxRetryError: HTTPConnectionPool(host=..., port=...)`).
"""

from __future__ import annotations

import re

import urllib3

from a2a_temporal.settings import AgentSettings
from a2a_temporal.temporal.connection import tls_wanted

__all__ = ["connection_reason", "s3_unreachable", "temporal_unreachable", "tls_problem"]

_DEV_HINT = "`a2a-temporal dev` starts a local one"
_OS_MESSAGE = re.compile(r'message: "([^"]+)"')
_ERRNO = re.compile(r"\[Errno -?\d+\] ([^)\]\n]+)")
_WIDTH = 160
_TLS_PROBLEMS = (
    (
        "unknownissuer",
        "its TLS certificate is not signed by a CA this process trusts (setting "
        "temporal_tls_ca_path: env A2A_TEMPORAL_TEMPORAL_TLS_CA_PATH or --tls-ca-path)",
    ),
    (
        "notvalidforname",
        "its TLS certificate is not for this host name (setting temporal_tls_server_name: env "
        "A2A_TEMPORAL_TEMPORAL_TLS_SERVER_NAME or --tls-server-name)",
    ),
    (
        "certificaterequired",
        "it requires a client certificate (settings temporal_tls_cert_path and "
        "temporal_tls_key_path: --tls-cert-path and --tls-key-path)",
    ),
    (
        "unknownca",
        "it does not accept the client certificate: not signed by a CA it trusts (settings "
        "temporal_tls_cert_path and temporal_tls_key_path)",
    ),
    (
        "invalidcontenttype",
        "it does not speak TLS on this port, or speaks it where TLS is off (setting "
        "temporal_tls: env A2A_TEMPORAL_TEMPORAL_TLS or --tls)",
    ),
)


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


def temporal_unreachable(settings: AgentSettings, exc: BaseException) -> str:
    """Why Temporal at the settings' address could not be reached, and what to do next."""
    address = settings.temporal_address
    text = str(exc)
    problem = tls_problem(text)
    if problem is None and tls_wanted(settings) and _closed_early(text):
        problem = (
            "it closed the connection during or right after the TLS handshake: it may "
            "require a client certificate or refuse this one (settings temporal_tls_cert_path "
            "and temporal_tls_key_path: --tls-cert-path and --tls-key-path)"
        )
    if problem is not None:
        return f"cannot reach Temporal at {address}: {problem}"
    return (
        f"cannot reach Temporal at {address}: {connection_reason(text)} (setting "
        f"temporal_address: env A2A_TEMPORAL_TEMPORAL_ADDRESS or --address; {_DEV_HINT})"
    )


def _closed_early(text: str) -> bool:
    lowered = text.lower()
    return any(marker in lowered for marker in ("operation was canceled", "unexpectedeof", "reset"))


def tls_problem(text: str) -> str | None:
    """What went wrong in a TLS handshake with Temporal, and the setting that fixes it."""
    lowered = text.lower()
    for marker, problem in _TLS_PROBLEMS:
        if marker in lowered:
            return problem
    return None


def s3_unreachable(exc: urllib3.exceptions.MaxRetryError) -> str:
    """Why the S3 server could not be reached, and what to do next."""
    pool = exc.pool
    endpoint = f"{pool.scheme}://{pool.host}:{pool.port}" if pool is not None else "its endpoint"
    reason = str(exc.reason)
    if "certificate verify failed" in reason.lower():
        return (
            f"cannot reach S3 at {endpoint}: its TLS certificate is not signed by a CA this "
            "process trusts (setting s3_ca_path: env A2A_TEMPORAL_S3_CA_PATH)"
        )
    return (
        f"cannot reach S3 at {endpoint}: {connection_reason(reason)} (setting "
        f"s3_endpoint: env A2A_TEMPORAL_S3_ENDPOINT; {_DEV_HINT})"
    )
