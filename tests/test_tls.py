"""Temporal and S3 behind real TLS: mTLS, a server name, an API key; refusals in one line.

A TLS terminator (`tests/tls_terminator.py`) stands in front of the dev
server's gRPC port and the S3 server, with a CA made for the test.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from temporalio.worker import Worker

from a2a_temporal.errors import InfrastructureError
from a2a_temporal.settings import AgentSettings
from a2a_temporal.temporal.client import TemporalA2AClient
from a2a_temporal.temporal.storage import ObjectStore, minio_client
from a2a_temporal.testing import DevStack
from a2a_temporal.worker.plugin import AgentPlugin
from a2a_temporal.worker.run import connect
from tests.agents import Analyst, Splitter
from tests.cli_helpers import cli
from tests.tls_terminator import LocalCA, Pem, TlsTerminator

SERVER_NAME = "temporal.test"


@contextlib.asynccontextmanager
async def connected(settings: AgentSettings, agents: list[Any]) -> AsyncIterator[TemporalA2AClient]:
    """A worker and a client that reach Temporal (and S3) as `settings` say, as processes do."""
    worker_client = await connect(settings, AgentPlugin(agents, settings))
    async with Worker(worker_client, task_queue=settings.task_queue):
        yield TemporalA2AClient(await connect(settings, AgentPlugin([], settings)))


@pytest.fixture
def ca(tmp_path: Path) -> LocalCA:
    return LocalCA(tmp_path / "pki")


@pytest.fixture
def server_cert(ca: LocalCA) -> Pem:
    return ca.issue("server", hosts=(SERVER_NAME, "127.0.0.1"))


async def test_a_worker_and_a_client_run_a_call_over_mtls_with_s3_over_https(
    stack: DevStack, ca: LocalCA, server_cert: Pem
) -> None:
    client_cert = ca.issue("worker", client=True)
    s3_port = int(urlsplit(stack.s3_endpoint).port or 0)
    temporal_port = int(stack.temporal_address.rsplit(":", 1)[1])
    async with (
        TlsTerminator(temporal_port, server_cert, client_ca=ca.cert) as temporal,
        TlsTerminator(s3_port, server_cert) as s3,
    ):
        settings = stack.settings(
            temporal_address=temporal.address,
            temporal_tls_ca_path=ca.cert,
            temporal_tls_cert_path=client_cert.cert,
            temporal_tls_key_path=client_cert.key,
            temporal_tls_server_name=SERVER_NAME,
            s3_endpoint=f"https://{s3.address}",
            s3_ca_path=ca.cert,
            task_queue=f"tls-{uuid.uuid4().hex[:8]}",
        )
        async with connected(settings, [Analyst(), Splitter()]) as client:
            result = await client.call("analyst", "report", args={"text": "over tls"})
        assert result.ok, result.error
        assert result.output["report"] == "2 words: OVER TLS"
        [artifact] = result.artifacts
        store = ObjectStore(minio_client(settings), settings.s3_bucket)
        key = artifact.uri.split(f"{settings.s3_bucket}/", 1)[1]
        assert await store.get(key) == b"2 words: OVER TLS", "read back over HTTPS"
    assert temporal.refused_handshakes == 0


async def test_a_foreign_ca_or_a_missing_client_certificate_is_one_line_naming_the_fix(
    stack: DevStack, ca: LocalCA, server_cert: Pem, tmp_path: Path
) -> None:
    other = LocalCA(tmp_path / "other", name="someone else's CA")
    client_cert = ca.issue("worker", client=True)
    temporal_port = int(stack.temporal_address.rsplit(":", 1)[1])
    async with TlsTerminator(temporal_port, server_cert, client_ca=ca.cert) as temporal:
        base = stack.settings(
            temporal_address=temporal.address, temporal_tls_server_name=SERVER_NAME
        )
        foreign = base.model_copy(
            update={
                "temporal_tls_ca_path": other.cert,
                "temporal_tls_cert_path": client_cert.cert,
                "temporal_tls_key_path": client_cert.key,
            }
        )
        with pytest.raises(InfrastructureError) as refused:
            await connect(foreign, AgentPlugin([], foreign))
        line = str(refused.value)
        assert "\n" not in line and temporal.address in line
        assert "certificate" in line and "temporal_tls_ca_path" in line

        anonymous = base.model_copy(update={"temporal_tls_ca_path": ca.cert})
        with pytest.raises(InfrastructureError) as refused:
            await connect(anonymous, AgentPlugin([], anonymous))
        line = str(refused.value)
        assert "\n" not in line and temporal.address in line
        assert "client certificate" in line and "temporal_tls_cert_path" in line

    s3_port = int(urlsplit(stack.s3_endpoint).port or 0)
    async with TlsTerminator(s3_port, server_cert) as s3:
        untrusted = stack.settings(s3_endpoint=f"https://{s3.address}", s3_ca_path=other.cert)
        store = ObjectStore(minio_client(untrusted), untrusted.s3_bucket)
        with pytest.raises(InfrastructureError) as refused:
            await store.get("anything")
    line = str(refused.value)
    assert line.startswith(f"cannot reach S3 at https://{s3.address}: its TLS certificate")
    assert "s3_ca_path" in line

    with pytest.raises(ValueError, match="temporal_tls_key_path"):
        half = base.model_copy(update={"temporal_tls_cert_path": client_cert.cert})
        await connect(half, AgentPlugin([], half))
    with pytest.raises(ValueError, match="cannot read temporal_tls_ca_path"):
        missing = base.model_copy(update={"temporal_tls_ca_path": tmp_path / "nope.pem"})
        await connect(missing, AgentPlugin([], missing))


async def test_an_api_key_reaches_the_server_on_every_call(
    stack: DevStack, ca: LocalCA, server_cert: Pem
) -> None:
    temporal_port = int(stack.temporal_address.rsplit(":", 1)[1])
    async with TlsTerminator(temporal_port, server_cert, api_key="key-123") as temporal:
        settings = stack.settings(
            temporal_address=temporal.address,
            temporal_tls_ca_path=ca.cert,
            temporal_tls_server_name=SERVER_NAME,
            temporal_api_key="key-123",
            task_queue=f"key-{uuid.uuid4().hex[:8]}",
        )
        async with connected(settings, [Splitter()]) as client:
            result = await client.call("splitter", "split", args={"text": "a b c"})
        assert result.output == {"words": ["a", "b", "c"], "count": 3}
        assert len(temporal.authorizations) >= 5
        assert set(temporal.authorizations) == {"Bearer key-123"}

        keyless = settings.model_copy(update={"temporal_api_key": None})
        with pytest.raises(InfrastructureError) as refused:
            await connect(keyless, AgentPlugin([], keyless))
        assert temporal.address in str(refused.value)
        assert temporal.authorizations[-1] == "", "the keyless call was seen and dropped"


async def test_the_cli_takes_the_temporal_clis_tls_flags(
    stack: DevStack, ca: LocalCA, server_cert: Pem
) -> None:
    client_cert = ca.issue("cli", client=True)
    temporal_port = int(stack.temporal_address.rsplit(":", 1)[1])
    async with TlsTerminator(temporal_port, server_cert, client_ca=ca.cert) as temporal:
        flags = [
            f"--address={temporal.address}",
            "--tls",
            f"--tls-ca-path={ca.cert}",
            f"--tls-cert-path={client_cert.cert}",
            f"--tls-key-path={client_cert.key}",
            f"--tls-server-name={SERVER_NAME}",
        ]
        env = {**os.environ, **stack.environment()}
        code, _, err = await cli(env, *flags, "agents")
        assert code == 0, err
        code, _, err = await cli(env, f"--address={temporal.address}", "--tls", "agents")
    assert code == 2
    [line] = err.strip().splitlines()
    assert line.startswith(f"a2a-temporal: error: cannot reach Temporal at {temporal.address}")
