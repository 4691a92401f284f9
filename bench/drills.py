"""Every drill at full size, one after another; prints one table.

Each drill module (`bench.drill_*`) has `async def drill(size: str) -> list[DrillRow]`
with `size` "full" (here) or "ci" (the scaled-down run in tests/reliability/).
Zero lost, duplicated, missing and repeated is the bar; the exit status is 1 when
any row misses it.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import sys

from bench.drill_table import DrillRow, markdown

DRILLS = [
    "bench.drill_worker_kill",
    "bench.drill_server_restart",
    "bench.drill_s3_outage",
    "bench.drill_worker_pause",
    "bench.drill_gateway_kill",
    "bench.drill_load",
]


async def main(names: list[str]) -> int:
    rows: list[DrillRow] = []
    for name in names:
        module = importlib.import_module(name)
        rows += await module.drill("full")
        print(markdown(rows[-1:]).splitlines()[-1], flush=True)
    print()
    print(markdown(rows))
    return 0 if all(row.clean for row in rows) else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--only", nargs="*", default=DRILLS, help="drill modules to run (default: all)"
    )
    sys.exit(asyncio.run(main(parser.parse_args().only)))
