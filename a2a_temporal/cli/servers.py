"""Commands that run until Ctrl-C: `dev`, `worker`, `serve` (the A2A gateway), `codec-server`."""

from __future__ import annotations

import argparse
import shlex
from typing import Any

from a2a_temporal._extras import require_a2a_sdk
from a2a_temporal.cli._common import CliError, client_for, serve_app, settings_for
from a2a_temporal.core.secrets import SecretResolver
from a2a_temporal.settings import ENV_PREFIX
from a2a_temporal.temporal.converter import payload_encryption
from a2a_temporal.temporal.tracing import configure_tracing, flush_tracing
from a2a_temporal.testing import DevStack
from a2a_temporal.worker.run import configure_logging, load_agents, run_worker, stop_on_signals

__all__ = ["add_commands"]


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the server commands."""
    dev = commands.add_parser("dev", help="run the embedded Temporal + S3 dev stack until Ctrl-C")
    dev.add_argument("--data-dir", help="keep the SQLite file and logs here (default: temp dir)")
    dev.add_argument("--bucket", default="a2a-temporal", help="bucket to create (%(default)s)")
    dev.add_argument("--agents", help="also run a worker for these module:attr agents")
    dev.set_defaults(handler=_dev)

    worker = commands.add_parser("worker", help="run a worker for agents until Ctrl-C")
    worker.add_argument("--agents", required=True, help="comma-separated module:attr specs")
    worker.add_argument("--task-queue", help="task queue (default: $A2A_TEMPORAL_TASK_QUEUE)")
    worker.set_defaults(handler=_worker)

    serve = commands.add_parser("serve", help="serve the registered agents over A2A until Ctrl-C")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (%(default)s)")
    serve.add_argument("--port", type=int, default=8080, help="port to listen on (%(default)s)")
    serve.set_defaults(handler=_serve)

    codec = commands.add_parser(
        "codec-server", help="serve payload decryption to the Temporal UI until Ctrl-C"
    )
    codec.add_argument("--host", default="127.0.0.1")
    codec.add_argument("--port", type=int, default=8081)
    codec.add_argument(
        "--ui-origin", default="http://localhost:8233", help="the Temporal UI's origin (CORS)"
    )
    codec.set_defaults(handler=_codec_server)


async def _dev(args: argparse.Namespace) -> int:
    stop = stop_on_signals()
    stack = DevStack(data_dir=args.data_dir, bucket=args.bucket)
    try:
        await stack.__aenter__()
    except (FileNotFoundError, RuntimeError, TimeoutError) as exc:
        raise CliError(f"the dev stack did not start: {exc}") from None
    try:
        print(f"Temporal:    {stack.temporal_address} (namespace {stack.namespace})")
        print(f"Temporal UI: {stack.ui_url}")
        print(f"S3:          {stack.s3_endpoint} bucket={stack.bucket}")
        print(f"Data dir:    {stack.data_dir}")
        print("Environment for workers and the CLI:")
        for line in _exports(stack):
            print(f"  export {line}")
        print(f"Up in {stack.startup_seconds:.1f}s. Press Ctrl-C to stop.", flush=True)
        if args.agents:
            configure_logging(stack.settings())
            await run_worker(_load(args.agents), stack.settings(), stop)
        else:
            await stop.wait()
    finally:
        await stack.stop()
    print("stopped", flush=True)
    return 0


def _load(specs: str) -> list[Any]:
    try:
        return load_agents(specs.split(","))
    except ValueError as exc:
        raise CliError(str(exc)) from None


async def _worker(args: argparse.Namespace) -> int:
    overrides = {"task_queue": args.task_queue} if args.task_queue else {}
    settings = settings_for(args, **overrides)
    agents = _load(args.agents)
    configure_logging(settings)
    try:
        await run_worker(agents, settings, stop_on_signals())
    except ImportError as exc:
        raise CliError(str(exc)) from None
    except RuntimeError as exc:
        raise CliError(f"cannot reach Temporal at {settings.temporal_address}: {exc}") from None
    return 0


def _exports(stack: DevStack) -> list[str]:
    """What the CLI, workers and the `temporal` CLI need in another shell, as `NAME=value`."""
    shown = (
        "temporal_address", "namespace", "s3_endpoint", "s3_access_key", "s3_secret_key",
        "s3_bucket", "require_signed_identity", "outbound_allow",
    )  # fmt: skip
    environment = stack.environment()
    names = [f"{ENV_PREFIX}{key.upper()}" for key in shown]
    return [
        *(f"{name}={shlex.quote(environment[name])}" for name in names if name in environment),
        f"TEMPORAL_ADDRESS={stack.temporal_address}",
        f"TEMPORAL_NAMESPACE={stack.namespace}",
    ]


async def _serve(args: argparse.Namespace) -> int:
    try:
        require_a2a_sdk()
    except ImportError as exc:
        raise CliError(str(exc)) from None

    from a2a_temporal.protocol.gateway import Gateway

    settings = settings_for(args)
    if settings.require_signed_identity and not settings.identity_signing_key:
        raise CliError(
            f"the gateway cannot sign its callers' identities, and workers reject unsigned ones "
            f"(require_signed_identity): set {ENV_PREFIX}IDENTITY_KEY_ID and "
            f"{ENV_PREFIX}IDENTITY_SIGNING_KEY (`a2a-temporal identity-key` makes them), or "
            f"{ENV_PREFIX}REQUIRE_SIGNED_IDENTITY=false where workers trust unsigned callers"
        )
    if settings.tracing:
        try:
            configure_tracing("a2a-temporal-gateway")
        except ImportError as exc:
            raise CliError(str(exc)) from None
    client = await client_for(args, serving=True)
    gateway = Gateway(client, settings)
    grace = max(1, round(settings.gateway_shutdown_grace.total_seconds()))
    try:
        return await serve_app(
            gateway.app(), args.host, args.port, settings, on_stop=gateway.drain, grace=grace
        )
    finally:
        flush_tracing()


async def _codec_server(args: argparse.Namespace) -> int:
    try:
        require_a2a_sdk()
    except ImportError as exc:
        raise CliError(str(exc)) from None

    from a2a_temporal.trust.codec_server import create_codec_app

    settings = settings_for(args)
    codec = payload_encryption(settings, SecretResolver(None, settings.secrets_dir))
    if codec is None:
        raise CliError(f"payload encryption is off: set {ENV_PREFIX}PAYLOAD_ENCRYPTION_KEY_ID")
    if not settings.codec_server_token:
        raise CliError(f"set {ENV_PREFIX}CODEC_SERVER_TOKEN: the server hands out plaintext")
    app = create_codec_app(codec, token=settings.codec_server_token, ui_origin=args.ui_origin)
    return await serve_app(app, args.host, args.port, settings)
