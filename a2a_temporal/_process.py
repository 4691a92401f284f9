"""Child server processes that are always stopped, with their ports."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

__all__ = ["ManagedProcess", "free_port", "port_is_open", "signal_group"]

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """Ask for SIGTERM when the parent dies (Linux), so a killed parent leaves no server."""
    if sys.platform == "linux":
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_is_open(port: int, host: str = "127.0.0.1") -> bool:
    """Return whether something accepts TCP connections on `host:port`."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0


class ManagedProcess:
    """A server started in its own process group and logged to a file.

    Args:
        name: Short name for messages.
        argv: The command line.
        log_path: Where stdout and stderr go.
        env: Variables added to this process's environment for the child.
    """

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        log_path: Path,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.log_path = log_path
        self.env = {**os.environ, **env} if env is not None else None
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the process (in a new session, so its whole group can be stopped).

        Its log and whatever it creates are private to this user (umask 077).
        """
        fd = os.open(self.log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "ab") as log:
            self.process = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env=self.env,
                preexec_fn=_die_with_parent,
                umask=0o077,
            )

    @property
    def pid(self) -> int | None:
        """Process id, once started."""
        return self.process.pid if self.process else None

    def check_alive(self) -> None:
        """Raise `RuntimeError` with the log's tail if the process has exited."""
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(
                f"{self.name} exited with code {self.process.returncode}:\n{self.log_tail()}"
            )

    async def wait_until_listening(self, port: int, timeout: float = 60.0) -> None:
        """Wait until something accepts connections on `port` of 127.0.0.1.

        Raises:
            RuntimeError: The process exited first.
            TimeoutError: Nothing listened within `timeout` seconds.
        """
        async with asyncio.timeout(timeout):
            while not port_is_open(port):
                self.check_alive()
                await asyncio.sleep(0.05)

    def log_tail(self, lines: int = 20) -> str:
        """Return the last lines the process logged."""
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    async def stop(self, grace: float = 10.0) -> None:
        """Stop the process group: SIGTERM, then SIGKILL after `grace` seconds."""
        process = self.process
        if process is None or process.poll() is not None:
            return
        signal_group(process.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(asyncio.to_thread(process.wait), grace)
        except TimeoutError:
            signal_group(process.pid, signal.SIGKILL)
            await asyncio.to_thread(process.wait)


def signal_group(group: int, sig: signal.Signals) -> None:
    """Send `sig` to process group `group`; nothing if it is gone or no longer ours."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(group, sig)
