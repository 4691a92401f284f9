"""The workspace on Temporal workers: a prefix of the S3 bucket per caller.

A caller with a subject has `workspaces/<subject>/` (`/` and `%` in the
subject percent-encoded, so no subject's folder lies inside another's). A
run with no subject (a `NoAuth` agent, an anonymous caller) gets a folder of
its own task, `task-workspaces/<task id>/`, that no other caller shares; it
hands parts of it to callees with grants.
"""

from __future__ import annotations

from urllib.parse import quote

from pydantic import BaseModel

from a2a_temporal.core.auth import subject_of
from a2a_temporal.core.names import validate_object_name
from a2a_temporal.core.workspace import WorkspaceClient
from a2a_temporal.temporal.storage import ObjectStore

__all__ = ["S3Workspace", "workspace_prefix"]


def workspace_prefix(auth: BaseModel | None, task_id: str) -> str:
    """Return the S3 prefix of the workspace of task `task_id`'s caller."""
    subject = subject_of(auth)
    if subject is None:
        return f"task-workspaces/{validate_object_name(task_id, what='task id')}/"
    folder = quote(subject, safe="@+:=,;!$'()*~")
    return f"workspaces/{validate_object_name(folder, what='workspace subject')}/"


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
