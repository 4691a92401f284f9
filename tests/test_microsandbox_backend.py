"""The microsandbox backend: its option, result, error and path mappings, and one real microVM."""

import asyncio
import contextlib
import errno
import os
import re
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from a2a_temporal.errors import SandboxUnavailable
from a2a_temporal.sandbox._box_records import process_start_time
from a2a_temporal.sandbox._microsandbox_mapping import (
    DEFAULT_IMAGE,
    GUEST_DIR,
    Owner,
    box_error,
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
from a2a_temporal.sandbox.interface import SandboxSpec
from a2a_temporal.sandbox.microsandbox import MicrosandboxSandbox

msb = pytest.importorskip("microsandbox")

# What microsandbox 0.7.11 reported on a host without registry access and on
# one whose KVM cannot run its guests (nested virtualization).
PULL_FAILURE = (
    "image error: registry error: error sending request for url "
    "(https://index.docker.io/v2/library/python/manifests/3.11-slim)"
)
START_FAILURE = (
    'failed to start "a2a-0f": sandbox process exited (exit status: 1) '
    "before agent relay became available"
)
SYSTEM_LOG = [
    "INFO microsandbox_runtime::runner::vm: sandbox starting sandbox=a2a-0f\n",
    "INFO microsandbox_runtime::runner::vm: entering VM sandbox=a2a-0f\n",
    "ERROR msb_krun_vmm::linux::vstate: Received KVM_EXIT_INTERNAL_ERROR signal\n",
    "INFO msb_krun_vmm: Vmm is stopping.\n",
    "--- sandbox stopped ---\n",
]


def test_image_defaults_when_the_spec_names_none() -> None:
    assert image_reference(None, DEFAULT_IMAGE) == "python:3.11-slim"
    assert image_reference("alpine:3.20", DEFAULT_IMAGE) == "alpine:3.20"


@pytest.mark.parametrize(
    "image",
    [
        "python",
        "python:3.12-slim",
        "ghcr.io/org/team/tool:v1.2",
        "localhost:5000/a__b/c-d",
        "docker.io/library/python@sha256:" + "a" * 64,
    ],
)
def test_oci_references_are_accepted(image: str) -> None:
    assert image_reference(image, DEFAULT_IMAGE) == image


@pytest.mark.parametrize(
    "image",
    ["/", "/tmp/rootfs", "./rootfs", "../rootfs", "~/rootfs", "", "Python:3", "py thon", "a" * 256],
)
def test_paths_and_malformed_images_are_refused(image: str) -> None:
    with pytest.raises(ValueError, match="not an OCI image reference"):
        image_reference(image, DEFAULT_IMAGE)


def test_backend_checks_its_default_image_and_name_prefix() -> None:
    with pytest.raises(ValueError, match="OCI image reference"):
        MicrosandboxSandbox(default_image="/srv/rootfs")
    for prefix in ("", "a/b-", "-a", "x" * 65):
        with pytest.raises(ValueError, match="name prefix"):
            MicrosandboxSandbox(name_prefix=prefix)


def test_sandbox_names_are_unique_and_carry_the_prefix() -> None:
    names = {new_sandbox_name("a2a-") for _ in range(200)}
    assert len(names) == 200
    assert all(re.fullmatch(r"a2a-[0-9a-f]{32}", name) for name in names)


def test_spec_maps_to_creation_options_without_the_environment() -> None:
    spec = SandboxSpec(image="python:3.12-slim", memory_mib=768, cpus=2, env={"TOKEN": "t"})
    owner = Owner(pid=42, start="1234", host="worker-1")
    assert create_args(spec, "python:3.12-slim", owner) == {
        "image": msb.Image.oci("python:3.12-slim"),
        "memory": 768,
        "cpus": 2,
        "workdir": GUEST_DIR,
        "network": msb.Network.none(),
        "labels": {
            "a2a-temporal.owner.pid": "42",
            "a2a-temporal.owner.start": "1234",
            "a2a-temporal.owner.host": "worker-1",
        },
    }


def test_network_denies_everything_unless_asked_then_public_only() -> None:
    owner = Owner(pid=1, start="1", host="h")
    closed = create_args(SandboxSpec(network=False), DEFAULT_IMAGE, owner)["network"]
    assert closed.policy == msb.NetworkPolicy.none()
    opened = create_args(SandboxSpec(network=True), DEFAULT_IMAGE, owner)["network"]
    assert opened == msb.Network.from_profiles(msb.NetworkProfile.PUBLIC)
    assert opened.policy is not None
    assert opened.policy.default_egress == msb.Action.DENY


def test_spec_maps_to_command_options() -> None:
    spec = SandboxSpec(env={"A": "1"}, max_processes=7, max_file_mib=3)
    args = exec_args(spec, None)
    assert args == {
        "cwd": "/work",
        "env": {"A": "1"},
        "stdin": msb.Stdin.null(),
        "rlimits": [
            msb.Rlimit(msb.RlimitResource.NPROC, 7, 7),
            msb.Rlimit(msb.RlimitResource.FSIZE, 3 * 1024 * 1024, 3 * 1024 * 1024),
        ],
    }
    assert exec_args(spec, b"input")["stdin"] == msb.Stdin.bytes(b"input")


@pytest.mark.parametrize(
    ("code", "timed_out", "expected"),
    [
        (0, False, (0, False)),
        (3, False, (3, False)),
        (-1, False, (-1, False)),
        (-1, True, (-9, True)),
        (None, True, (-9, True)),
        (0, True, (0, True)),
    ],
)
def test_exit_status(code: int | None, timed_out: bool, expected: tuple[int, bool]) -> None:
    assert exit_status(code, timed_out=timed_out) == expected


def test_a_command_that_never_exited_means_the_vm_is_gone() -> None:
    with pytest.raises(SandboxUnavailable, match="stopped before the command exited"):
        exit_status(None, timed_out=False)


def test_spawn_failures_exit_like_a_shell() -> None:
    code, stderr = spawn_failure("exec: nope", errno.ENOENT)
    assert (code, stderr) == (127, b"cannot run the command: exec: nope\n")
    assert spawn_failure("spawn: No such file or directory (os error 2)", None)[0] == 127
    assert spawn_failure("spawn: Permission denied (os error 13)", errno.EACCES)[0] == 126


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (msb.PathNotFoundError("no /work/x"), "not_found"),
        (msb.FilesystemError("open: No such file or directory (os error 2)"), "not_found"),
        (msb.FilesystemError("open: Is a directory (os error 21)"), "other"),
        (msb.MicrosandboxError(PULL_FAILURE), "image"),
        (msb.ImagePullFailedError("timeout"), "image"),
        (msb.ImageNotFoundError("python:99"), "image"),
        (msb.RuntimeNotInstalledError("no msb"), "runtime"),
        (msb.ExecFailedError("no such program"), "spawn"),
        (msb.MicrosandboxError(START_FAILURE), "vm"),
        (msb.SandboxNotRunningError("a2a-0f"), "vm"),
        (msb.SandboxNotFoundError("a2a-0f"), "vm"),
        (msb.MicrosandboxError("something else"), "other"),
        (ValueError("not from the SDK"), "other"),
    ],
)
def test_classify_error(error: Exception, kind: str) -> None:
    assert classify_error(error) == kind


