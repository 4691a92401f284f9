"""The shared workspace a skill may read and write, when its agent declares access."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

from a2a_temporal.core.grants import GrantHolder, WorkspaceRights, delegate
from a2a_temporal.core.names import validate_object_name

__all__ = ["InMemoryWorkspace", "ScopedWorkspace", "WorkspaceClient"]

_READ_ONLY = "this agent has read-only workspace access"


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

    def writable(self, path: str) -> bool:
        """Whether `write` and `delete` of `path` are allowed (they may still fail on I/O)."""
        return True

    def delegate(
        self,
        *,
        read: Sequence[str] = (),
        write: Sequence[str] = (),
        ttl: timedelta | float = 300.0,
        audience: str | None = None,
    ) -> str:
        """A grant token for part of this workspace (pass it as `ctx.call(..., grant=)`).

        Raises:
            PermissionError: This workspace cannot hand out grants.
        """
        raise PermissionError("this workspace cannot hand out grants")


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

    def writable(self, path: str) -> bool:
        """False when this workspace is read-only."""
        return not self.read_only

    def _check_writable(self) -> None:
        if self.read_only:
            raise PermissionError("this agent has read-only workspace access")


class ScopedWorkspace(WorkspaceClient):
    """A workspace seen through rights: the agent's own access, or a grant's.

    Args:
        inner: The workspace the rights are about.
        rights: What may be read and written.
        grant_key: Returns the key grants are sealed with (`PermissionError` when
            the runtime has none).
        holder: Who the run acts for and its task (grants it makes are bound to them).
        read_only: The agent declared read-only access.
    """

    def __init__(
        self,
        inner: WorkspaceClient,
        rights: WorkspaceRights,
        grant_key: Callable[[], bytes],
        holder: GrantHolder,
        *,
        read_only: bool,
    ) -> None:
        self._inner = inner
        self._rights = rights
        self._grant_key = grant_key
        self._holder = holder
        self._read_only = read_only

    def _readable(self, path: str) -> str:
        key = validate_object_name(path, what="workspace path")
        if not self._rights.can_read(key):
            raise PermissionError(
                f"grant {self._rights.grant_id} does not let this agent read {path!r}"
            )
        return key

    def _writable(self, path: str) -> str:
        key = validate_object_name(path, what="workspace path")
        if self._read_only:
            raise PermissionError(_READ_ONLY)
        if not self._rights.can_write(key):
            raise PermissionError(
                f"grant {self._rights.grant_id} does not let this agent write {path!r}"
            )
        return key

    def writable(self, path: str) -> bool:
        """Whether the agent's access and the rights let `path` be written."""
        key = validate_object_name(path, what="workspace path")
        return not self._read_only and self._rights.can_write(key)

    async def read(self, path: str) -> bytes:
        """Return the bytes at `path`, if the rights let it be read."""
        return await self._inner.read(self._readable(path))

    async def write(self, path: str, data: bytes) -> None:
        """Store `data` at `path`, if the rights let it be written."""
        await self._inner.write(self._writable(path), data)

    async def list(self, prefix: str = "") -> list[str]:
        """Return the sorted readable paths under `prefix`."""
        return [path for path in await self._inner.list(prefix) if self._rights.can_read(path)]

    async def delete(self, path: str) -> None:
        """Remove `path`, if the rights let it be written."""
        await self._inner.delete(self._writable(path))

    def delegate(
        self,
        *,
        read: Sequence[str] = (),
        write: Sequence[str] = (),
        ttl: timedelta | float = 300.0,
        audience: str | None = None,
    ) -> str:
        """A grant of `read` globs and `write` prefixes, never wider than this workspace's own.

        Raises:
            GrantRefused: Wider than these rights, or write from a read-only agent.
            PermissionError: The runtime has no grant key.
        """
        if write and self._read_only:
            raise PermissionError(f"cannot delegate write: {_READ_ONLY}")
        return delegate(
            self._rights,
            self._grant_key(),
            read=list(read),
            write=list(write),
            ttl=ttl if isinstance(ttl, timedelta) else timedelta(seconds=ttl),
            audience=audience,
            now=datetime.now(UTC),
            holder=self._holder,
        )
