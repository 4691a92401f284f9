"""Helpers for sandbox tests: a box root every user can reach, and finding live processes."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
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


def _running(wanted: Callable[[str], bool]) -> list[int]:
    """Pids of running (not zombie) processes other than this one for which `wanted(pid)`."""
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            state = Path(f"/proc/{entry.name}/stat").read_text().rsplit(")", 1)[1].split()[0]
            if state != "Z" and wanted(entry.name):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


async def _wait(check: Callable[[], bool], limit: float) -> None:
    """Wait until `check()` holds (a readiness check bounded by `limit` seconds)."""
    async with asyncio.timeout(limit):
        while not check():
            await asyncio.sleep(0.05)


def live_processes(marker: str) -> list[int]:
    """Pids of running processes whose command line holds `marker`."""
    return _running(lambda pid: marker.encode() in Path(f"/proc/{pid}/cmdline").read_bytes())


def processes_in(root: Path) -> list[int]:
    """Pids of running processes whose working directory is inside `root`."""
    inside = str(root) + "/"
    return _running(lambda pid: os.readlink(f"/proc/{pid}/cwd").startswith(inside))


async def wait_for_processes(marker: str, limit: float = 20.0) -> list[int]:
    """Wait until a process carrying `marker` runs; return the pids."""
    await _wait(lambda: bool(live_processes(marker)), limit)
    return live_processes(marker)


async def wait_until_gone(marker: str, limit: float = 10.0) -> None:
    """Wait until no process carries `marker`."""
    await _wait(lambda: not live_processes(marker), limit)


async def wait_for_processes_in(root: Path, limit: float = 30.0) -> list[int]:
    """Wait until some process runs inside `root`; return the pids."""
    await _wait(lambda: bool(processes_in(root)), limit)
    return processes_in(root)


async def wait_until_empty(root: Path, limit: float = 10.0) -> None:
    """Wait until no process runs inside `root` and it holds no box."""
    await _wait(lambda: not processes_in(root) and not any(root.iterdir()), limit)


@contextlib.contextmanager
def code_for_another_user(modules: tuple[str, ...]) -> Iterator[Path]:
    """A folder any user can read holding the package and `modules`; removed on exit.

    A test that runs Python as another user cannot count on reading the clone
    it runs from (a private home directory, say), nor pytest's own temporary
    folders (private to their owner): it gets its own readable copy in /tmp.
    """
    import importlib

    repo = Path(__file__).resolve().parent.parent
    folder = Path(tempfile.mkdtemp(prefix="a2a-nobody-"))
    try:
        folder.chmod(0o755)
        skip = shutil.ignore_patterns("__pycache__", "workflows", "activities")
        shutil.copytree(repo / "a2a_temporal", folder / "a2a_temporal", ignore=skip)
        for name in modules:
            module = importlib.import_module(name)
            if module.__file__ is None:  # a namespace package (opentelemetry)
                for part in module.__path__:
                    shutil.copytree(part, folder / name, ignore=skip, dirs_exist_ok=True)
                continue
            source = Path(module.__file__)
            if source.name == "__init__.py":
                shutil.copytree(source.parent, folder / name, ignore=skip)
            else:
                shutil.copy2(source, folder / source.name)
        for path in folder.rglob("*"):
            path.chmod(0o755 if path.is_dir() else 0o644)
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
