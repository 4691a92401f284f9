"""The process sandbox's cost: a session around `python -c 'print(1)'` vs a bare subprocess.

Prints p50 of (1) a bare `asyncio` subprocess, (2) the same under the last
launcher alone (dash's `ulimit` setting the rlimits and reading the environment
file, or `prlimit` + `sh` without dash), (3) under the sandbox's whole chain
(`setpriv` + `unshare` + that launcher: user switch, namespaces, rlimits, the
environment file), (4) a whole `ProcessSandbox` session: create the box, run,
destroy. Then, on the dev stack, how long after a cancel request the sandboxed
process of a running task is gone.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from a2a_temporal import ProcessSandbox, SandboxSpec
from a2a_temporal.sandbox._launchers import command_launcher, environment_launcher
from a2a_temporal.testing import DevStack
from bench.common import pct
from examples.code_runner import CodeRunner

COMMAND = ["python3", "-c", "print(1)"]
PATH = "/usr/local/bin:/usr/bin:/bin"  # what sandboxed commands get, so both run one python3
SLEEPER = "import time\ntime.sleep(600)\n"


async def _bare(prefix: list[str], home: Path) -> None:
    process = await asyncio.create_subprocess_exec(
        *prefix,
        *COMMAND,
        cwd=home,
        env={"PATH": PATH, "HOME": str(home), "TMPDIR": str(home), "LANG": "C.UTF-8"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, _ = await process.communicate()
    assert out == b"1\n", out


async def _timed(action: Callable[[], Awaitable[None]]) -> float:
    started = time.perf_counter()
    await action()
    return (time.perf_counter() - started) * 1000


async def local(runs: int, root: Path) -> None:
    sandbox = ProcessSandbox(root=root)
    tools = sandbox._tool_paths()
    spec = SandboxSpec()
    limits = environment_launcher(tools, spec, spec.timeout_s, str(root), "")
    isolated = command_launcher(
        tools, sandbox.run_as, spec, spec.timeout_s, str(root), "", namespaces=True
    )

    async def session() -> None:
        result = await sandbox.run(COMMAND)
        assert result.stdout == b"1\n", result

    variants: dict[str, Callable[[], Awaitable[None]]] = {
        "bare subprocess": lambda: _bare([], root),
        f"rlimits + environment ({Path(limits[0]).name})": lambda: _bare(limits, root),
        f"setpriv + unshare + {Path(limits[0]).name}": lambda: _bare(isolated, root),
        "ProcessSandbox session": session,
    }
    timings: dict[str, list[float]] = {name: [] for name in variants}
    for action in variants.values():
        await action()  # warm up
    for _ in range(runs):
        for name, action in variants.items():
            timings[name].append(await _timed(action))
    for name, values in timings.items():
        print(
            f"{name}: p50 {pct(values, 0.5):.1f} ms, p95 {pct(values, 0.95):.1f} ms ({runs} runs)"
        )
    bare, limited, isolated_p50, whole = (pct(values, 0.5) for values in timings.values())
    print(
        f"session create + run + destroy vs bare subprocess: ratio {whole / bare:.2f}; "
        f"rlimits + the environment file add {limited - bare:.1f} ms, user switch + "
        f"namespaces {isolated_p50 - limited:.1f} ms, the box (directory, record, output "
        f"pumps; a sweep at most every {sandbox.sweep_interval:g} s) "
        f"{whole - isolated_p50:.1f} ms"
    )


def _inside(root: Path) -> bool:
    return any(root.glob("*/"))


async def cancel(runs: int, root: Path) -> None:
    gone: list[float] = []
    ended: list[float] = []
    async with (
        DevStack(ui=False) as stack,
        stack.worker([CodeRunner()], task_queue="bench-sandbox", sandbox_dir=str(root)) as client,
    ):
        for _ in range(runs):
            handle = await client.start("code-runner", "run_python", args={"code": SLEEPER})
            async for event in handle.events():
                if event.kind == "progress":
                    break
            while not _inside(root):
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.2)  # let the snippet start
            requested = time.monotonic()
            await handle.cancel()
            while _inside(root):
                await asyncio.sleep(0.005)
            gone.append(time.monotonic() - requested)
            result = await handle.result()
            ended.append(time.monotonic() - requested)
            assert result.status == "canceled", result
    print(
        f"cancel -> sandboxed process killed and box removed over {runs} runs: "
        f"p50 {pct(gone, 0.5):.2f} s, p95 {pct(gone, 0.95):.2f} s; task reported canceled "
        f"p50 {pct(ended, 0.5):.2f} s"
    )


async def main(runs: int, cancels: int) -> None:
    root = Path(tempfile.mkdtemp(prefix="a2a-bench-sbx-"))
    root.chmod(0o711)
    try:
        await local(runs, root)
        await cancel(cancels, root)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--cancels", type=int, default=10)
    args = parser.parse_args()
    asyncio.run(main(args.runs, args.cancels))
