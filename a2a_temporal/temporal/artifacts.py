"""Where a task's artifacts live in S3 and how they are listed; S3 failures as infra errors."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import urllib3
from minio.error import S3Error, ServerError

from a2a_temporal.core.names import validate_object_name
from a2a_temporal.core.types import ArtifactRef
from a2a_temporal.errors import InfrastructureError
from a2a_temporal.temporal.storage import ObjectStore

__all__ = ["artifact_key", "artifact_prefix", "list_task_artifacts", "storage_errors"]


def artifact_prefix(task_id: str) -> str:
    """Return the S3 prefix under which task `task_id` keeps its artifacts."""
    return f"tasks/{task_id}/artifacts/"


def artifact_key(task_id: str, name: str) -> str:
    """Return the S3 key of artifact `name` of task `task_id` (the name is validated)."""
    return artifact_prefix(task_id) + validate_object_name(name)


async def list_task_artifacts(store: ObjectStore, task_id: str) -> list[ArtifactRef]:
    """List every artifact task `task_id` stored, across all its attempts."""
    prefix = artifact_prefix(task_id)
    return [
        ArtifactRef(key.removeprefix(prefix), store.uri(key), mime, size)
        for key, size, mime in await store.list(prefix)
    ]


@contextlib.contextmanager
def storage_errors() -> Iterator[None]:
    """Turn an unreachable or failing S3 server into `InfrastructureError`."""
    try:
        yield
    except (ServerError, urllib3.exceptions.HTTPError, ConnectionError) as exc:
        raise InfrastructureError(f"the object store failed: {exc}") from None
    except S3Error as exc:
        if exc.code in _TRANSIENT_S3_CODES:
            raise InfrastructureError(f"the object store failed: {exc.code}") from None
        raise


_TRANSIENT_S3_CODES = ("InternalError", "ServiceUnavailable", "SlowDown", "RequestTimeout")
