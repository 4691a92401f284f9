"""The interface skills use to run code in isolation, and the base every backend builds on.

`ctx.sandbox.run(...)` is the one-shot form; `ctx.sandbox.session(spec)` opens a
box for multi-step work (run, write, read, list) that is always removed on exit,
also when the skill is cancelled. A backend implements `SandboxBackend._open`
and gets the rest: output caps, live output as events, workspace copy in/out.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol

import structlog
from opentelemetry import trace
from pydantic import BaseModel, ConfigDict, Field, field_validator

from a2a_temporal.core.names import validate_object_name
from a2a_temporal.errors import SandboxUnavailable
from a2a_temporal.sandbox.live_output import LiveOutput, OutputHost
from a2a_temporal.sandbox.workspace_copy import (
    DEFAULT_WRITE_BACK_LIMIT,
    WORKSPACE_DIR,
    copy_in,
    copy_out,
)
from a2a_temporal.settings import SANDBOX_OUTPUT_LIMIT

if TYPE_CHECKING:
    from a2a_temporal.core.workspace import WorkspaceClient

__all__ = [
    "DEFAULT_OUTPUT_LIMIT",
    "DEFAULT_WRITE_BACK_LIMIT",
    "MIB",
    "WORKSPACE_DIR",
    "OutputSink",
    "SandboxBackend",
    "SandboxBox",
    "SandboxClient",
    "SandboxHost",
    "SandboxResult",
    "SandboxSession",
    "SandboxSpec",
    "box_path",
    "no_sandbox",
]

MIB = 1024 * 1024
DEFAULT_OUTPUT_LIMIT = SANDBOX_OUTPUT_LIMIT
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_log = structlog.get_logger("a2a_temporal.sandbox")
_tracer = trace.get_tracer("a2a_temporal")

OutputSink = Callable[[Literal["stdout", "stderr"], bytes], Awaitable[None]]
"""Receives a command's output as it arrives: which stream, and the bytes."""


@dataclass(frozen=True)
class SandboxResult:
    """Outcome of one sandboxed command.

    `timed_out` is set when the wall-clock timeout killed it; `truncated` when
    stdout or stderr went past the output limit and the rest was dropped.
    """

    exit_code: int
    stdout: bytes
    stderr: bytes
    duration_s: float = 0.0
    timed_out: bool = False
    truncated: bool = False


