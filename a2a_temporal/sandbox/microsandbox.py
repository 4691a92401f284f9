"""The microsandbox backend: each session a microVM of its own, booted from an OCI image.

A box is one `microsandbox` sandbox (a KVM microVM via libkrun) named
`<prefix><uuid hex>`: its own kernel, filesystem and (unless asked) no
network. Commands run in `/work` with only the spec's environment variables
on top of the image's, under rlimits; files move through the guest agent.
Each sandbox carries its worker's pid, start time and hostname as labels, so
`sweep` can remove what a dead worker left.

The `microsandbox` package is imported on first use only: this module loads
without it, and constructing the backend says how to install it.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import posixpath
import socket
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Literal

from a2a_temporal.errors import SandboxUnavailable
from a2a_temporal.sandbox._box_records import process_start_time
from a2a_temporal.sandbox._microsandbox_mapping import (
    DEFAULT_IMAGE,
    GUEST_DIR,
    LABEL_HOST,
    MISSING_PACKAGE,
    Owner,
    box_error,
    check_name_prefix,
    classify_error,
    create_args,
    exec_args,
    exit_status,
    guest_path,
    image_reference,
    may_hold,
    new_sandbox_name,
    parent_dirs,
    spawn_failure,
    start_error,
    vm_log_detail,
)
from a2a_temporal.sandbox.interface import (
    DEFAULT_OUTPUT_LIMIT,
    DEFAULT_WRITE_BACK_LIMIT,
    OutputSink,
    SandboxBackend,
    SandboxBox,
    SandboxSpec,
    _shielded,
)

if TYPE_CHECKING:
    from microsandbox import (
        ExecEvent,
        ExecHandle,
        Sandbox,
        SandboxFsOps,
        SandboxHandle,
    )

__all__ = ["MicrosandboxSandbox"]

_DRAIN_AFTER_KILL = 5.0


def _require_package() -> None:
    try:
        importlib.import_module("microsandbox")
    except ImportError as exc:
        raise SandboxUnavailable(MISSING_PACKAGE) from exc


class MicrosandboxSandbox(SandboxBackend):
    """Runs each session in a microVM of its own (microsandbox; needs Linux KVM or macOS HVF).

    Args:
        default_image: OCI image of sessions whose spec names none.
        output_limit: Bytes of stdout and of stderr kept per command.
        write_back_limit: Bytes of changed files an `rw` session may write back.
        name_prefix: Start of every sandbox name; `sweep` removes only these.

    Raises:
        SandboxUnavailable: The `microsandbox` package is not installed.
        ValueError: `default_image` or `name_prefix` is malformed.
    """

    def __init__(
        self,
        *,
        default_image: str = DEFAULT_IMAGE,
        output_limit: int = DEFAULT_OUTPUT_LIMIT,
        write_back_limit: int = DEFAULT_WRITE_BACK_LIMIT,
        name_prefix: str = "a2a-",
    ) -> None:
        super().__init__(output_limit=output_limit, write_back_limit=write_back_limit)
        _require_package()
        self.default_image = image_reference(None, default_image)
        self.name_prefix = check_name_prefix(name_prefix)

    async def _open(self, spec: SandboxSpec) -> SandboxBox:
        import microsandbox as msb

        image = image_reference(spec.image, self.default_image)
        name = new_sandbox_name(self.name_prefix)
        try:
            sandbox = await msb.Sandbox.create(name, **create_args(spec, image, Owner.current()))
            await sandbox.fs.mkdir(GUEST_DIR)
        except msb.MicrosandboxError as exc:
            failure = exc
        except BaseException:
            await _shielded(_discard(name))
            raise
        else:
            return _MicrosandboxBox(sandbox, name, spec)
        try:
            detail = await _failure_detail(name)
        finally:
            await _shielded(_discard(name))
        raise start_error(failure, image, detail) from failure

    async def sweep(self) -> list[str]:
        """Stop and remove the sandboxes of workers on this host that are gone; return names.

        A sandbox that cannot be removed now is left for the next sweep.
        """
        import microsandbox as msb

        host = socket.gethostname()
        swept: list[str] = []
        async for handle in _sandboxes_of_host(host):
            if not handle.name.startswith(self.name_prefix):
                continue
            owner = Owner.from_labels(handle.config().get("labels") or {})
            if owner is not None and owner.gone(host=host, start_of=process_start_time):
                with contextlib.suppress(msb.MicrosandboxError):
                    await _discard(handle.name)
                    swept.append(handle.name)
        return swept


async def _sandboxes_of_host(host: str) -> AsyncIterator[SandboxHandle]:
    import microsandbox as msb

    cursor: str | None = None
    while True:
        page = await msb.Sandbox.list_with(cursor=cursor, labels={LABEL_HOST: host})
        for handle in page.sandboxes:
            yield handle
        cursor = page.next_cursor
        if cursor is None:
            return


async def _failure_detail(name: str) -> str:
    """The error lines of the system log of sandbox `name` ("" when it left none)."""
    import microsandbox as msb

    try:
        handle = await msb.Sandbox.get(name)
        entries = await handle.logs(sources=[msb.LogReadSource.SYSTEM])
    except msb.MicrosandboxError:
        return ""
    return vm_log_detail([entry.text() for entry in entries])


async def _discard(name: str) -> None:
    """Kill sandbox `name` if it runs and remove it; nothing when it is gone."""
    import microsandbox as msb

    try:
        handle = await msb.Sandbox.get(name)
    except msb.SandboxNotFoundError:
        return
    with contextlib.suppress(msb.SandboxNotRunningError, msb.SandboxNotFoundError):
        await handle.kill()
    with contextlib.suppress(msb.SandboxNotFoundError):
        await msb.Sandbox.remove(name)


class _MicrosandboxBox(SandboxBox):
    def __init__(self, sandbox: Sandbox, name: str, spec: SandboxSpec) -> None:
        self._sandbox = sandbox
        self._name = name
        self._spec = spec
        self._closed = False

    @property
    def _fs(self) -> SandboxFsOps:
        return self._sandbox.fs

    async def exec(
        self,
        argv: Sequence[str],
        *,
        stdin: bytes | None,
        timeout: float,
        sink: OutputSink,
    ) -> tuple[int, bool]:
        """Run `argv` in the guest, streaming its output; kill its process group on timeout."""
        import microsandbox as msb

        try:
            handle = await self._sandbox.exec_stream(
                argv[0], list(argv[1:]), **exec_args(self._spec, stdin)
            )
        except msb.MicrosandboxError as exc:
            return await _refused(exc, sink)
        run = _Run(sink)
        pump = asyncio.create_task(run.pump(handle))
        try:
            await asyncio.wait_for(asyncio.shield(pump), timeout)
        except TimeoutError:
            run.timed_out = True
            await _shielded(_kill(handle))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(pump), _DRAIN_AFTER_KILL)
        finally:
            if run.code is None:
                await _shielded(_kill(handle))
            pump.cancel()
            await asyncio.gather(pump, return_exceptions=True)
        return exit_status(run.code, timed_out=run.timed_out)

    async def write_file(self, path: str, data: bytes) -> None:
        """Store `data` at `path` under the guest's `/work`, making its directories."""
        import microsandbox as msb

        target = guest_path(path)
        try:
            for parent in parent_dirs(path):
                await _ensure_dir(self._fs, parent)
            await self._fs.write(target, data)
        except msb.MicrosandboxError as exc:
            raise box_error(exc, path) from exc

    async def read_file(self, path: str) -> bytes:
        """Return the bytes at `path` under the guest's `/work`."""
        import microsandbox as msb

        try:
            return await self._fs.read(guest_path(path))
        except msb.MicrosandboxError as exc:
            raise box_error(exc, path) from exc

    async def list_files(self, prefix: str) -> list[str]:
        """Return the regular files under the guest's `/work` that start with `prefix`."""
        import microsandbox as msb

        found: list[str] = []
        try:
            await _walk(self._fs, "", prefix, found)
        except msb.MicrosandboxError as exc:
            raise box_error(exc, prefix) from exc
        return sorted(found)

    async def close(self) -> None:
        """Kill the microVM and remove the sandbox; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        await _discard(self._name)


async def _ensure_dir(fs: SandboxFsOps, directory: str) -> None:
    """Make `directory` unless it exists (also when another write made it meanwhile)."""
    import microsandbox as msb

    if await fs.exists(directory):
        return
    try:
        await fs.mkdir(directory)
    except msb.MicrosandboxError:
        if not await fs.exists(directory):
            raise


async def _walk(fs: SandboxFsOps, directory: str, prefix: str, found: list[str]) -> None:
    """Add the regular files under box directory `directory` that start with `prefix`."""
    import microsandbox as msb

    where = guest_path(directory) if directory else GUEST_DIR
    for entry in await fs.list(where):
        name = posixpath.basename(entry.path)
        path = f"{directory}/{name}" if directory else name
        if entry.kind == msb.FsEntryKind.FILE and path.startswith(prefix):
            found.append(path)
        elif entry.kind == msb.FsEntryKind.DIRECTORY and may_hold(path, prefix):
            await _walk(fs, path, prefix, found)


async def _kill(handle: ExecHandle) -> None:
    """SIGKILL the command's process group (nothing when it already ended)."""
    import microsandbox as msb

    with contextlib.suppress(msb.MicrosandboxError):
        await handle.kill()


