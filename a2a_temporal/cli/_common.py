"""What every command shares: settings and the client, JSON arguments, one-line errors."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from temporalio.service import RPCError

from a2a_temporal.cli._inspect import Kind, WrongKind, expect_kind, has_pollers, task_queue_of
from a2a_temporal.cli.follow import Answerer
from a2a_temporal.errors import UnknownTask
from a2a_temporal.settings import AgentSettings
from a2a_temporal.temporal.client import TemporalA2AClient
from a2a_temporal.worker.plugin import AgentPlugin
from a2a_temporal.worker.run import configure_logging, connect, stop_on_signals

__all__ = [
    "CliError",
    "answerer",
    "client_for",
    "expect",
    "json_arg",
    "one_line",
    "serve_app",
    "settings_for",
    "warn_when_unpolled",
]

_POLLER_GRACE = 5.0


class CliError(Exception):
    """A problem to report on one line, without a traceback."""


def one_line(text: str) -> str:
    """`text` with its whitespace (newlines too) collapsed to single spaces."""
    return " ".join(text.split())


_FLAG_SETTINGS = {
    "address": "temporal_address",
    "namespace": "namespace",
    "tls": "temporal_tls",
    "tls_ca_path": "temporal_tls_ca_path",
    "tls_cert_path": "temporal_tls_cert_path",
    "tls_key_path": "temporal_tls_key_path",
    "tls_server_name": "temporal_tls_server_name",
    "api_key": "temporal_api_key",
}


def settings_for(args: argparse.Namespace, **overrides: Any) -> AgentSettings:
    """Settings from the environment, with the command line's connection flags on top."""
    for flag, setting in _FLAG_SETTINGS.items():
        value = getattr(args, flag, None)
        if value is not None and value != "":
            overrides[setting] = value
    try:
        return AgentSettings.from_env(**overrides)
    except ValueError as exc:
        raise CliError(str(exc)) from None


async def client_for(args: argparse.Namespace, *, serving: bool = False) -> TemporalA2AClient:
    """A client for the Temporal the settings name; `InfrastructureError` when unreachable.

    Only a serving process (the gateway) exports metrics on `metrics_port`: a
    one-off command next to a worker must not take the worker's port.
    """
    settings = settings_for(args)
    plugin = AgentPlugin([], settings, export_metrics=serving)
    return TemporalA2AClient(await connect(settings, plugin))


def json_arg(text: str, what: str) -> Any:
    """Parse a JSON argument given inline, as `@FILE` or as `-` (stdin)."""
    if text == "-":
        text = sys.stdin.read()
    elif text.startswith("@"):
        try:
            text = Path(text[1:]).read_text()
        except OSError as exc:
            raise CliError(f"cannot read {what} from {text[1:]}: {exc.strerror}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise CliError(f"{what} is not valid JSON: {exc}") from None
    except RecursionError:
        raise CliError(f"{what} is nested too deeply") from None


async def expect(client: TemporalA2AClient, workflow_id: str, kind: Kind) -> None:
    """Check that `workflow_id` names a `kind`; say which command fits when it does not."""
    try:
        await expect_kind(client.temporal, workflow_id, kind)
    except LookupError:
        raise UnknownTask(f"no {kind} {workflow_id!r}") from None
    except WrongKind as exc:
        raise CliError(str(exc)) from None


def answerer(client: TemporalA2AClient) -> Answerer:
    """Answers questions asked while following, and says so."""

    async def answer(task_id: str, question_id: str, value: Any) -> None:
        await client.get_task(task_id).answer(question_id, value)
        print(f"  answered {question_id} of {task_id}", flush=True)

    return answer


@contextlib.asynccontextmanager
async def warn_when_unpolled(client: TemporalA2AClient, workflow_id: str) -> AsyncIterator[None]:
    """Say once, after a few seconds, if no worker polls the queue the work waits on."""

    async def check() -> None:
        await asyncio.sleep(_POLLER_GRACE)
        queue = await task_queue_of(client.temporal, workflow_id)
        if not await has_pollers(client.temporal, queue):
            print(
                f"a2a-temporal: no worker is polling task queue {queue!r}; start one with "
                f"`a2a-temporal worker --agents module:attr --task-queue {queue}` "
                "(or `a2a-temporal dev --agents module:attr`)",
                file=sys.stderr,
                flush=True,
            )

    warning = asyncio.create_task(check())
    try:
        yield
    finally:
        warning.cancel()
        with contextlib.suppress(asyncio.CancelledError, RPCError):
            await warning


async def serve_app(
    app: Any,
    host: str,
    port: int,
    settings: AgentSettings,
    *,
    on_stop: Callable[[], None] | None = None,
    grace: int | None = None,
) -> int:
    """Serve an ASGI app with uvicorn until SIGINT or SIGTERM.

    On the signal `on_stop` runs, new connections are refused, and open ones
    (streams) get `grace` seconds to end before they are closed.
    """
    import uvicorn

    configure_logging(settings)
    config = uvicorn.Config(
        app, host=host, port=port, log_config=None, timeout_graceful_shutdown=grace
    )
    server = uvicorn.Server(config)
    stop = stop_on_signals()
    serving = asyncio.create_task(server.serve())
    await asyncio.wait([serving, asyncio.create_task(stop.wait())], return_when="FIRST_COMPLETED")
    if on_stop is not None:
        on_stop()
    server.should_exit = True
    await serving
    return 0
