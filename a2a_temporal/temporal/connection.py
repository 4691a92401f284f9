"""How a process reaches Temporal and S3 from its settings: TLS, client certificates, API keys.

Every process the product starts (worker, client, gateway, CLI) connects
through these, so a cluster behind TLS, Temporal Cloud, or S3 over HTTPS
needs settings only. A file a setting names that cannot be read is a
`ValueError` naming the setting.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import urllib3
from minio.credentials.providers import (
    AWSConfigProvider,
    ChainedProvider,
    EnvAWSProvider,
    IamAwsProvider,
    Provider,
    StaticProvider,
)
from temporalio.service import TLSConfig

from a2a_temporal.settings import ENV_PREFIX, AgentSettings

__all__ = [
    "s3_credentials",
    "s3_http_client",
    "temporal_connect_options",
    "temporal_tls",
    "tls_wanted",
    "virtual_host_style",
]

_S3_TIMEOUT = 300.0


def tls_wanted(settings: AgentSettings) -> bool:
    """Whether the settings reach Temporal over TLS: `temporal_tls`, else any TLS setting or key."""
    if settings.temporal_tls is not None:
        return settings.temporal_tls
    return bool(settings.temporal_api_key) or any(
        value is not None
        for value in (
            settings.temporal_tls_ca_path,
            settings.temporal_tls_cert_path,
            settings.temporal_tls_server_name,
        )
    )


def temporal_tls(settings: AgentSettings) -> TLSConfig | bool:
    """The `tls` argument of `Client.connect` for the settings."""
    cert, key = settings.temporal_tls_cert_path, settings.temporal_tls_key_path
    if (cert is None) != (key is None):
        raise ValueError(
            "mTLS needs both temporal_tls_cert_path and temporal_tls_key_path (env "
            f"{ENV_PREFIX}TEMPORAL_TLS_CERT_PATH and {ENV_PREFIX}TEMPORAL_TLS_KEY_PATH, or "
            "--tls-cert-path and --tls-key-path); only one is set"
        )
    configured = any(
        value is not None
        for value in (settings.temporal_tls_ca_path, cert, settings.temporal_tls_server_name)
    )
    if settings.temporal_tls is False:
        if configured:
            raise ValueError(
                "temporal_tls is off but TLS files or a server name are set: turn it on or "
                "remove them"
            )
        return False
    if not configured:
        return tls_wanted(settings)
    return TLSConfig(
        server_root_ca_cert=_read(settings.temporal_tls_ca_path, "temporal_tls_ca_path"),
        client_cert=_read(cert, "temporal_tls_cert_path"),
        client_private_key=_read(key, "temporal_tls_key_path"),
        domain=settings.temporal_tls_server_name,
    )


def temporal_connect_options(settings: AgentSettings) -> dict[str, Any]:
    """Keyword arguments of `Client.connect` for the settings (namespace, TLS, API key)."""
    return {
        "namespace": settings.namespace,
        "tls": temporal_tls(settings),
        "api_key": settings.temporal_api_key or None,
    }


def s3_http_client(settings: AgentSettings) -> urllib3.PoolManager | None:
    """The HTTP pool for the `minio` client: its own, trusting `s3_ca_path` (None: the default).

    The pool is `minio`'s default one, with the CA file in place of `certifi`'s.
    """
    ca = settings.s3_ca_path
    if ca is None:
        return None
    _read(ca, "s3_ca_path")
    return urllib3.PoolManager(
        timeout=urllib3.Timeout(connect=_S3_TIMEOUT, read=_S3_TIMEOUT),
        maxsize=10,
        cert_reqs="CERT_REQUIRED",
        ca_certs=str(ca),
        retries=urllib3.Retry(total=5, backoff_factor=0.2, status_forcelist=[500, 502, 503, 504]),
    )


def s3_credentials(settings: AgentSettings) -> Provider:
    """Static keys when set; else the standard AWS chain (env, web identity, files, instance)."""
    if settings.s3_access_key or settings.s3_secret_key:
        return StaticProvider(settings.s3_access_key, settings.s3_secret_key)
    return ChainedProvider([EnvAWSProvider(), AWSConfigProvider(), IamAwsProvider()])


def virtual_host_style(settings: AgentSettings) -> bool:
    """Whether buckets go in the host name (`s3_addressing`; `auto`: for AWS endpoints)."""
    if settings.s3_addressing != "auto":
        return settings.s3_addressing == "virtual"
    host = urlsplit(settings.s3_endpoint).hostname or ""
    return host.endswith(".amazonaws.com")


def _read(path: Path | None, setting: str) -> bytes | None:
    if path is None:
        return None
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ValueError(
            f"cannot read {setting} {path}: {exc.strerror} (env {ENV_PREFIX}{setting.upper()})"
        ) from None