async def _refused(exc: BaseException, sink: OutputSink) -> tuple[int, bool]:
    """The result of a command the guest would not start."""
    kind = classify_error(exc)
    if kind == "vm":
        raise SandboxUnavailable(f"the microVM of this session is gone: {exc}") from exc
    if kind != "spawn":
        raise exc
    code, text = spawn_failure(str(exc), None)
    await sink("stderr", text)
    return code, False


class _Run:
    """One command's events: output goes to the sink until it exits or fails to start."""

    def __init__(self, sink: OutputSink) -> None:
        self.code: int | None = None
        self.timed_out = False
        self._sink = sink

    async def pump(self, handle: ExecHandle) -> None:
        while (event := await handle.recv()) is not None:
            if await self._take(event):
                return

    async def _take(self, event: ExecEvent) -> bool:
        """Handle one event; True when the command is over."""
        import microsandbox as msb

        kind = event.event_type
        if kind in (msb.ExecEventType.STDOUT, msb.ExecEventType.STDERR):
            if event.data:
                stream: Literal["stdout", "stderr"] = (
                    "stdout" if kind == msb.ExecEventType.STDOUT else "stderr"
                )
                await self._sink(stream, event.data)
            return False
        if kind == msb.ExecEventType.EXITED:
            self.code = event.code
            return True
        if kind == msb.ExecEventType.FAILED:
            message = (event.data or b"").decode(errors="replace")
            self.code, text = spawn_failure(message, event.code)
            await self._sink("stderr", text)
            return True
        return False
