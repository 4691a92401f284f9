"""A process that opens a sandbox box, starts a long command in it, and waits to be killed.

`SANDBOX_MARKER=word python -m tests.sandbox_owner ROOT [--no-namespaces]`: the
sweeper tests SIGKILL it. The command starts a child in a session of its own
that carries the marker (it comes through the environment, so that only that
child has it on its command line).
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from a2a_temporal import ProcessSandbox, SandboxSpec

DETACHED = (
    "import os, subprocess, sys, time; "
    "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)', os.environ['MARK']], "
    "start_new_session=True); time.sleep(600)"
)


async def _main(root: Path, marker: str, namespaces: bool) -> None:
    sandbox = ProcessSandbox(root=root, namespaces=None if namespaces else False)
    spec = SandboxSpec(timeout_s=600, network=not namespaces, env={"MARK": marker})
    async with sandbox.session(spec) as box:
        await box.run(["python3", "-c", DETACHED])


if __name__ == "__main__":
    namespaces = "--no-namespaces" not in sys.argv
    asyncio.run(_main(Path(sys.argv[1]), os.environ["SANDBOX_MARKER"], namespaces))
