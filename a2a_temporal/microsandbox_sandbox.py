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
import errno
import importlib
import os
import posixpath
import re
import signal
import socket
import uuid
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, TypedDict

from a2a_temporal._box_records import process_start_time
from a2a_temporal.errors import SandboxUnavailable
from a2a_temporal.sandbox import (
    DEFAULT_OUTPUT_LIMIT,
    MIB,
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
        ImageSource,
        Network,
        Rlimit,
        Sandbox,
        SandboxFsOps,
        SandboxHandle,
        Stdin,
    )

__all__ = [
    "DEFAULT_IMAGE",
    "GUEST_DIR",
    "MISSING_PACKAGE",
    "CreateArgs",
    "ErrorKind",
    "ExecArgs",
    "MicrosandboxSandbox",
    "Owner",
    "box_error",
    "check_name_prefix",
    "classify_error",
    "create_args",
    "exec_args",
    "exit_status",
    "guest_path",
    "image_reference",
    "may_hold",
    "new_sandbox_name",
    "parent_dirs",
    "spawn_failure",
    "start_error",
    "vm_log_detail",
]

DEFAULT_IMAGE = "python:3.11-slim"
GUEST_DIR = "/work"
MISSING_PACKAGE = (
    "the microsandbox sandbox backend needs the microsandbox package: "
    "pip install 'a2a-temporal[microsandbox]'"
)
_DRAIN_AFTER_KILL = 5.0
_SIGNALLED = -1
"""The exit code the guest agent reports for a process a signal ended."""
_LABEL_PID = "a2a-temporal.owner.pid"
_LABEL_START = "a2a-temporal.owner.start"
_LABEL_HOST = "a2a-temporal.owner.host"
_PREFIX = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")

# An OCI image reference (distribution/reference grammar). A path instead
# would make microsandbox boot the worker's own directory as the guest root.
_ALNUM = r"[a-z0-9]+"
_PATH_COMPONENT = rf"{_ALNUM}(?:(?:[._]|__|-+){_ALNUM})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*(?::[0-9]+)?"
_TAG = r"\w[\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
_REFERENCE = re.compile(
    rf"(?:{_DOMAIN}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*(?::{_TAG})?(?:@{_DIGEST})?",
    re.ASCII,
)

ErrorKind = Literal["not_found", "image", "runtime", "spawn", "vm", "other"]
"""What a microsandbox error means here (see `classify_error`)."""


class CreateArgs(TypedDict):
    """Keyword arguments of `microsandbox.Sandbox.create` for one box."""

    image: ImageSource
    memory: int
    cpus: int
    workdir: str
    network: Network
    labels: dict[str, str]


class ExecArgs(TypedDict):
    """Keyword arguments of `microsandbox.Sandbox.exec_stream` for one command."""

    cwd: str
    env: dict[str, str]
    stdin: Stdin
    rlimits: list[Rlimit]


def image_reference(image: str | None, default: str) -> str:
    """Return the OCI image reference a box boots (`default` for None).

    Raises:
        ValueError: `image` is not an OCI reference, e.g. a host path, which
            microsandbox would mount as the guest's root filesystem.
    """
    reference = default if image is None else image
    if len(reference) > 255 or not _REFERENCE.fullmatch(reference):
        raise ValueError(
            f"image {reference!r} is not an OCI image reference such as 'python:3.11-slim'"
        )
    return reference


def check_name_prefix(prefix: str) -> str:
    """Return `prefix` if sandbox names can start with it.

    Raises:
        ValueError: `prefix` is empty, longer than 64 characters or not made of
            letters, digits and `._-`.
    """
    if not _PREFIX.fullmatch(prefix):
        raise ValueError(
            f"name prefix {prefix!r} must be 1-64 letters, digits or '._-', starting with "
            "a letter or digit"
        )
    return prefix


def new_sandbox_name(prefix: str) -> str:
    """Return a fresh sandbox name: `prefix` and a random uuid in hex."""
    return f"{prefix}{uuid.uuid4().hex}"


def create_args(spec: SandboxSpec, image: str, owner: Owner) -> CreateArgs:
    """Map `spec` to the sandbox's creation options.

    The environment is not among them (it is given per command, so that it is
    not stored with the sandbox's configuration); `network=False` denies all
    traffic, `network=True` allows DNS and public addresses only (not the
    host, private or link-local/metadata ones).
    """
    import microsandbox as msb

    network = (
        msb.Network.from_profiles(msb.NetworkProfile.PUBLIC) if spec.network else msb.Network.none()
    )
    return CreateArgs(
        image=msb.Image.oci(image),
        memory=spec.memory_mib,
        cpus=spec.cpus,
        workdir=GUEST_DIR,
        network=network,
        labels=owner.labels(),
    )


def exec_args(spec: SandboxSpec, stdin: bytes | None) -> ExecArgs:
    """Map `spec` and `stdin` to one command's options: directory, environment, rlimits."""
    import microsandbox as msb

    return ExecArgs(
        cwd=GUEST_DIR,
        env=dict(spec.env),
        stdin=msb.Stdin.null() if stdin is None else msb.Stdin.bytes(stdin),
        rlimits=[
            msb.Rlimit.nproc(spec.max_processes),
            msb.Rlimit.fsize(spec.max_file_mib * MIB),
        ],
    )