def test_start_errors_carry_the_sdk_text_and_what_to_do() -> None:
    pulled = start_error(msb.MicrosandboxError(PULL_FAILURE), DEFAULT_IMAGE)
    assert PULL_FAILURE in str(pulled)
    assert "msb pull python:3.11-slim" in str(pulled)
    detail = vm_log_detail(SYSTEM_LOG)
    started = start_error(msb.MicrosandboxError(START_FAILURE), DEFAULT_IMAGE, detail)
    assert START_FAILURE in str(started)
    assert "Received KVM_EXIT_INTERNAL_ERROR signal" in str(started)
    assert "/dev/kvm" in str(started)
    missing = start_error(msb.RuntimeIncompleteError("no libkrunfw"), DEFAULT_IMAGE)
    assert "runtime" in str(missing)
    assert "no libkrunfw" in str(missing)


def test_vm_log_detail_keeps_the_error_lines() -> None:
    assert vm_log_detail(SYSTEM_LOG) == (
        "ERROR msb_krun_vmm::linux::vstate: Received KVM_EXIT_INTERNAL_ERROR signal"
    )
    assert vm_log_detail(SYSTEM_LOG[:2]) == ""


def test_file_errors_map_to_python_errors() -> None:
    missing = box_error(msb.PathNotFoundError("gone"), "data/x.txt")
    assert isinstance(missing, FileNotFoundError)
    assert (missing.errno, missing.filename) == (errno.ENOENT, "data/x.txt")
    assert isinstance(box_error(msb.SandboxNotRunningError("a2a-0f"), "x"), SandboxUnavailable)
    other = box_error(msb.FilesystemError("open: Is a directory (os error 21)"), "d")
    assert type(other) is OSError
    assert "Is a directory" in str(other)


def test_box_paths_live_under_the_guest_directory() -> None:
    assert guest_path("a.txt") == "/work/a.txt"
    assert guest_path("workspace/d/b.txt") == "/work/workspace/d/b.txt"


@pytest.mark.parametrize(
    ("directory", "prefix", "expected"),
    [
        ("workspace", "", True),
        ("workspace", "workspace/", True),
        ("workspace", "workspace/sub/x", True),
        ("workspace/sub", "workspace/", True),
        ("workspace", "work", True),
        ("workspace", "other/", False),
        ("a", "ab", False),
        ("ab", "a", True),
    ],
)
def test_listing_enters_only_directories_that_can_match(
    directory: str, prefix: str, expected: bool
) -> None:
    assert may_hold(directory, prefix) is expected


