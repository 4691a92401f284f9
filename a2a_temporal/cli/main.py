"""The `a2a-temporal` command line: dev stack, worker, and tasks on Temporal."""

from __future__ import annotations

import argparse
import asyncio
import inspect
import sys
from collections.abc import Sequence
from typing import NoReturn

from temporalio.service import RPCError

from a2a_temporal.cli import agents, keys, pipelines, servers, tasks
from a2a_temporal.cli._common import CliError, one_line
from a2a_temporal.core.describe import describe_exception
from a2a_temporal.errors import InfrastructureError, UnknownTask
from a2a_temporal.settings import DEBUG_ENV, debugging
from a2a_temporal.worker.run import exit_process

__all__ = ["main", "run"]


class _Parser(argparse.ArgumentParser):
    """Reports a usage error on one line (exit code 2), like every other error."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="a2a-temporal", description=__doc__)
    parser.add_argument(
        "--address", help="Temporal address (default: $A2A_TEMPORAL_TEMPORAL_ADDRESS)"
    )
    parser.add_argument("--namespace", help="Temporal namespace")
    tls = parser.add_argument_group("TLS and API keys (the `temporal` CLI's flags)")
    tls.add_argument("--tls", action="store_true", default=None, help="reach Temporal over TLS")
    tls.add_argument("--tls-ca-path", help="PEM file of the CA that signed Temporal's certificate")
    tls.add_argument("--tls-cert-path", help="PEM file of the client certificate (mTLS)")
    tls.add_argument("--tls-key-path", help="PEM file of the client certificate's key (mTLS)")
    tls.add_argument("--tls-server-name", help="the name Temporal's certificate is checked against")
    tls.add_argument(
        "--api-key", help="Temporal Cloud API key (default: $A2A_TEMPORAL_TEMPORAL_API_KEY)"
    )
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for group in (servers, agents, tasks, pipelines, keys):
        group.add_commands(commands)
    return parser


async def _dispatch(args: argparse.Namespace) -> int:
    outcome = args.handler(args)
    code: int = await outcome if inspect.isawaitable(outcome) else outcome
    return code


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the process exit code."""
    args = _parser().parse_args(argv)
    try:
        return asyncio.run(_dispatch(args))
    except (CliError, UnknownTask, InfrastructureError) as exc:
        print(f"a2a-temporal: error: {one_line(str(exc))}", file=sys.stderr)
        return 2
    except RPCError as exc:
        print(f"a2a-temporal: error: Temporal said: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        if debugging():
            raise
        print(
            f"a2a-temporal: error: {one_line(describe_exception(exc))} "
            f"(set {DEBUG_ENV}=1 for a traceback)",
            file=sys.stderr,
        )
        return 2


def run() -> NoReturn:
    """Console entry point: `main`, then `exit_process` with its code."""
    exit_process(main())


if __name__ == "__main__":
    run()
