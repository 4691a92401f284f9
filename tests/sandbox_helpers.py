"""Helpers for sandbox tests: a box root every user can reach, and finding live processes."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def sandbox_root() -> Iterator[Path]:
    """A fresh box root under the system temp dir (pytest's tmp_path is private to root)."""
    root = Path(tempfile.mkdtemp(prefix="a2a-sbx-"))
    root.chmod(0o711)
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def new_marker() -> str:
    """A unique word to put on a sandboxed command line, to find its processes later."""
    return f"marker-{uuid.uuid4().hex}"


def live_processes(marker: str) -> list[int]:
    """Pids of running (not zombie) processes whose command line holds `marker`."""
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            command = Path(f"/proc/{entry.name}/cmdline").read_bytes()
            state = Path(f"/proc/{entry.name}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker.encode() in command and state != "Z" and int(entry.name) != os.getpid():
            found.append(int(entry.name))
    return found


async def wait_for_processes(marker: str, limit: float = 20.0) -> list[int]:
    """Wait until a process carrying `marker` runs; return the pids."""
    async with asyncio.timeout(limit):
        while not (pids := live_processes(marker)):
            await asyncio.sleep(0.05)
    return pids


async def wait_until_gone(marker: str, limit: float = 10.0) -> None:
    """Wait until no process carries `marker` (a readiness check bounded by `limit`)."""
    async with asyncio.timeout(limit):
        while live_processes(marker):
            await asyncio.sleep(0.05)


def processes_in(root: Path) -> list[int]:
    """Pids of running processes whose working directory is inside `root`."""
    inside = str(root) + "/"
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            cwd = os.readlink(f"/proc/{entry.name}/cwd")
            state = Path(f"/proc/{entry.name}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if cwd.startswith(inside) and state != "Z":
            found.append(int(entry.name))
    return found


async def wait_for_processes_in(root: Path, limit: float = 30.0) -> list[int]:
    """Wait until some process runs inside `root`; return the pids."""
    async with asyncio.timeout(limit):
        while not (pids := processes_in(root)):
            await asyncio.sleep(0.05)
    return pids


async def wait_until_empty(root: Path, limit: float = 10.0) -> None:
    """Wait until no process runs inside `root` and it holds no box."""
    async with asyncio.timeout(limit):
        while processes_in(root) or any(root.iterdir()):
            await asyncio.sleep(0.05)
