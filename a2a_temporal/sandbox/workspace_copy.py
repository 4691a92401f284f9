"""Copying a run's workspace into a box and, for `rw` sessions, what changed back out.

Both ways go file by file, so a worker holds one file at a time, not the
workspace: what was copied in is remembered by digest, and write-back first
finds what changed (reading each box file once, to hash it), checks that the
run may write all of it and that it stays under the write-back limit, then
copies the changed files one at a time.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Protocol

from a2a_temporal.core.workspace import WorkspaceClient

__all__ = ["DEFAULT_WRITE_BACK_LIMIT", "WORKSPACE_DIR", "BoxFiles", "copy_in", "copy_out"]

WORKSPACE_DIR = "workspace"
DEFAULT_WRITE_BACK_LIMIT = 256 * 2**20


class BoxFiles(Protocol):
    """The file operations of a box that workspace copies need (`SandboxBox` has them)."""

    async def write_file(self, path: str, data: bytes) -> None:
        """Store `data` at `path` in the box."""

    async def read_file(self, path: str) -> bytes:
        """Return the bytes at `path` in the box."""

    async def list_files(self, prefix: str) -> list[str]:
        """Return the sorted file paths under `prefix` in the box."""


async def copy_in(workspace: WorkspaceClient, prefix: str, box: BoxFiles) -> dict[str, str]:
    """Copy the workspace's files under `prefix` into the box; return their digests by path."""
    copied: dict[str, str] = {}
    for path in await workspace.list(prefix):
        data = await workspace.read(path)
        await box.write_file(f"{WORKSPACE_DIR}/{path}", data)
        copied[path] = _digest(data)
    return copied


async def copy_out(
    workspace: WorkspaceClient,
    prefix: str,
    box: BoxFiles,
    copied: Mapping[str, str],
    limit: int = DEFAULT_WRITE_BACK_LIMIT,
) -> None:
    """Write back what changed: all of it, or (refused paths, over `limit`) none of it.

    Raises:
        PermissionError: A changed or removed path may not be written by this run.
        ValueError: The changed files hold more than `limit` bytes.
    """
    inside = f"{WORKSPACE_DIR}/"
    changed: list[str] = []
    present = set()
    total = 0
    for name in await box.list_files(inside + prefix):
        path = name.removeprefix(inside)
        present.add(path)
        data = await box.read_file(name)
        if copied.get(path) != _digest(data):
            changed.append(path)
            total += len(data)
        del data
        if total > limit:
            raise ValueError(
                f"the sandbox changed more than {limit} bytes of workspace files (the "
                "write-back limit), so none were written back"
            )
    removed = sorted(copied.keys() - present)
    refused = [path for path in [*changed, *removed] if not workspace.writable(path)]
    if refused:
        raise PermissionError(
            f"the sandbox changed workspace files this run may not write, so none were "
            f"written back: {', '.join(refused[:5])}"
        )
    for path in changed:
        await workspace.write(path, await box.read_file(inside + path))
    for path in removed:
        await workspace.delete(path)


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
