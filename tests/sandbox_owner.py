"""A process that opens a sandbox box, starts a long command in it, and waits to be killed.

`SANDBOX_MARKER=word python -m tests.sandbox_owner ROOT`: the sweeper test SIGKILLs
it. The marker comes through the environment so that only the sandboxed command
carries it on its command line.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from a2a_temporal import ProcessSandbox, SandboxSpec


async def _main(root: Path, marker: str) -> None:
    async with ProcessSandbox(root=root).session(SandboxSpec(timeout_s=600)) as box:
        await box.run(["python3", "-c", "import time; time.sleep(600)", marker])


if __name__ == "__main__":
    asyncio.run(_main(Path(sys.argv[1]), os.environ["SANDBOX_MARKER"]))
