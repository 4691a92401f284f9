"""The shared workspace a skill may read and write, when its agent declares access."""

from __future__ import annotations

from abc import ABC, abstractmethod

from a2a_temporal.names import validate_object_name

__all__ = ["InMemoryWorkspace", "ReadOnlyWorkspace", "WorkspaceClient"]


class WorkspaceClient(ABC):
    """Files shared between the agents of one caller (a MinIO prefix on Temporal)."""

    @abstractmethod
    async def read(self, path: str) -> bytes:
        """Return the bytes at `path`; `FileNotFoundError` when absent."""

    @abstractmethod
    async def write(self, path: str, data: bytes) -> None:
        """Store `data` at `path`, replacing what was there."""

    @abstractmethod
    async def list(self, prefix: str = "") -> list[str]:
        """Return the sorted paths that start with `prefix`."""

    @abstractmethod
    async def delete(self, path: str) -> None:
        """Remove `path`; `FileNotFoundError` when absent."""


class InMemoryWorkspace(WorkspaceClient):
    """A workspace held in a dict, for in-process runs and tests.

    Args:
        read_only: Refuse writes and deletes with `PermissionError`.
    """

    def __init__(self, files: dict[str, bytes] | None = None, *, read_only: bool = False) -> None:
        self.files: dict[str, bytes] = dict(files or {})
        self.read_only = read_only

    async def read(self, path: str) -> bytes:
        """Return the bytes at `path`."""
        key = validate_object_name(path, what="workspace path")
        if key not in self.files:
            raise FileNotFoundError(f"workspace has no file {path!r}")
        return self.files[key]

    async def write(self, path: str, data: bytes) -> None:
        """Store `data` at `path`."""
        self._check_writable()
        self.files[validate_object_name(path, what="workspace path")] = bytes(data)

    async def list(self, prefix: str = "") -> list[str]:
        """Return the sorted paths under `prefix`."""
        return sorted(p for p in self.files if p.startswith(prefix))

    async def delete(self, path: str) -> None:
        """Remove `path`."""
        self._check_writable()
        key = validate_object_name(path, what="workspace path")
        if self.files.pop(key, None) is None:
            raise FileNotFoundError(f"workspace has no file {path!r}")

    def _check_writable(self) -> None:
        if self.read_only:
            raise PermissionError("this agent has read-only workspace access")


class ReadOnlyWorkspace(WorkspaceClient):
    """A view of another workspace that refuses writes and deletes with `PermissionError`."""

    def __init__(self, inner: WorkspaceClient) -> None:
        self._inner = inner

    async def read(self, path: str) -> bytes:
        """Return the bytes at `path`."""
        return await self._inner.read(path)

    async def write(self, path: str, data: bytes) -> None:
        """Refuse: this view is read-only."""
        raise PermissionError("this agent has read-only workspace access")

    async def list(self, prefix: str = "") -> list[str]:
        """Return the sorted paths under `prefix`."""
        return await self._inner.list(prefix)

    async def delete(self, path: str) -> None:
        """Refuse: this view is read-only."""
        raise PermissionError("this agent has read-only workspace access")
