"""Run the official A2A TCK against the gateway serving the TCK scenario agent.

    python -m examples.run_tck /path/to/a2a-tck [--level must] [--transport jsonrpc,http_json]

The TCK is not part of this repository: fetch `a2aproject/a2a-tck` (branch
`1.0-dev`), `pip install -e .` it (into its own `.venv`, which is used when
present), then point this script at the checkout. It starts the embedded dev
stack, a worker hosting `examples/tck_agent.py`, and `a2a-temporal serve`
(anonymous access allowed: the TCK sends no credentials), runs
`run_tck.py --sut-host <gateway>/agents/tck`, prints its summary, and stops
everything it started. The exit code is the TCK's.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import tempfile
from pathlib import Path

from a2a_temporal._process import free_port
from a2a_temporal.testing import DevStack
from examples.tck_agent import TCK_AGENTS

QUEUE = "tck"
_SUMMARY = re.compile(r"\d+ (passed|failed|skipped|error)")


async def run_tck(tck: Path, python: str, url: str, level: str, transport: str) -> int:
    """Run the TCK's runner against `url`, echoing its output; print the summary line."""
    argv = [python, "run_tck.py", "--sut-host", url, "--level", level, "--transport", transport]
    process = await asyncio.create_subprocess_exec(
        *argv, cwd=tck, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    summary = "the TCK printed no summary"
    try:
        assert process.stdout is not None
        async for raw in process.stdout:
            line = raw.decode(errors="replace").rstrip()
            print(line, flush=True)
            if _SUMMARY.search(line):
                summary = line.strip(" =")
        code = await process.wait()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    print(f"TCK {level.upper()} over {transport}: {summary}")
    return code


async def main(tck: Path, level: str, transport: str, python: str) -> int:
    async with DevStack(ui=False) as stack, stack.worker(TCK_AGENTS, task_queue=QUEUE):
        await stack.wait_for_agents(["tck"], QUEUE)
        port = free_port()
        with tempfile.TemporaryDirectory(prefix="a2a-tck-") as logs:
            gateway = stack.gateway_process(
                port, Path(logs) / "gateway.log", task_queue=QUEUE, gateway_allow_anonymous=True
            )
            gateway.start()
            try:
                await gateway.wait_until_listening(port)
                url = f"http://127.0.0.1:{port}/agents/tck"
                return await run_tck(tck, python, url, level, transport)
            finally:
                await gateway.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tck", type=Path, help="path of an a2a-tck checkout (branch 1.0-dev)")
    parser.add_argument("--level", default="must", choices=["must", "should", "may"])
    parser.add_argument("--transport", default="jsonrpc,http_json")
    parser.add_argument("--python", help="Python with the TCK installed (default: its .venv)")
    args = parser.parse_args()
    if not (args.tck / "run_tck.py").is_file():
        parser.error(f"{args.tck} has no run_tck.py: pass the path of an a2a-tck checkout")
    venv = args.tck / ".venv" / "bin" / "python"
    python = args.python or (str(venv) if venv.exists() else sys.executable)
    sys.exit(asyncio.run(main(args.tck.resolve(), args.level, args.transport, python)))