def test_owner_labels_round_trip() -> None:
    owner = Owner.current()
    assert owner.pid == os.getpid()
    assert owner.host == socket.gethostname()
    assert owner.start.isdigit()
    assert Owner.from_labels(owner.labels()) == owner
    assert Owner.from_labels({}) is None
    assert Owner.from_labels({**owner.labels(), "a2a-temporal.owner.pid": "x"}) is None


def test_only_owners_gone_from_this_host_are_gone() -> None:
    me = Owner.current()
    host = socket.gethostname()
    assert not me.gone(host=host, start_of=process_start_time)
    reused_pid = Owner(me.pid, str(int(me.start) + 1), host)
    assert reused_pid.gone(host=host, start_of=process_start_time)
    assert not Owner(me.pid, "1", "other-host").gone(host=host, start_of=process_start_time)
    assert not Owner(me.pid, "", host).gone(host=host, start_of=lambda pid: None)
    assert Owner(7, "99", host).gone(host=host, start_of=lambda pid: None)


def test_start_time_is_none_once_a_process_is_gone() -> None:
    child = subprocess.Popen(["sleep", "30"])
    try:
        started = process_start_time(child.pid)
        assert started is not None
        assert started.isdigit()
    finally:
        child.kill()
        child.wait()
    assert process_start_time(child.pid) is None


def test_missing_package_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "microsandbox", None)
    hint = re.escape("pip install 'a2a-temporal[microsandbox]'")
    with pytest.raises(SandboxUnavailable, match=hint):
        MicrosandboxSandbox()


def test_module_imports_without_the_package() -> None:
    code = (
        "import sys; sys.modules['microsandbox'] = None; import a2a_temporal.sandbox.microsandbox"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr.decode()


async def _sandboxes_named(prefix: str) -> list[str]:
    names: list[str] = []
    cursor: str | None = None
    while True:
        page = await msb.Sandbox.list_with(cursor=cursor)
        names += [handle.name for handle in page.sandboxes if handle.name.startswith(prefix)]
        cursor = page.next_cursor
        if cursor is None:
            return names


def _has_virtualization() -> bool:
    """Whether this host could run a microVM: CPU virtualization and a usable /dev/kvm."""
    cpu = bool(re.search(r"\b(vmx|svm)\b", Path("/proc/cpuinfo").read_text()))
    return cpu and os.access("/dev/kvm", os.R_OK | os.W_OK)


async def test_a_real_microvm_session(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("A2A_WORKER_ONLY", "worker-secret")
    prefix = f"a2a-test-{uuid.uuid4().hex[:8]}-"
    backend = MicrosandboxSandbox(name_prefix=prefix)
    spec = SandboxSpec(network=False, env={"GREETING": "hello"}, timeout_s=60)
    async with contextlib.AsyncExitStack() as stack:
        try:
            async with asyncio.timeout(90):
                box = await stack.enter_async_context(backend.session(spec))
        except SandboxUnavailable as exc:
            assert await _sandboxes_named(prefix) == []
            if _has_virtualization() and "cannot get image" not in str(exc):
                raise
            why = "the image cannot be pulled"
            if not _has_virtualization():
                why = "no KVM (no hardware virtualization offered to this host, or no /dev/kvm)"
            pytest.skip(f"no microVM can start here: {why}; {exc}")

        printed = await box.run(["python", "-c", "print(1)"])
        assert (printed.exit_code, printed.stdout, printed.timed_out) == (0, b"1\n", False)

        seen = await box.run(
            "python -c \"import os; print(os.getcwd(), os.environ.get('GREETING'), "
            "os.environ.get('A2A_WORKER_ONLY'))\""
        )
        assert seen.stdout == b"/work hello None\n"

        await box.write("data/in.txt", b"abc")
        assert await box.read("data/in.txt") == b"abc"
        made = await box.run("cat data/in.txt > data/out.txt && echo done >&2")
        assert (made.exit_code, made.stderr) == (0, b"done\n")
        assert await box.list("data/") == ["data/in.txt", "data/out.txt"]
        assert await box.read("data/out.txt") == b"abc"
        with pytest.raises(FileNotFoundError):
            await box.read("data/missing.txt")

        offline = await box.run(
            ["python", "-c", "import socket; socket.create_connection(('1.1.1.1', 53), timeout=5)"]
        )
        assert offline.exit_code != 0

        slow = await box.run(["sleep", "30"], timeout=1)
        assert slow.timed_out
        assert slow.duration_s >= 1

    assert await _sandboxes_named(prefix) == []
    assert await backend.sweep() == []


def test_a_file_path_needs_each_of_its_directories_outermost_first() -> None:
    assert parent_dirs("file.txt") == []
    assert parent_dirs("a/b/c.txt") == ["/work/a", "/work/a/b"]