class SandboxSpec(BaseModel):
    """What a sandbox session gets: limits, network, environment and workspace.

    `workspace` copies the caller's workspace (files under `workspace_prefix`)
    into `workspace/` of the box: `ro` never writes back, `rw` writes new and
    changed files back (and deletes removed ones) when the session ends cleanly.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    image: str | None = Field(default=None, description="OCI image (microsandbox only)")
    memory_mib: int = Field(default=512, ge=16, le=1024 * 1024)
    cpus: int = Field(default=1, ge=1, le=256)
    timeout_s: float = Field(default=300.0, gt=0, description="wall clock per command")
    network: bool = False
    env: dict[str, str] = Field(default_factory=dict)
    workspace: Literal["none", "ro", "rw"] = "none"
    workspace_prefix: str = ""
    max_processes: int = Field(default=64, ge=1, le=65536)
    max_file_mib: int = Field(default=256, ge=1)

    @field_validator("env")
    @classmethod
    def _plain_variables(cls, env: dict[str, str]) -> dict[str, str]:
        for name, value in env.items():
            if not _ENV_NAME.fullmatch(name) or "\0" in value:
                raise ValueError(f"{name!r} is not a usable environment variable")
        return env


def box_path(path: str) -> str:
    """Check a path inside a box (relative, no `..`, no control characters) and return it."""
    return validate_object_name(path, what="sandbox path")


class SandboxSession(ABC):
    """An open box: run commands in it and move files in and out."""

    @abstractmethod
    async def run(
        self,
        command: Sequence[str] | str,
        *,
        stdin: bytes | None = None,
        timeout: float | None = None,
        stream: bool = False,
    ) -> SandboxResult:
        """Run `command` (a string runs through `sh -c`) in the box's directory.

        `timeout` defaults to the spec's `timeout_s`; `stream=True` also sends
        stdout as `text_delta` events and stderr lines as `progress` events,
        coalesced and capped (see `live_output`).
        """

    @abstractmethod
    async def write(self, path: str, data: bytes) -> None:
        """Store `data` at `path` (relative to the box's directory)."""

    @abstractmethod
    async def read(self, path: str) -> bytes:
        """Return the bytes at `path`; `FileNotFoundError` when absent."""

    @abstractmethod
    async def list(self, prefix: str = "") -> list[str]:
        """Return the sorted paths of regular files that start with `prefix`."""


class SandboxClient(ABC):
    """Runs commands away from the worker's own process and files."""

    @abstractmethod
    async def run(
        self,
        command: Sequence[str],
        *,
        files: Mapping[str, bytes] | None = None,
        stdin: bytes | None = None,
        timeout: float | None = None,
    ) -> SandboxResult:
        """Run `command` with `files` placed in its working directory."""

    def session(
        self, spec: SandboxSpec | None = None
    ) -> contextlib.AbstractAsyncContextManager[SandboxSession]:
        """Open a box for several steps (`async with ctx.sandbox.session(spec) as box:`)."""
        raise NotImplementedError(f"{type(self).__name__} runs one-shot commands only")

    def bind(self, host: SandboxHost) -> SandboxClient:
        """This sandbox as one run sees it (its events and workspace); self by default."""
        return self


class SandboxHost(OutputHost, Protocol):
    """The run a sandbox works for: where live output goes and whose workspace it copies."""

    @property
    def workspace(self) -> WorkspaceClient:
        """The workspace `ro`/`rw` sessions copy; `PermissionError` when there is none."""

    def sandbox_session_closed(self, seconds: float) -> None:
        """A session of this run's closed after being open `seconds` (for its metrics)."""


class SandboxBox(ABC):
    """One box of a backend: what `SandboxBackend._open` returns."""

    @abstractmethod
    async def exec(
        self,
        argv: Sequence[str],
        *,
        stdin: bytes | None,
        timeout: float,
        sink: OutputSink,
    ) -> tuple[int, bool]:
        """Run `argv`, feeding output to `sink`; return (exit code, timed out).

        On timeout or cancellation every process the command started is killed
        before this returns or raises.
        """

    @abstractmethod
    async def write_file(self, path: str, data: bytes) -> None:
        """Store `data` at the checked relative `path`."""

    @abstractmethod
    async def read_file(self, path: str) -> bytes:
        """Return the bytes of the regular file at the checked relative `path`."""

    @abstractmethod
    async def list_files(self, prefix: str) -> list[str]:
        """Return the sorted relative paths of regular files starting with `prefix`."""

    async def workspace_ready(self) -> None:  # noqa: B027 - optional hook
        """Called once the workspace is copied in (a `ro` box may lock it here)."""

    @abstractmethod
    async def close(self) -> None:
        """Kill whatever still runs and remove the box; safe to call twice."""


class _SessionRuns(SandboxClient):
    """A sandbox whose one-shot `run` is a session of its own."""

    async def run(
        self,
        command: Sequence[str],
        *,
        files: Mapping[str, bytes] | None = None,
        stdin: bytes | None = None,
        timeout: float | None = None,
    ) -> SandboxResult:
        """Run `command` once in a fresh box holding `files`."""
        async with self.session() as box:
            for path, data in (files or {}).items():
                await box.write(path, data)
            return await box.run(command, stdin=stdin, timeout=timeout)


class SandboxBackend(_SessionRuns):
    """A sandbox built from boxes: sessions, one-shot runs, caps, events and workspace.

    Args:
        output_limit: Bytes of stdout and of stderr kept per command; the rest
            is dropped and the result marked `truncated`.
        write_back_limit: Bytes of changed files an `rw` session may write
            back to the workspace (more: none is written, the session fails).
    """

    def __init__(
        self,
        *,
        output_limit: int = DEFAULT_OUTPUT_LIMIT,
        write_back_limit: int = DEFAULT_WRITE_BACK_LIMIT,
    ) -> None:
        if output_limit < 0:
            raise ValueError("output_limit must be >= 0")
        if write_back_limit < 0:
            raise ValueError("write_back_limit must be >= 0")
        self.output_limit = output_limit
        self.write_back_limit = write_back_limit

    @abstractmethod
    async def _open(self, spec: SandboxSpec) -> SandboxBox:
        """Create a box for `spec`; `SandboxUnavailable` when it cannot be made as asked."""

    @abstractmethod
    async def sweep(self) -> list[str]:
        """Remove what boxes of dead workers left (processes, VMs, files); return their ids."""

    def bind(self, host: SandboxHost) -> SandboxClient:
        """This backend working for `host` (live output events, its workspace)."""
        return _BoundSandbox(self, host)

    def session(
        self, spec: SandboxSpec | None = None
    ) -> contextlib.AbstractAsyncContextManager[SandboxSession]:
        """Open a box with no run attached (no events, no workspace)."""
        return self._session(spec or SandboxSpec(), None)

    @contextlib.asynccontextmanager
    async def _session(
        self, spec: SandboxSpec, host: SandboxHost | None
    ) -> AsyncIterator[SandboxSession]:
        workspace = _workspace_of(spec, host)
        box = await self._open(spec)
        opened = time.monotonic()
        try:
            prefix = spec.workspace_prefix
            copied = await copy_in(workspace, prefix, box) if workspace is not None else {}
            await box.workspace_ready()
            yield _Session(box, spec, host, self.output_limit)
            if workspace is not None and spec.workspace == "rw":
                await _shielded(copy_out(workspace, prefix, box, copied, self.write_back_limit))
        except BaseException:
            try:
                await _shielded(box.close())
            except Exception:
                _log.exception("sandbox_close_failed")
            raise
        else:
            await _shielded(box.close())
        finally:
            if host is not None:
                host.sandbox_session_closed(time.monotonic() - opened)


class _BoundSandbox(_SessionRuns):
    """A backend seen from one run."""

    def __init__(self, backend: SandboxBackend, host: SandboxHost) -> None:
        self._backend = backend
        self._host = host

    def session(
        self, spec: SandboxSpec | None = None
    ) -> contextlib.AbstractAsyncContextManager[SandboxSession]:
        """Open a box whose live output and workspace are the run's."""
        return self._backend._session(spec or SandboxSpec(), self._host)


class _Session(SandboxSession):
    def __init__(
        self, box: SandboxBox, spec: SandboxSpec, host: SandboxHost | None, limit: int
    ) -> None:
        self._box = box
        self._spec = spec
        self._host = host
        self._limit = limit

    async def run(
        self,
        command: Sequence[str] | str,
        *,
        stdin: bytes | None = None,
        timeout: float | None = None,
        stream: bool = False,
    ) -> SandboxResult:
        """Run `command` in the box."""
        argv = ["/bin/sh", "-c", command] if isinstance(command, str) else list(command)
        if not argv or not all(isinstance(part, str) for part in argv):
            raise ValueError("command must be a non-empty string or list of strings")
        limit = self._spec.timeout_s if timeout is None else timeout
        if limit <= 0:
            raise ValueError("timeout must be > 0 seconds")
        if stream and self._host is None:
            raise ValueError("stream=True needs a run to send events to (use ctx.sandbox)")
        output = LiveOutput(self._limit, self._host if stream else None)
        loop_time = time.monotonic()
        with _tracer.start_as_current_span("a2a.sandbox.run", attributes={"argv0": argv[0]}):
            async with output.streaming():
                exit_code, timed_out = await self._box.exec(
                    argv, stdin=stdin, timeout=limit, sink=output.feed
                )
        return SandboxResult(
            exit_code=exit_code,
            stdout=bytes(output.stdout),
            stderr=bytes(output.stderr),
            duration_s=round(time.monotonic() - loop_time, 6),
            timed_out=timed_out,
            truncated=output.truncated,
        )

    async def write(self, path: str, data: bytes) -> None:
        """Store `data` at `path`."""
        await self._box.write_file(box_path(path), bytes(data))

    async def read(self, path: str) -> bytes:
        """Return the bytes at `path`."""
        return await self._box.read_file(box_path(path))

    async def list(self, prefix: str = "") -> list[str]:
        """Return the sorted file paths under `prefix`."""
        return await self._box.list_files(prefix)


def _workspace_of(spec: SandboxSpec, host: SandboxHost | None) -> WorkspaceClient | None:
    if spec.workspace == "none":
        return None
    if host is None:
        raise ValueError(
            f"workspace={spec.workspace!r} needs a run's workspace (open it with ctx.sandbox)"
        )
    return host.workspace


async def _shielded(closing: Awaitable[None]) -> None:
    """Finish `closing` even if the surrounding task is cancelled meanwhile."""
    task = asyncio.ensure_future(closing)
    try:
        await asyncio.shield(task)
    except asyncio.CancelledError:
        await task
        raise


def no_sandbox() -> SandboxUnavailable:
    """The error of a worker configured with `sandbox=none`, saying how to enable one."""
    return SandboxUnavailable(
        "no sandbox backend is configured on this worker (sandbox=none); set "
        "A2A_TEMPORAL_SANDBOX=process (confined subprocesses) or microsandbox (a microVM "
        "per session, needs KVM and the a2a-temporal[microsandbox] extra)"
    )
