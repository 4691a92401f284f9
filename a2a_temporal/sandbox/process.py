"""The process sandbox: each command a confined subprocess of the worker, in a box directory.

Confinement comes from the kernel's own tools (util-linux `setpriv`, `unshare`,
and dash's `ulimit` or else `prlimit`): no way to gain privileges (setuid
binaries stay unprivileged); a user, mount, PID, IPC and (with
`network=False`) network namespace per command, so killing the command kills
everything it started, and it sees no network and no other process; rlimits
on address space, CPU seconds, file size, processes and open files; a scrubbed
environment; a fresh directory per session. A worker running as root runs
commands as an unprivileged user.

It is not a security boundary against a determined attacker: the commands
share the worker's kernel and can read whatever files their user can read.
Use the microsandbox backend (a microVM per session) for hostile code.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import shutil
import signal
import stat
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from a2a_temporal._process import signal_group
from a2a_temporal.errors import SandboxUnavailable
from a2a_temporal.sandbox._box_files import (
    list_box_files,
    make_box_dir,
    read_box_file,
    write_box_file,
)
from a2a_temporal.sandbox._box_records import (
    BoxRecord,
    UntrustedRoot,
    kill_box_processes,
    remove_box,
    remove_empty_box,
    sweep_boxes,
    trusted_root,
)
from a2a_temporal.sandbox._launchers import (
    command_launcher,
    namespace_launcher,
    user_launcher,
)
from a2a_temporal.sandbox.interface import (
    DEFAULT_OUTPUT_LIMIT,
    DEFAULT_WRITE_BACK_LIMIT,
    WORKSPACE_DIR,
    OutputSink,
    SandboxBackend,
    SandboxBox,
    SandboxSpec,
)

__all__ = ["NOBODY", "ProcessSandbox", "default_sandbox_root"]

NOBODY = (65534, 65534)
DEFAULT_SWEEP_INTERVAL = 30.0
_PATH = "/usr/local/bin:/usr/bin:/bin"
_TOOLS = ("setpriv", "unshare", "sh")
# Either sets the rlimits: dash's `ulimit` builtin (one exec fewer), else util-linux's `prlimit`.
_LIMITERS = ("dash", "prlimit")
# How long a command's output is still read after it ended: with namespaces its
# pipes close when it dies, unless something outside was handed them.
_DRAIN = {True: 10.0, False: 1.0}
# The clock of the sweep's throttle (a name of its own, so tests can move it on).
_now = time.monotonic


def default_sandbox_root() -> Path:
    """Where boxes live unless configured: `<tmp>/a2a-temporal-sandbox`."""
    return Path(tempfile.gettempdir()) / "a2a-temporal-sandbox"


class ProcessSandbox(SandboxBackend):
    """Runs commands as confined subprocesses of the worker (the local default backend).

    Args:
        root: Directory holding the boxes (and their records, for the sweeper);
            made if missing, else it must be this user's and writable by no one else.
        output_limit: Bytes of stdout and of stderr kept per command.
        write_back_limit: Bytes of changed files an `rw` session may write back.
        run_as: (uid, gid) commands run as when the worker runs as root
            (ignored otherwise: commands then run as the worker's user).
        namespaces: Use Linux namespaces (None: when the kernel allows them).
        sweep_interval: Seconds between the sweeps for dead workers' boxes that
            opening a session runs (0: every open); the first open always sweeps.
    """

    def __init__(
        self,
        *,
        root: Path | None = None,
        output_limit: int = DEFAULT_OUTPUT_LIMIT,
        write_back_limit: int = DEFAULT_WRITE_BACK_LIMIT,
        run_as: tuple[int, int] = NOBODY,
        namespaces: bool | None = None,
        sweep_interval: float = DEFAULT_SWEEP_INTERVAL,
    ) -> None:
        super().__init__(output_limit=output_limit, write_back_limit=write_back_limit)
        if sweep_interval < 0:
            raise ValueError("sweep_interval must be >= 0")
        self.root = root or default_sandbox_root()
        self.run_as = run_as if os.geteuid() == 0 else None
        self._namespaces = namespaces
        self._refusal: str | None = None
        self._probe_lock = asyncio.Lock()
        self._tools: dict[str, str] = {}
        self.sweep_interval = sweep_interval
        self._swept_at: float | None = None

    async def sweep(self) -> list[str]:
        """Kill the processes and remove the boxes of workers that died; return their ids.

        Raises:
            SandboxUnavailable: The root is not a directory of this user's own.
        """
        self._swept_at = _now()
        try:
            return await asyncio.to_thread(sweep_boxes, self.root)
        except UntrustedRoot as exc:
            raise SandboxUnavailable(str(exc)) from None

    async def namespaces_refused(self) -> str | None:
        """Why this kernel refuses the namespaces commands run in, or None when it allows them."""
        async with self._probe_lock:
            if self._namespaces is None:
                self._refusal = await self._probe()
                self._namespaces = self._refusal is None
            elif not self._namespaces and self._refusal is None:
                self._refusal = "namespaces are turned off for this sandbox"
        return self._refusal

    def _tool_paths(self) -> dict[str, str]:
        """Absolute paths of the launchers, looked up in a fixed PATH (never a spec's)."""
        if not self._tools:
            found = {name: shutil.which(name, path=_PATH) for name in (*_TOOLS, *_LIMITERS)}
            missing = [name for name in _TOOLS if found[name] is None]
            if all(found[name] is None for name in _LIMITERS):
                missing.append("prlimit")
            if missing:
                raise SandboxUnavailable(
                    f"the process sandbox needs util-linux's {', '.join(sorted(missing))} "
                    f"in {_PATH}"
                )
            self._tools = {name: path for name, path in found.items() if path is not None}
        return self._tools

    async def _probe(self) -> str | None:
        tools = self._tool_paths()
        probe = await asyncio.create_subprocess_exec(
            *user_launcher(tools, self.run_as),
            *namespace_launcher(tools, network=False),
            tools["sh"],
            "-c",
            ":",
            cwd="/",
            env={"PATH": _PATH},
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        _, err = await probe.communicate()
        if probe.returncode == 0:
            return None
        return err.decode(errors="replace").strip() or f"unshare exited {probe.returncode}"

    async def _open(self, spec: SandboxSpec) -> SandboxBox:
        if spec.image is not None:
            raise SandboxUnavailable(
                f"the process sandbox runs commands on the worker's own system and cannot "
                f"use image {spec.image!r}; use the microsandbox backend for images"
            )
        tools = self._tool_paths()
        refusal = await self.namespaces_refused()
        if refusal is not None and self.run_as is None:
            raise SandboxUnavailable(
                f"the process sandbox cannot isolate commands here: no namespaces ({refusal}) "
                "and the worker is not root, so commands would run as the worker's own user "
                "and could read its environment; allow user namespaces, run the worker as "
                "root (commands then run as sandbox_uid) or use the microsandbox backend"
            )
        if not spec.network and refusal is not None:
            raise SandboxUnavailable(
                "network=False needs a network namespace, which this system refuses "
                f"({refusal}); ask for network=True to run without network isolation"
            )
        self._check_root()
        if self._swept_at is None or _now() - self._swept_at >= self.sweep_interval:
            await self.sweep()
        record = BoxRecord(self.root, uuid.uuid4().hex, self.run_as, namespaces=refusal is None)
        self._make_box(record, spec)
        return _ProcessBox(record, spec, tools, self.run_as)

    def _make_box(self, record: BoxRecord, spec: SandboxSpec) -> None:
        """Make the box directory, its record and its environment file (quick: not cancellable).

        The environment file holds the spec's variables only, and a spec
        without any gets none: the launcher sets the rest.
        """
        record.save()
        record.box.mkdir(mode=0o700)
        if spec.env:
            write_box_file(
                str(self.root),
                record.environment.name,
                "".join(f"export {k}={shlex.quote(v)}\n" for k, v in spec.env.items()).encode(),
                owner=self.run_as,
                mode=0o400,
            )
        if self.run_as is not None:
            os.chown(record.box, *self.run_as)

    def _check_root(self) -> None:
        """Make the root, or check that an existing one is this user's own; then reachability."""
        try:
            self.root.mkdir(parents=True, mode=0o711)
            self.root.chmod(0o711)
        except FileExistsError:
            try:
                trusted_root(self.root)
            except UntrustedRoot as exc:
                raise SandboxUnavailable(str(exc)) from None
        if self.run_as is None:
            return
        for folder in (self.root, *self.root.parents):
            info = folder.stat()
            if info.st_uid != self.run_as[0] and not info.st_mode & stat.S_IXOTH:
                raise SandboxUnavailable(
                    f"sandboxed commands run as uid {self.run_as[0]}, which cannot enter "
                    f"{folder} (mode {stat.S_IMODE(info.st_mode):o}); choose a sandbox_dir "
                    "every user can reach"
                )


class _ProcessBox(SandboxBox):
    def __init__(
        self,
        record: BoxRecord,
        spec: SandboxSpec,
        tools: dict[str, str],
        run_as: tuple[int, int] | None,
    ) -> None:
        self._record = record
        self._dir = str(record.box)
        self._spec = spec
        self._tools = tools
        self._run_as = run_as

    def _launcher(self, timeout: float) -> list[str]:
        """The chain a command runs under (see `_command_launcher`)."""
        return command_launcher(
            self._tools,
            self._run_as,
            self._spec,
            timeout,
            self._dir,
            str(self._record.environment) if self._spec.env else "",
            namespaces=self._record.namespaces,
        )

    async def exec(
        self,
        argv: Sequence[str],
        *,
        stdin: bytes | None,
        timeout: float,
        sink: OutputSink,
    ) -> tuple[int, bool]:
        """Run `argv` in the box; kill its whole process tree on timeout or cancel."""
        if self._record.closed:
            raise RuntimeError("this sandbox session is closed")
        process = await asyncio.create_subprocess_exec(
            *self._launcher(timeout),
            *argv,
            cwd=self._dir,
            env={"PATH": _PATH},
            stdin=asyncio.subprocess.DEVNULL if stdin is None else asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
        )
        group = process.pid
        self._record.add_group(group)
        helpers = [
            asyncio.create_task(_pump(process.stdout, "stdout", sink)),
            asyncio.create_task(_pump(process.stderr, "stderr", sink)),
        ]
        if stdin is not None:
            helpers.append(asyncio.create_task(_feed(process.stdin, stdin)))
        timed_out = False
        try:
            try:
                async with asyncio.timeout(timeout):
                    await process.wait()
            except TimeoutError:
                timed_out = True
        finally:
            await _end(process, group, helpers, _DRAIN[self._record.namespaces])
            self._record.drop_group(group)
        return process.returncode if process.returncode is not None else -1, timed_out

    async def workspace_ready(self) -> None:
        """Make `workspace/` (even when empty); in a `ro` box, read-only for the sandboxed user."""
        if self._spec.workspace == "none":
            return
        owner = self._owner(f"{WORKSPACE_DIR}/")
        await asyncio.to_thread(make_box_dir, self._dir, WORKSPACE_DIR, owner=owner)
        if self._spec.workspace == "ro":
            await asyncio.to_thread(_seal, os.path.join(self._dir, WORKSPACE_DIR))

    def _owner(self, path: str) -> tuple[int, int] | None:
        read_only = self._spec.workspace == "ro" and path.startswith(f"{WORKSPACE_DIR}/")
        return None if read_only else self._run_as

    async def write_file(self, path: str, data: bytes) -> None:
        """Store `data` at `path` in the box."""
        await asyncio.to_thread(write_box_file, self._dir, path, data, owner=self._owner(path))

    async def read_file(self, path: str) -> bytes:
        """Return the bytes at `path` in the box."""
        return await asyncio.to_thread(read_box_file, self._dir, path)

    async def list_files(self, prefix: str) -> list[str]:
        """Return the files in the box under `prefix`."""
        return await asyncio.to_thread(list_box_files, self._dir, prefix)

    async def close(self) -> None:
        """Kill what still runs in the box and remove it."""
        if self._record.closed:
            return
        self._record.closed = True
        for group in self._record.groups:
            signal_group(group, signal.SIGKILL)
        if self._record.groups or not self._record.namespaces:
            await asyncio.to_thread(kill_box_processes, self._record)
        if not remove_empty_box(self._record):
            await asyncio.to_thread(remove_box, self._record)


def _seal(top: str) -> None:
    if not os.path.isdir(top):
        return
    for parent, dirs, files in os.walk(top, topdown=False):
        for name in files:
            path = os.path.join(parent, name)
            if not os.path.islink(path):
                os.chmod(path, 0o444)
        for name in dirs:
            path = os.path.join(parent, name)
            if not os.path.islink(path):
                os.chmod(path, 0o555)
    os.chmod(top, 0o555)


async def _end(
    process: asyncio.subprocess.Process,
    group: int,
    helpers: list[asyncio.Task[None]],
    drain: float,
) -> None:
    """Kill whatever the command left and collect its output (for `drain` seconds at most)."""
    signal_group(group, signal.SIGKILL)
    await process.wait()
    _, late = await asyncio.wait(helpers, timeout=drain)
    for helper in late:
        helper.cancel()
    await asyncio.gather(*helpers, return_exceptions=True)


async def _pump(
    stream: asyncio.StreamReader | None, name: Literal["stdout", "stderr"], sink: OutputSink
) -> None:
    assert stream is not None
    while chunk := await stream.read(64 * 1024):
        await sink(name, chunk)


async def _feed(stream: asyncio.StreamWriter | None, data: bytes) -> None:
    assert stream is not None
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        stream.write(data)
        await stream.drain()
        stream.close()
