"""Load agents by import path and run a worker for them until stopped."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import os
import signal
import sys
from collections.abc import Iterable
from typing import NoReturn

import structlog
from structlog.typing import Processor
from temporalio import workflow
from temporalio.client import Client
from temporalio.worker import Worker

from a2a_temporal.core.agent import A2AAgent
from a2a_temporal.errors import InfrastructureError
from a2a_temporal.settings import AgentSettings
from a2a_temporal.temporal.connection import temporal_connect_options
from a2a_temporal.temporal.readiness import Readiness, unready
from a2a_temporal.temporal.storage import ObjectStore, minio_client
from a2a_temporal.temporal.tracing import configure_tracing, flush_tracing
from a2a_temporal.temporal.unreachable import temporal_unreachable
from a2a_temporal.worker.health import HealthServer
from a2a_temporal.worker.plugin import AgentPlugin

__all__ = [
    "configure_logging",
    "connect",
    "exit_process",
    "load_agents",
    "run_worker",
    "stop_on_signals",
]

log = structlog.get_logger("a2a_temporal.worker")
_CONNECT_TIMEOUT = 15.0


def configure_logging(settings: AgentSettings) -> None:
    """Send structlog's and the stdlib's logs (Temporal's) to stderr, as the settings say.

    JSON lines when `log_format` is `json` (or `auto` off a terminal), readable
    lines otherwise; each line from a skill run carries its task's fields
    (bound with `structlog.contextvars`).
    """
    level = logging.getLevelNamesMapping()[settings.log_level.upper()]
    as_json = settings.log_format == "json" or (
        settings.log_format == "auto" and not sys.stderr.isatty()
    )
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: Processor = (
        structlog.processors.JSONRenderer(default=str)
        if as_json
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                *([structlog.processors.format_exc_info] if as_json else []),
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    workflow.logger.workflow_info_on_message = False  # it is in the line's fields already
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.make_filtering_bound_logger(level),
        cache_logger_on_first_use=True,
    )


def load_agents(specs: Iterable[str]) -> list[A2AAgent]:
    """Import agents from `module:attr` specs.

    `attr` may name an agent instance, an agent class (instantiated with no
    arguments) or a list of agents.

    Raises:
        ValueError: A spec is malformed or names something that is not an agent.
    """
    agents: list[A2AAgent] = []
    for spec in specs:
        module_name, _, attr = spec.strip().partition(":")
        if not module_name or not attr:
            raise ValueError(f"agent spec {spec!r} must look like 'package.module:attr'")
        try:
            value = getattr(importlib.import_module(module_name), attr)
        except (ImportError, AttributeError) as exc:
            raise ValueError(f"cannot load {spec!r}: {exc}") from None
        if isinstance(value, type) and issubclass(value, A2AAgent):
            value = value()
        found = value if isinstance(value, list | tuple) else [value]
        for agent in found:
            if not isinstance(agent, A2AAgent):
                raise ValueError(f"{spec!r} is not an A2AAgent (got {type(agent).__name__})")
        agents.extend(found)
    return agents


async def run_worker(
    agents: list[A2AAgent],
    settings: AgentSettings,
    stop: asyncio.Event | None = None,
) -> None:
    """Connect with `AgentPlugin` and run a worker until `stop` is set (or forever).

    On `stop` it drains: `/readyz` turns 503, polling stops, and running skills
    get `worker_shutdown_grace` to finish before they are cancelled (their tasks
    go on on another worker). With `deployment_name` set, the worker is version
    `build_id` of that Temporal worker deployment (see `AgentPlugin`).
    """
    if settings.tracing:
        configure_tracing("a2a-temporal-worker")
    plugin = AgentPlugin(agents, settings)
    client = await connect(settings, plugin)
    grace = settings.worker_shutdown_grace
    async with contextlib.AsyncExitStack() as stack:
        worker = Worker(client, task_queue=settings.task_queue, graceful_shutdown_timeout=grace)
        health = None
        if settings.health_port is not None:
            store = ObjectStore(minio_client(settings), settings.s3_bucket)

            async def not_ready() -> list[str]:
                polling = [] if worker.is_running else ["the worker is not polling"]
                return polling + await unready(client, store, settings.s3_endpoint)

            readiness = Readiness(not_ready, ttl=0.0)  # probes come from the kubelet only
            health = await stack.enter_async_context(
                HealthServer(settings.health_port, readiness.reasons)
            )
        await stack.enter_async_context(worker)  # drains before the health server closes
        log.info(
            "worker started",
            task_queue=settings.task_queue,
            agents=[agent.name for agent in agents],
            temporal=settings.temporal_address,
            health_port=settings.health_port,
            deployment_name=settings.deployment_name or None,
            build_id=settings.build_id or None,
        )
        await (stop or asyncio.Event()).wait()
        if health is not None:
            health.draining = True
        log.info("worker draining", grace_seconds=grace.total_seconds())
    flush_tracing()
    log.info("worker stopped")


async def connect(settings: AgentSettings, plugin: AgentPlugin) -> Client:
    """Connect to the Temporal the settings name (TLS, mTLS, API key as set), with `plugin`.

    Raises:
        InfrastructureError: Temporal cannot be reached (one line: where, why, what to do).
        ValueError: A TLS setting is inconsistent or names a file that cannot be read.
    """
    options = temporal_connect_options(settings)
    try:
        return await asyncio.wait_for(
            Client.connect(settings.temporal_address, plugins=[plugin], **options),
            timeout=_CONNECT_TIMEOUT,
        )
    except (RuntimeError, TimeoutError) as exc:
        raise InfrastructureError(temporal_unreachable(settings, exc)) from None


def stop_on_signals() -> asyncio.Event:
    """Return an event set on SIGINT or SIGTERM (for a graceful stop of servers and workers)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop


def exit_process(code: int) -> NoReturn:
    """Flush output and exit without interpreter teardown.

    Skipping teardown avoids a crash of Temporal's native runtime threads that
    can happen while Python finalizes after a client was used.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