def exit_status(code: int | None, *, timed_out: bool) -> tuple[int, bool]:
    """Return (exit code, timed out) for what the guest reported.

    A command killed for its timeout reports -9 (SIGKILL) when the guest gave
    no code of its own, as the process sandbox does.

    Raises:
        SandboxUnavailable: The command never reported an exit (the VM went away).
    """
    if timed_out and code in (None, _SIGNALLED):
        return -signal.SIGKILL, True
    if code is None:
        raise SandboxUnavailable("the microVM stopped before the command exited")
    return code, timed_out


def spawn_failure(message: str, error_number: int | None) -> tuple[int, bytes]:
    """Return the exit code and stderr of a command that could not start.

    127 when the program does not exist, else 126, as a shell reports it.
    """
    missing = error_number == errno.ENOENT or _says_enoent(message)
    return (127 if missing else 126), f"cannot run the command: {message}\n".encode()


def _says_enoent(text: str) -> bool:
    return "No such file or directory" in text or "(os error 2)" in text


def classify_error(exc: BaseException) -> ErrorKind:
    """Say what a microsandbox error means for a box, from its code and text.

    `not_found`: no such file in the guest; `image`: the image cannot be had;
    `runtime`: msb/libkrunfw missing; `spawn`: the command could not start;
    `vm`: the microVM did not start or is gone; `other`: anything else.
    """
    code = getattr(exc, "code", "")
    text = str(exc)
    if code == "path-not-found" or (code == "filesystem-error" and _says_enoent(text)):
        return "not_found"
    if code in ("image-not-found", "image-pull-failed") or text.startswith("image error"):
        return "image"
    if code in ("runtime-not-installed", "runtime-incomplete"):
        return "runtime"
    if code == "exec-failed":
        return "spawn"
    if code in ("sandbox-not-found", "sandbox-not-running") or text.startswith("failed to start"):
        return "vm"
    return "other"


def vm_log_detail(lines: Sequence[str]) -> str:
    """Return the error lines of a sandbox's system log, joined (e.g. KVM's exit reason)."""
    errors = [line.strip() for line in lines if line.startswith("ERROR")]
    return "; ".join(errors[-5:])


def start_error(exc: BaseException, image: str, detail: str = "") -> SandboxUnavailable:
    """Return the error for a box that could not be made, carrying the SDK's text."""
    kind = classify_error(exc)
    if kind == "image":
        return SandboxUnavailable(
            f"microsandbox cannot get image {image!r} (the host needs registry access, or "
            f"the image in its cache: `msb pull {image}`): {exc}"
        )
    if kind == "runtime":
        return SandboxUnavailable(f"the microsandbox runtime (msb, libkrunfw) is not usable: {exc}")
    reason = f"{exc} [{detail}]" if detail else str(exc)
    return SandboxUnavailable(
        f"microsandbox could not start a microVM for image {image!r}: {reason}; it needs "
        "/dev/kvm with hardware virtualization (nested virtualization when the worker "
        "itself runs in a VM)"
    )


def box_error(exc: BaseException, path: str) -> Exception:
    """Return the error a file operation on `path` raises for a microsandbox error."""
    kind = classify_error(exc)
    if kind == "not_found":
        return FileNotFoundError(errno.ENOENT, "the sandbox has no such file", path)
    if kind == "vm":
        return SandboxUnavailable(f"the microVM of this session is gone: {exc}")
    return OSError(f"sandbox file {path!r}: {exc}")


def guest_path(path: str) -> str:
    """Return where the box path `path` (relative, checked) is inside the guest."""
    return f"{GUEST_DIR}/{path}"


def parent_dirs(path: str) -> list[str]:
    """The guest directories `path` needs, outermost first (`a/b/c` -> `/work/a`, `/work/a/b`)."""
    parts = path.split("/")[:-1]
    return [guest_path("/".join(parts[: depth + 1])) for depth in range(len(parts))]


def may_hold(directory: str, prefix: str) -> bool:
    """Whether files under the box directory `directory` can start with `prefix`."""
    inside = f"{directory}/"
    return inside.startswith(prefix) or prefix.startswith(inside)


@dataclass(frozen=True)
class Owner:
    """The worker process that made a sandbox, as its labels record it.

    Attributes:
        pid: The process id.
        start: Its start time in clock ticks ("" when unknown), so that a
            reused pid is not taken for the owner.
        host: The hostname it ran on.
    """

    pid: int
    start: str
    host: str

    @classmethod
    def current(cls) -> Owner:
        """This process."""
        pid = os.getpid()
        return cls(pid, process_start_time(pid) or "", socket.gethostname())

    @classmethod
    def from_labels(cls, labels: Mapping[str, str]) -> Owner | None:
        """The owner `labels` name, or None when they name none."""
        pid = labels.get(_LABEL_PID, "")
        if not pid.isdigit() or _LABEL_HOST not in labels:
            return None
        return cls(int(pid), labels.get(_LABEL_START, ""), labels[_LABEL_HOST])

    def labels(self) -> dict[str, str]:
        """The sandbox labels naming this owner."""
        return {_LABEL_PID: str(self.pid), _LABEL_START: self.start, _LABEL_HOST: self.host}

    def gone(self, *, host: str, start_of: Callable[[int], str | None]) -> bool:
        """Whether this owner, seen from `host`, no longer runs.

        Owners on other hosts, or of unknown start time, are never taken for gone.
        """
        return self.host == host and bool(self.start) and start_of(self.pid) != self.start


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
        name_prefix: str = "a2a-",
    ) -> None:
        super().__init__(output_limit=output_limit)
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
        page = await msb.Sandbox.list_with(cursor=cursor, labels={_LABEL_HOST: host})
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
