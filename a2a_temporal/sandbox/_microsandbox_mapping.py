"""The microsandbox backend's mapping: specs to the SDK's arguments, its errors to ours.

Pure: no microsandbox import, so it is tested without the package (or KVM).
"""

from __future__ import annotations

import errno
import os
import re
import signal
import socket
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, TypedDict

from a2a_temporal.errors import SandboxUnavailable
from a2a_temporal.sandbox._box_records import process_start_time
from a2a_temporal.sandbox.interface import MIB, SandboxSpec

if TYPE_CHECKING:
    from microsandbox import ImageSource, Network, Rlimit, Stdin

__all__ = [
    "DEFAULT_IMAGE",
    "GUEST_DIR",
    "LABEL_HOST",
    "MISSING_PACKAGE",
    "CreateArgs",
    "ErrorKind",
    "ExecArgs",
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
_SIGNALLED = -1
"""The exit code the guest agent reports for a process a signal ended."""
_LABEL_PID = "a2a-temporal.owner.pid"
_LABEL_START = "a2a-temporal.owner.start"
LABEL_HOST = "a2a-temporal.owner.host"
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
        if not pid.isdigit() or LABEL_HOST not in labels:
            return None
        return cls(int(pid), labels.get(_LABEL_START, ""), labels[LABEL_HOST])

    def labels(self) -> dict[str, str]:
        """The sandbox labels naming this owner."""
        return {_LABEL_PID: str(self.pid), _LABEL_START: self.start, LABEL_HOST: self.host}

    def gone(self, *, host: str, start_of: Callable[[int], str | None]) -> bool:
        """Whether this owner, seen from `host`, no longer runs.

        Owners on other hosts, or of unknown start time, are never taken for gone.
        """
        return self.host == host and bool(self.start) and start_of(self.pid) != self.start
