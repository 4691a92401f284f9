"""The `a2a-temporal` command line."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Sequence

from a2a_temporal.testing import DevStack

__all__ = ["main"]


class CliError(Exception):
    """A problem to report on one line, without a traceback."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="a2a-temporal", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    dev = commands.add_parser(
        "dev", help="run the embedded Temporal dev server and S3 server until Ctrl-C"
    )
    dev.add_argument(
        "--data-dir", help="keep the SQLite file and logs here (default: a temporary dir)"
    )
    dev.add_argument("--bucket", default="a2a-temporal", help="bucket to create (%(default)s)")
    return parser


async def _dev(args: argparse.Namespace) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    stack = DevStack(data_dir=args.data_dir, bucket=args.bucket)
    try:
        await stack.__aenter__()
    except (FileNotFoundError, RuntimeError, TimeoutError) as exc:
        raise CliError(f"the dev stack did not start: {exc}") from None
    try:
        print(f"Temporal:    {stack.temporal_address} (namespace {stack.namespace})")
        print(f"Temporal UI: {stack.ui_url}")
        print(f"S3:          {stack.s3_endpoint} bucket={stack.bucket}")
        print(f"S3 keys:     {stack.s3_access_key} / {stack.s3_secret_key}")
        print(f"Data dir:    {stack.data_dir}")
        print(f"Up in {stack.startup_seconds:.1f}s. Press Ctrl-C to stop.", flush=True)
        await stop.wait()
    finally:
        await stack.stop()
    print("stopped", flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the process exit code."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "dev":
            asyncio.run(_dev(args))
    except CliError as exc:
        print(f"a2a-temporal: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
