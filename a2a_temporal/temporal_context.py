"""`TemporalRunContext`: the `RunContext` a skill gets inside the `run_skill` activity."""

from __future__ import annotations

import asyncio
import hashlib
import json
import tempfile
from collections.abc import AsyncIterable, Iterable, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

from pydantic import BaseModel
from pydantic_core import to_jsonable_python
from temporalio import activity
from temporalio.client import Client, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.exceptions import ApplicationError

from a2a_temporal._events import EventPublisher
from a2a_temporal._s3 import ObjectStore, Readable
from a2a_temporal.agent import WorkspaceAccess
from a2a_temporal.client import A2AClient, seconds
from a2a_temporal.context import ArtifactSource, AuthT, RunContext
from a2a_temporal.discovery import DiscoveryClient
from a2a_temporal.errors import CancelledByCaller, SandboxUnavailable
from a2a_temporal.models import CALL_UPDATE, CallOutcome, CallRequest
from a2a_temporal.names import validate_object_name
from a2a_temporal.sandbox import SandboxClient
from a2a_temporal.secrets import SecretResolver
from a2a_temporal.types import AgentEvent, ArtifactRef, CallResult
from a2a_temporal.workspace import WorkspaceClient

__all__ = ["TemporalRunContext", "artifact_key", "artifact_prefix"]


def artifact_prefix(task_id: str) -> str:
    """Return the S3 prefix under which task `task_id` keeps its artifacts."""
    return f"tasks/{task_id}/artifacts/"


def artifact_key(task_id: str, name: str) -> str:
    """Return the S3 key of artifact `name` of task `task_id` (the name is validated)."""
    return artifact_prefix(task_id) + validate_object_name(name)


def args_digest(target: str, skill: str, args: Mapping[str, Any] | None) -> str:
    """Return a stable digest of what a `ctx.call` asks for."""
    canonical = json.dumps([target, skill, args], sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


class TemporalRunContext(RunContext[AuthT]):
    """Runs a skill inside an activity: S3 artifacts, streamed events, calls as updates."""

    def __init__(
        self,
        *,
        task_id: str,
        auth: AuthT,
        workspace_access: WorkspaceAccess,
        client: Client,
        store: ObjectStore,
        publisher: EventPublisher,
        secrets: SecretResolver,
        discovery: DiscoveryClient,
        grant: Any = None,
    ) -> None:
        super().__init__(task_id=task_id, auth=auth, workspace_access=workspace_access)
        self.grant = grant
        self._client = client
        self._store = store
        self._publisher = publisher
        self._secrets = secrets
        self._discovery = discovery
        self._artifacts: dict[str, ArtifactRef] = {}
        self._next_call = 0

    @property
    def artifact_refs(self) -> tuple[ArtifactRef, ...]:
        """Artifacts this attempt wrote."""
        return tuple(self._artifacts.values())

    async def emit_event(self, event: AgentEvent) -> None:
        """Queue `event` for the task's stream (sent in batches)."""
        self.check_cancelled()
        self._publisher.publish(event)

    async def write_artifact(
        self, name: str, data: bytes, mime_type: str = "application/octet-stream"
    ) -> ArtifactRef:
        """Store `data` in S3 at `tasks/<task_id>/artifacts/<name>`; idempotent on retry."""
        key = artifact_key(self.task_id, name)
        self.check_cancelled()
        size = await self._store.put_bytes(key, bytes(data), mime_type)
        return await self._record(ArtifactRef(name, self._store.uri(key), mime_type, size))

    async def write_artifact_stream(
        self, name: str, source: ArtifactSource, mime_type: str = "application/octet-stream"
    ) -> ArtifactRef:
        """Store an artifact from a file, path or (async) iterator without holding it whole."""
        key = artifact_key(self.task_id, name)
        self.check_cancelled()
        if isinstance(source, bytes):
            return await self.write_artifact(name, source, mime_type)
        if isinstance(source, str | Path):
            with open(source, "rb") as reader:  # noqa: ASYNC230 - read in the upload thread
                size = await self._store.put_stream(key, reader, mime_type)
        elif isinstance(source, AsyncIterable):
            with tempfile.TemporaryFile() as spool:
                async for chunk in source:
                    self.check_cancelled()
                    await asyncio.to_thread(spool.write, chunk)
                spool.seek(0)
                size = await self._store.put_stream(key, spool, mime_type)
        elif hasattr(source, "read"):
            size = await self._store.put_stream(key, cast(Readable, source), mime_type)
        else:
            size = await self._store.put_stream(key, _IterReader(iter(source)), mime_type)
        return await self._record(ArtifactRef(name, self._store.uri(key), mime_type, size))

    async def _record(self, ref: ArtifactRef) -> ArtifactRef:
        self._artifacts[ref.name] = ref
        await self.emit_artifact(ref)
        return ref

    def check_cancelled(self) -> None:
        """Heartbeat, then raise `CancelledByCaller` if the workflow was cancelled."""
        activity.heartbeat()
        if activity.is_cancelled():
            raise CancelledByCaller(f"task {self.task_id} was cancelled by its caller")

    def secret(self, name: str) -> str:
        """Resolve `name` on this worker; the value never enters history."""
        return self._secrets.resolve(name)

    def _open_workspace(self) -> WorkspaceClient:
        raise NotImplementedError("the S3-backed workspace arrives with workspace grants")

    @property
    def sandbox(self) -> SandboxClient:
        """No sandbox backend is configured on Temporal workers yet."""
        raise SandboxUnavailable("no sandbox backend is configured on this worker")

    @property
    def discover(self) -> DiscoveryClient:
        """Agents hosted by this worker's plugin."""
        return self._discovery

    def _a2a_client(self) -> A2AClient:
        raise RuntimeError("TemporalRunContext sends calls through its own workflow")

    async def call(
        self,
        target: str,
        skill: str,
        *,
        args: BaseModel | Mapping[str, Any] | None = None,
        grant: Any = None,
        timeout: timedelta | float | None = None,
    ) -> CallResult:
        """Run `skill` of `target` as a child task; a retried attempt gets the same result."""
        seq = self._next_call
        self._next_call += 1
        self.check_cancelled()
        raw_args = args.model_dump(mode="json") if isinstance(args, BaseModel) else args
        raw_args = to_jsonable_python(raw_args) if raw_args is not None else None
        digest = args_digest(target, skill, raw_args)
        request = CallRequest(
            seq=seq,
            target=target,
            skill=skill,
            args=raw_args,
            auth=self.auth.model_dump(mode="json"),
            grant=grant,
            timeout_seconds=seconds(timeout),
            digest=digest,
        )
        handle = self._client.get_workflow_handle(self.task_id)
        try:
            outcome = await handle.execute_update(
                CALL_UPDATE, request, id=f"call-{seq}", result_type=CallOutcome
            )
        except WorkflowUpdateRPCTimeoutOrCancelledError:
            self.check_cancelled()
            raise
        if outcome.digest != digest:
            raise ApplicationError(
                f"call #{seq} asks for {target}.{skill} (args digest {digest}) but an earlier "
                f"attempt's call #{seq} asked for {outcome.target}.{outcome.skill} (args digest "
                f"{outcome.digest}); a skill must make the same calls in the same order on "
                "every attempt",
                type="CallMismatch",
                non_retryable=True,
            )
        result: CallResult = outcome.result
        return result


class _IterReader:
    """A minimal binary reader over an iterator of byte chunks."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self._buffer = b""

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self._buffer) < size:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            self._buffer += chunk
        if size < 0:
            data, self._buffer = self._buffer, b""
        else:
            data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data
