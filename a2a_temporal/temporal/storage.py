"""S3 access through the `minio` client: artifacts and Temporal's external payload storage."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable, Mapping
from typing import Any, BinaryIO, Protocol, TypeVar, cast

import urllib3
from minio import Minio
from minio.error import S3Error
from temporalio.contrib.aws.s3driver import S3StorageDriverClient

from a2a_temporal.errors import InfrastructureError
from a2a_temporal.settings import AgentSettings
from a2a_temporal.temporal.connection import s3_credentials, s3_http_client, virtual_host_style
from a2a_temporal.temporal.unreachable import s3_unreachable

__all__ = ["MinioStorageDriverClient", "ObjectStore", "Readable", "link_client", "minio_client"]

STREAM_PART_SIZE = 8 * 1024 * 1024
_NOT_FOUND = ("NoSuchKey", "NoSuchObject", "ResourceNotFound")
_T = TypeVar("_T")


async def _in_thread(call: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
    """Run a blocking `minio` call; an unreachable server becomes an `InfrastructureError`."""
    try:
        return await asyncio.to_thread(call, *args, **kwargs)
    except urllib3.exceptions.MaxRetryError as exc:
        raise InfrastructureError(s3_unreachable(exc)) from None


class Readable(Protocol):
    """Anything with a binary `read(size)`."""

    def read(self, size: int = -1, /) -> bytes:
        """Return up to `size` bytes; fewer only at the end."""
        ...


def minio_client(settings: AgentSettings) -> Minio:
    """Return a `minio` client for the settings' S3 endpoint."""
    client = Minio(
        settings.s3_host,
        secure=settings.s3_secure,
        region=settings.s3_region,
        credentials=s3_credentials(settings),
        http_client=s3_http_client(settings),
    )
    _address(client, settings)
    return client


def link_client(settings: AgentSettings) -> Minio:
    """A `minio` client that signs links for outside readers (`s3_public_endpoint`).

    It never connects: the region is given, so signing needs no request.
    """
    endpoint = settings.s3_public_endpoint or settings.s3_endpoint
    client = Minio(
        endpoint.split("://", 1)[-1].rstrip("/"),
        secure=endpoint.startswith("https://"),
        region=settings.s3_region,
        credentials=s3_credentials(settings),
    )
    _address(client, settings)
    return client


def _address(client: Minio, settings: AgentSettings) -> None:
    """Put buckets in the path or the host name, as `s3_addressing` says."""
    switch = (
        client.enable_virtual_style_endpoint
        if virtual_host_style(settings)
        else client.disable_virtual_style_endpoint
    )
    cast(Callable[[], None], switch)()


class ObjectStore:
    """Async put/get/list of objects in one bucket (the blocking calls run in threads)."""

    def __init__(self, client: Minio, bucket: str) -> None:
        self.client = client
        self.bucket = bucket

    def uri(self, key: str) -> str:
        """Return `s3://bucket/key`."""
        return f"s3://{self.bucket}/{key}"

    async def put_bytes(self, key: str, data: bytes, mime_type: str) -> int:
        """Store `data` at `key`; return its size."""
        await _in_thread(
            self.client.put_object,
            self.bucket,
            key,
            io.BytesIO(data),
            len(data),
            content_type=mime_type,
        )
        return len(data)

    async def put_stream(self, key: str, reader: Readable, mime_type: str) -> int:
        """Store what `reader` yields at `key` in parts of 8 MiB; return the size."""

        def upload() -> int:
            counted = _CountingReader(reader)
            self.client.put_object(
                self.bucket,
                key,
                cast(BinaryIO, counted),
                -1,
                content_type=mime_type,
                part_size=STREAM_PART_SIZE,
            )
            return counted.count

        return await _in_thread(upload)

    async def get(self, key: str) -> bytes:
        """Return the bytes at `key`; `FileNotFoundError` when absent."""

        def read() -> bytes:
            try:
                response = self.client.get_object(self.bucket, key)
            except S3Error as exc:
                if exc.code in _NOT_FOUND:
                    raise FileNotFoundError(f"no object {self.uri(key)}") from None
                raise
            try:
                return response.read()
            finally:
                response.close()
                response.release_conn()

        return await _in_thread(read)

    async def exists(self, key: str) -> bool:
        """Return whether an object is stored at `key`."""
        return await self.stat(key) is not None

    async def stat(self, key: str) -> tuple[int, str] | None:
        """The size and content type of the object at `key`, or None when there is none."""

        def stat() -> tuple[int, str] | None:
            try:
                found = self.client.stat_object(self.bucket, key)
            except S3Error as exc:
                if exc.code in _NOT_FOUND:
                    return None
                raise
            return found.size or 0, found.content_type or "application/octet-stream"

        return await _in_thread(stat)

    async def delete(self, key: str) -> None:
        """Remove the object at `key`."""
        await _in_thread(self.client.remove_object, self.bucket, key)

    async def keys(self, prefix: str) -> list[str]:
        """Return the key of every object under `prefix` (one listing, no per-object reads)."""

        def scan() -> list[str]:
            listed = self.client.list_objects(self.bucket, prefix=prefix, recursive=True)
            return sorted(str(obj.object_name) for obj in listed)

        return await _in_thread(scan)

    async def list(self, prefix: str) -> list[tuple[str, int, str]]:
        """Return `(key, size, content type)` of every object under `prefix`, sorted by key."""

        def scan() -> list[tuple[str, int, str]]:
            found = []
            for obj in self.client.list_objects(self.bucket, prefix=prefix, recursive=True):
                key = str(obj.object_name)
                stat = self.client.stat_object(self.bucket, key)
                found.append((key, int(stat.size or 0), stat.content_type or ""))
            return sorted(found)

        return await _in_thread(scan)


class _CountingReader(io.RawIOBase):
    """Wraps a binary reader and counts the bytes read through it."""

    def __init__(self, inner: Readable) -> None:
        self.inner = inner
        self.count = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        chunk = self.inner.read(size)
        self.count += len(chunk)
        return chunk


class MinioStorageDriverClient(S3StorageDriverClient):
    """Temporal's S3 storage driver client, implemented with `minio`."""

    def __init__(self, store: ObjectStore) -> None:
        self._store = store

    async def put_object(self, *, bucket: str, key: str, data: bytes) -> None:
        """Store a payload."""
        await ObjectStore(self._store.client, bucket).put_bytes(
            key, data, "application/octet-stream"
        )

    async def object_exists(self, *, bucket: str, key: str) -> bool:
        """Return whether a payload is stored."""
        return await ObjectStore(self._store.client, bucket).exists(key)

    async def get_object(self, *, bucket: str, key: str) -> bytes:
        """Return a stored payload."""
        return await ObjectStore(self._store.client, bucket).get(key)

    def describe(self) -> Mapping[str, Any]:
        """Describe the driver for Temporal's diagnostics."""
        return {"client": "minio", "endpoint": str(self._store.client._base_url.host)}
