"""The workspace on Temporal workers: a prefix of the S3 bucket per caller."""

from __future__ import annotations

from pydantic import BaseModel

from a2a_temporal.core.names import validate_object_name
from a2a_temporal.core.workspace import WorkspaceClient
from a2a_temporal.temporal.storage import ObjectStore

__all__ = ["S3Workspace", "workspace_prefix"]


def workspace_prefix(auth: BaseModel) -> str:
    """Return the S3 prefix of the caller's workspace (`workspaces/<subject>/`)."""
    subject = str(getattr(auth, "subject", "") or "shared")
    return f"workspaces/{validate_object_name(subject, what='workspace subject')}/"


class S3Workspace(WorkspaceClient):
    """Files under one S3 prefix."""

    def __init__(self, store: ObjectStore, prefix: str) -> None:
        self._store = store
        self._prefix = prefix

    def _key(self, path: str) -> str:
        return self._prefix + validate_object_name(path, what="workspace path")

    async def read(self, path: str) -> bytes:
        """Return the bytes at `path`."""
        try:
            return await self._store.get(self._key(path))
        except FileNotFoundError:
            raise FileNotFoundError(f"workspace has no file {path!r}") from None

    async def write(self, path: str, data: bytes) -> None:
        """Store `data` at `path`."""
        await self._store.put_bytes(self._key(path), bytes(data), "application/octet-stream")

    async def list(self, prefix: str = "") -> list[str]:
        """Return the sorted paths under `prefix`."""
        found = await self._store.list(self._prefix + prefix)
        return [key.removeprefix(self._prefix) for key, _, _ in found]

    async def delete(self, path: str) -> None:
        """Remove `path`."""
        key = self._key(path)
        if not await self._store.exists(key):
            raise FileNotFoundError(f"workspace has no file {path!r}")
        await self._store.delete(key)
