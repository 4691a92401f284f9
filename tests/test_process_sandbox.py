"""The process sandbox on its own: limits, kills, environment, network, files and clean-up."""

from __future__ import annotations

import asyncio
import contextlib
import grp
import os
import pwd
import signal
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from pydantic import ValidationError

from a2a_temporal import (
    AgentSettings,
    InMemoryWorkspace,
    LocalRunContext,
    NoAuth,
    ProcessSandbox,
    SandboxSpec,
    SandboxUnavailable,
)
from a2a_temporal.sandbox import _launchers, process
from a2a_temporal.sandbox._box_records import sweep_boxes
from a2a_temporal.sandbox.backends import sandbox_from_settings
from tests.sandbox_helpers import (
    code_for_another_user,
    live_processes,
    new_marker,
    sandbox_root,
    wait_for_processes,
    wait_until_gone,
)

ROOT = os.geteuid() == 0

NOBODY_NEEDS = (
    "annotated_types",
    "opentelemetry",
    "pydantic",
    "pydantic_core",
    "structlog",
    "typing_extensions",
    "typing_inspection",
)


@pytest.fixture
def root() -> Iterator[Path]:
    with sandbox_root() as path:
        yield path
        assert list(path.iterdir()) == [], "a box or its record was left behind"


@pytest.fixture
def sandbox(root: Path) -> ProcessSandbox:
    return ProcessSandbox(root=root)


async def test_a_command_gets_its_files_stdin_and_exit_code(sandbox: ProcessSandbox) -> None:
    code = "import sys; print(open('in/data.txt').read() + sys.stdin.read()); sys.exit(3)"
    result = await sandbox.run(
        ["python3", "-c", code], files={"in/data.txt": b"file "}, stdin=b"stdin"
    )
    assert (result.exit_code, result.stdout, result.stderr) == (3, b"file stdin\n", b"")
    assert not result.timed_out and not result.truncated
    assert result.duration_s > 0


async def test_a_session_keeps_files_between_commands(sandbox: ProcessSandbox) -> None:
    async with sandbox.session() as box:
        await box.write("script.py", b"open('made/out.txt', 'w').write('made inside')")
        first = await box.run("mkdir made && python3 script.py")
        assert first.exit_code == 0, first.stderr
        assert await box.list() == ["made/out.txt", "script.py"]
        assert await box.list("made/") == ["made/out.txt"]
        assert await box.read("made/out.txt") == b"made inside"
        with pytest.raises(FileNotFoundError, match="no file"):
            await box.read("missing.txt")


@pytest.mark.skipif(not ROOT, reason="commands change user only when the worker is root")
async def test_a_root_worker_runs_commands_as_nobody(sandbox: ProcessSandbox) -> None:
    result = await sandbox.run(["sh", "-c", "id -u; id -g; cat /etc/shadow"])
    assert result.stdout.split() == [b"65534", b"65534"]
    assert b"Permission denied" in result.stderr


async def test_the_timeout_kills_children_that_ignore_sigterm(sandbox: ProcessSandbox) -> None:
    marker = new_marker()
    stubborn = (
        "import signal, subprocess, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "subprocess.Popen([sys.executable, '-c', "
        "'import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)', "
        f"'{marker}'], start_new_session=True); print('started', flush=True); time.sleep(600)"
    )
    result = await sandbox.run(["python3", "-c", stubborn, marker], timeout=2)
    assert result.timed_out and result.exit_code == -signal.SIGKILL
    assert result.stdout == b"started\n"
    assert result.duration_s >= 2
    await wait_until_gone(marker)


async def test_a_fork_bomb_hits_the_process_limit_and_dies_with_its_timeout(
    sandbox: ProcessSandbox,
) -> None:
    marker = new_marker()
    bomb = "f() { f | f & }; f; sleep 600"
    async with sandbox.session(SandboxSpec(max_processes=32)) as box:
        result = await box.run(["bash", "-c", bomb, marker], timeout=3)
        assert result.timed_out
        assert b"Resource temporarily unavailable" in result.stderr
        await wait_until_gone(marker)
        after = await box.run(["python3", "-c", "print('still usable')"])
    assert after.stdout == b"still usable\n"


async def test_memory_beyond_the_limit_fails_inside_the_box(sandbox: ProcessSandbox) -> None:
    grab = ["python3", "-c", "b = bytearray(300 * 1024 * 1024); print(len(b))"]
    async with sandbox.session(SandboxSpec(memory_mib=128)) as small:
        refused = await small.run(grab)
    async with sandbox.session(SandboxSpec(memory_mib=1024)) as large:
        allowed = await large.run(grab)
    assert refused.exit_code == 1 and b"MemoryError" in refused.stderr
    assert (allowed.exit_code, allowed.stdout) == (0, b"314572800\n")


async def test_a_file_larger_than_allowed_is_cut_off(sandbox: ProcessSandbox) -> None:
    write = "open('big', 'wb').write(b'x' * 3 * 1024 * 1024)"
    async with sandbox.session(SandboxSpec(max_file_mib=1)) as box:
        result = await box.run(["python3", "-c", write])
        assert result.exit_code != 0
        assert len(await box.read("big")) <= 1024 * 1024


@pytest.mark.parametrize("limiters", [("dash", "prlimit"), ("prlimit",)], ids=["dash", "prlimit"])
async def test_the_limits_are_set_hard_whichever_launcher_sets_them(
    root: Path, monkeypatch: pytest.MonkeyPatch, limiters: tuple[str, ...]
) -> None:
    monkeypatch.setattr(process, "_LIMITERS", limiters)
    spec = SandboxSpec(memory_mib=200, max_file_mib=3, max_processes=40, cpus=2, timeout_s=7)
    async with ProcessSandbox(root=root).session(spec) as box:
        result = await box.run(["cat", "/proc/self/limits"])
    limits = {
        line[:26].strip(): line[26:].split()[:2] for line in result.stdout.decode().splitlines()
    }
    assert limits["Max address space"] == [str(200 * 2**20)] * 2
    assert limits["Max cpu time"] == ["14"] * 2
    assert limits["Max file size"] == [str(3 * 2**20)] * 2
    assert limits["Max processes"] == ["40"] * 2
    assert limits["Max open files"] == ["1024"] * 2
    assert limits["Max core file size"] == ["0"] * 2


def test_setpriv_is_given_names_that_lead_back_to_the_ids() -> None:
    assert _launchers.account_names(0, 0) == (pwd.getpwuid(0).pw_name, grp.getgrgid(0).gr_name)
    unnamed = next(n for n in range(43210, 43310) if not _named(n))
    assert _launchers.account_names(unnamed, unnamed) == (str(unnamed), str(unnamed))
    names = {7: "seven", 8: "9", 5: "renamed"}
    numbers = {"seven": 7, "9": 8, "renamed": 6}
    assert _launchers.name_of(7, names.__getitem__, numbers.__getitem__) == "seven"
    assert _launchers.name_of(8, names.__getitem__, numbers.__getitem__) == "9"
    assert _launchers.name_of(12, names.__getitem__, numbers.__getitem__) == "12"
    assert _launchers.name_of(5, names.__getitem__, numbers.__getitem__) == "5", "not back to 5"
    with pytest.raises(SandboxUnavailable, match="id 9 has no name of its own and 9 names id 8"):
        _launchers.name_of(9, names.__getitem__, numbers.__getitem__)


def _named(number: int) -> bool:
    try:
        pwd.getpwuid(number)
    except KeyError:
        try:
            grp.getgrgid(number)
        except KeyError:
            return False
    return True


async def test_output_past_the_limit_is_dropped_and_flagged(root: Path) -> None:
    sandbox = ProcessSandbox(root=root, output_limit=1000)
    loud = await sandbox.run(
        ["python3", "-c", "import sys; print('x' * 5000); sys.stderr.write('tail')"]
    )
    quiet = await sandbox.run(["python3", "-c", "print('y' * 10)"])
    assert (loud.stdout, loud.stderr, loud.truncated) == (b"x" * 1000, b"tail", True)
    assert (quiet.stdout, quiet.truncated) == (b"y" * 10 + b"\n", False)


async def test_the_environment_holds_no_worker_secrets(
    sandbox: ProcessSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    planted = {
        "A2A_SECRET_API_TOKEN": "planted-token-1",
        "AWS_SECRET_ACCESS_KEY": "planted-aws-2",
        "A2A_TEMPORAL_S3_SECRET_KEY": "planted-s3-3",
        "TEMPORAL_ADDRESS": "planted-temporal:7233",
    }
    for name, value in planted.items():
        monkeypatch.setenv(name, value)
    marker = new_marker()
    spec = SandboxSpec(env={"GREETING": "hello"})
    async with sandbox.session(spec) as box:
        printed = await box.run(["sh", "-c", "env; cat /proc/self/environ"])
        waiting = asyncio.create_task(
            box.run(["sh", "-c", 'sh -c "sleep 600" "$0"', marker], timeout=60)
        )
        pids = await wait_for_processes(marker)
        seen_from_outside = b"".join(Path(f"/proc/{pid}/environ").read_bytes() for pid in pids)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
    await wait_until_gone(marker)
    for value in planted.values():
        assert value.encode() not in printed.stdout
        assert value.encode() not in seen_from_outside
    assert b"GREETING=hello" in printed.stdout and b"GREETING=hello" in seen_from_outside
    assert b"A2A_" not in printed.stdout and b"AWS_" not in printed.stdout


async def test_a_box_without_variables_of_its_own_gets_the_base_environment(
    sandbox: ProcessSandbox, root: Path
) -> None:
    async with sandbox.session() as box:
        printed = await box.run(["sh", "-c", 'echo "$HOME $TMPDIR $LANG $PATH"; pwd'])
        assert list(root.glob("*.env")) == [], "no environment file to make"
    home, tmp, lang, path, cwd = printed.stdout.decode().split()
    assert home == tmp == cwd and Path(home).parent == root
    assert (lang, path) == ("C.UTF-8", "/usr/local/bin:/usr/bin:/bin")
    spec = SandboxSpec(env={"HOME": "/elsewhere", "LANG": "C", "NOTE": "it's $HOME"})
    async with sandbox.session(spec) as box:
        printed = await box.run(["sh", "-c", 'echo "$HOME|$LANG|$NOTE"'])
    assert printed.stdout == b"/elsewhere|C|it's $HOME\n", "the spec's variables come last"


async def test_the_specs_environment_is_on_no_command_line(sandbox: ProcessSandbox) -> None:
    marker = new_marker()
    secret = f"secret-{marker}"
    async with sandbox.session(SandboxSpec(env={"TOKEN": secret})) as box:
        waiting = asyncio.create_task(
            box.run(["sh", "-c", 'echo "$TOKEN"; sh -c "sleep 600" "$0"', marker], timeout=60)
        )
        await wait_for_processes(marker)
        on_command_lines = live_processes(secret)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
    assert on_command_lines == []


@pytest.fixture
async def listener() -> AsyncIterator[tuple[int, list[bytes]]]:
    received: list[bytes] = []

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        received.append(await reader.read(100))
        writer.close()

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield port, received


async def test_no_network_unless_asked_for(
    sandbox: ProcessSandbox, listener: tuple[int, list[bytes]]
) -> None:
    port, received = listener
    connect = (
        "import socket, sys\n"
        f"try:\n    socket.create_connection(('127.0.0.1', {port}), timeout=3).sendall(b'hi')\n"
        "except OSError as exc:\n    print(type(exc).__name__); sys.exit(1)\n"
        "print('connected')"
    )
    async with sandbox.session(SandboxSpec()) as offline:
        refused = await offline.run(["python3", "-c", connect])
        links = await offline.run(["cat", "/proc/net/dev"])
    async with sandbox.session(SandboxSpec(network=True)) as online:
        allowed = await online.run(["python3", "-c", connect])
    assert refused.exit_code == 1, refused.stdout
    assert allowed.stdout == b"connected\n"
    async with asyncio.timeout(5):
        while not received:
            await asyncio.sleep(0.02)
    assert received == [b"hi"]
    interfaces = [line.split(b":")[0].strip() for line in links.stdout.splitlines()[2:]]
    assert interfaces == [b"lo"]


async def test_without_namespaces_no_network_is_refused_not_pretended(root: Path) -> None:
    sandbox = ProcessSandbox(root=root, namespaces=False)
    with pytest.raises(SandboxUnavailable, match=r"network=False needs a network namespace"):
        async with sandbox.session():
            pass
    marker = new_marker()
    async with sandbox.session(SandboxSpec(network=True)) as box:
        result = await box.run(["sh", "-c", 'sh -c "sleep 600" "$0" & wait', marker], timeout=1)
    assert result.timed_out
    await wait_until_gone(marker)


async def test_a_cancelled_command_is_killed_and_its_box_removed(
    sandbox: ProcessSandbox, root: Path
) -> None:
    marker = new_marker()

    async def session() -> None:
        async with sandbox.session() as box:
            await box.run(["python3", "-c", "import time; time.sleep(600)", marker])

    task = asyncio.create_task(session())
    await wait_for_processes(marker)
    assert len(list(root.glob("*.json"))) == 1
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await wait_until_gone(marker)
    assert list(root.iterdir()) == []


async def _killed_owner(root: Path, marker: str, *flags: str) -> None:
    """Run `tests.sandbox_owner` until its command's child runs, then SIGKILL it."""
    owner = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.sandbox_owner",
        str(root),
        *flags,
        env={**os.environ, "SANDBOX_MARKER": marker},
    )
    try:
        await wait_for_processes(marker)
    finally:
        owner.kill()
        await owner.wait()


async def test_a_killed_owners_commands_die_with_it_and_the_sweeper_removes_the_box(
    root: Path,
) -> None:
    marker = new_marker()
    await _killed_owner(root, marker)
    await wait_until_gone(marker)
    boxes = [path.stem for path in root.glob("*.json")]
    assert len(boxes) == 1 and (root / boxes[0]).is_dir()
    assert await ProcessSandbox(root=root).sweep() == boxes
    assert list(root.iterdir()) == []


async def test_opening_a_session_sweeps_dead_owners_boxes_at_most_once_an_interval(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = [1000.0]
    monkeypatch.setattr(process, "_now", lambda: clock[0])
    sandbox = ProcessSandbox(root=root, sweep_interval=30)
    async with sandbox.session() as box:  # the first open sweeps
        await box.run(["true"])
    marker = new_marker()
    await _killed_owner(root, marker)
    await wait_until_gone(marker)
    left = [path.stem for path in root.glob("*.json")]
    assert len(left) == 1 and (root / left[0]).is_dir()
    clock[0] += 29
    async with sandbox.session() as box:
        await box.run(["true"])
    assert [path.stem for path in root.glob("*.json")] == left, "not yet: within the interval"
    clock[0] += 1
    async with sandbox.session() as box:
        await box.run(["true"])
    assert list(root.iterdir()) == [], "the dead owner's box went at the next open"
    with pytest.raises(ValueError, match="sweep_interval"):
        ProcessSandbox(root=root, sweep_interval=-1)


@pytest.mark.skipif(not ROOT, reason="without namespaces only a root worker may run commands")
async def test_without_namespaces_the_sweeper_kills_what_escaped_the_group(root: Path) -> None:
    marker = new_marker()
    await _killed_owner(root, marker, "--no-namespaces")
    assert live_processes(marker), "a child in a session of its own outlives its owner"
    assert len(await ProcessSandbox(root=root).sweep()) == 1
    await wait_until_gone(marker)
    assert list(root.iterdir()) == []


async def test_a_root_others_may_write_or_list_is_neither_used_nor_swept() -> None:
    with sandbox_root() as root:
        forged = root / f"{'c' * 32}.json"
        forged.write_text('{"pid": 1, "start": null, "uid": 0, "groups": [1], "namespaces": false}')
        (root / ("c" * 32)).mkdir()
        root.chmod(0o755)
        sandbox = ProcessSandbox(root=root)
        with pytest.raises(SandboxUnavailable, match="must be a directory of its own"):
            await sandbox.sweep()
        with pytest.raises(SandboxUnavailable, match="must be a directory of its own"):
            async with sandbox.session():
                pass
        assert forged.exists() and (root / ("c" * 32)).is_dir()


def test_the_sweeper_leaves_foreign_and_broken_files_alone(root: Path) -> None:
    (root / "notes.json").write_text("{}")
    (root / f"{'a' * 32}.json").write_text("[1, 2]")
    (root / f"{'b' * 32}.json").write_text('{"pid": "x"}')
    assert sweep_boxes(root) == []
    assert len(list(root.iterdir())) == 3
    for path in root.iterdir():
        path.unlink()


async def test_a_live_owners_box_is_not_swept(sandbox: ProcessSandbox, root: Path) -> None:
    async with sandbox.session() as box:
        await box.write("kept.txt", b"mine")
        assert await ProcessSandbox(root=root).sweep() == []
        assert await box.read("kept.txt") == b"mine"


async def test_files_the_sandbox_links_or_pipes_are_not_followed(sandbox: ProcessSandbox) -> None:
    async with sandbox.session() as box:
        made = await box.run(
            "ln -s /etc/passwd passwd && mkfifo pipe && mkdir real && ln -s /etc linked"
        )
        assert made.exit_code == 0, made.stderr
        with pytest.raises(PermissionError, match="not a plain file"):
            await box.read("passwd")
        with pytest.raises(PermissionError, match="not a plain file"):
            await box.read("pipe")
        with pytest.raises(PermissionError, match="not a plain file"):
            await box.read("linked/hostname")
        with pytest.raises(PermissionError, match="not a plain file"):
            await box.write("linked/planted", b"x")
        with pytest.raises(PermissionError, match="not a plain file"):
            await box.write("passwd", b"x")
        assert await box.list() == []
    assert not Path("/etc/planted").exists()


async def test_hard_links_are_not_read(sandbox: ProcessSandbox) -> None:
    async with sandbox.session() as box:
        await box.write("own.txt", b"mine")
        linked = await box.run("ln own.txt twin.txt")
        assert linked.exit_code == 0, linked.stderr
        with pytest.raises(PermissionError, match="not a plain file"):
            await box.read("twin.txt")


async def test_a_box_the_command_locked_and_linked_out_of_is_still_removed(
    sandbox: ProcessSandbox, root: Path
) -> None:
    etc_mode = Path("/etc").stat().st_mode
    async with sandbox.session() as box:
        made = await box.run(
            "mkdir -p locked/inner && touch locked/inner/f && chmod 000 locked/inner locked "
            "&& ln -s /etc etc-link && ln -s /etc locked-link"
        )
        assert made.exit_code == 0, made.stderr
    assert list(root.iterdir()) == []
    assert Path("/etc").stat().st_mode == etc_mode


@pytest.mark.parametrize("path", ["../escape", "/etc/passwd", "a/../../b", "bad\u202ename", ""])
async def test_paths_outside_the_box_are_refused(sandbox: ProcessSandbox, path: str) -> None:
    async with sandbox.session() as box:
        with pytest.raises(ValueError, match="sandbox path"):
            await box.write(path, b"x")
        with pytest.raises(ValueError, match="sandbox path"):
            await box.read(path)


async def test_bad_requests_get_clear_errors(sandbox: ProcessSandbox) -> None:
    with pytest.raises(SandboxUnavailable, match=r"cannot use image 'python:3\.11'"):
        async with sandbox.session(SandboxSpec(image="python:3.11")):
            pass
    async with sandbox.session() as box:
        with pytest.raises(ValueError, match="non-empty"):
            await box.run([])
        with pytest.raises(ValueError, match="timeout must be > 0"):
            await box.run(["true"], timeout=0)
        with pytest.raises(ValueError, match="stream=True needs a run"):
            await box.run(["true"], stream=True)
        missing = await box.run(["no-such-command-here"])
    assert missing.exit_code != 0 and b"no-such-command-here" in missing.stderr
    with pytest.raises(ValidationError, match="memory_mib"):
        SandboxSpec(memory_mib=1)
    with pytest.raises(ValidationError, match="not a usable environment variable"):
        SandboxSpec(env={"A=B": "x"})
    with pytest.raises(ValueError, match="needs a run's workspace"):
        async with sandbox.session(SandboxSpec(workspace="ro")):
            pass


@pytest.mark.skipif(not ROOT, reason="only a root worker changes the commands' user")
async def test_a_root_the_sandbox_user_cannot_reach_is_refused(tmp_path: Path) -> None:
    tmp_path.chmod(0o700)
    with pytest.raises(SandboxUnavailable, match="uid 65534, which cannot enter"):
        async with ProcessSandbox(root=tmp_path / "boxes").session():
            pass


def _context(files: dict[str, bytes], sandbox: ProcessSandbox) -> LocalRunContext[NoAuth]:
    return LocalRunContext(
        auth=NoAuth(),
        workspace=InMemoryWorkspace(files),
        workspace_access="write",
        sandbox=sandbox,
    )


async def test_a_read_only_workspace_is_copied_in_and_never_written_back(
    sandbox: ProcessSandbox,
) -> None:
    files = {"notes/a.txt": b"alpha", "notes/b.txt": b"beta"}
    ctx = _context(files, sandbox)
    async with ctx.sandbox.session(SandboxSpec(workspace="ro")) as box:
        seen = await box.run("cat workspace/notes/a.txt workspace/notes/b.txt")
        changed = await box.run("echo changed > workspace/notes/a.txt")
        added = await box.run("echo new > workspace/notes/c.txt")
        listed = await box.list("workspace/")
    assert seen.stdout == b"alphabeta"
    assert changed.exit_code != 0 and b"Permission denied" in changed.stderr
    assert added.exit_code != 0
    assert listed == ["workspace/notes/a.txt", "workspace/notes/b.txt"]
    assert await ctx.workspace.list() == ["notes/a.txt", "notes/b.txt"]
    assert await ctx.workspace.read("notes/a.txt") == b"alpha"


async def test_a_read_write_workspace_gets_changes_back_on_a_clean_exit(
    sandbox: ProcessSandbox,
) -> None:
    ctx = _context({"a.txt": b"alpha", "b.txt": b"beta", "c.txt": b"gamma"}, sandbox)
    async with ctx.sandbox.session(SandboxSpec(workspace="rw")) as box:
        edited = await box.run(
            "echo changed > workspace/a.txt && rm workspace/c.txt && mkdir workspace/new "
            "&& echo made > workspace/new/d.txt"
        )
        assert edited.exit_code == 0, edited.stderr
    assert await ctx.workspace.list() == ["a.txt", "b.txt", "new/d.txt"]
    assert await ctx.workspace.read("a.txt") == b"changed\n"
    assert await ctx.workspace.read("new/d.txt") == b"made\n"
    with pytest.raises(RuntimeError, match="skill failed"):
        async with ctx.sandbox.session(SandboxSpec(workspace="rw")) as box:
            await box.run("echo lost > workspace/b.txt")
            raise RuntimeError("skill failed")
    assert await ctx.workspace.read("b.txt") == b"beta"


async def test_changes_a_run_may_not_write_are_all_refused_none_written(
    sandbox: ProcessSandbox,
) -> None:
    ctx = LocalRunContext(
        auth=NoAuth(),
        workspace=InMemoryWorkspace({"a.txt": b"alpha"}),
        workspace_access="read",
        sandbox=sandbox,
    )
    with pytest.raises(PermissionError, match=r"none were written back: a\.txt, b\.txt"):
        async with ctx.sandbox.session(SandboxSpec(workspace="rw")) as box:
            await box.run("echo changed > workspace/a.txt; echo new > workspace/b.txt")
    assert await ctx.workspace.list() == ["a.txt"]
    assert await ctx.workspace.read("a.txt") == b"alpha"


async def test_a_session_cancelled_while_opening_leaves_nothing(
    sandbox: ProcessSandbox, root: Path
) -> None:
    async def open_and_run() -> None:
        async with sandbox.session() as box:
            await box.run(["true"])

    for delay in (0, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02):
        task = asyncio.create_task(open_and_run())
        await asyncio.sleep(delay)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        assert list(root.iterdir()) == [], f"left behind when cancelled after {delay}s"


@pytest.mark.skipif(not ROOT, reason="needs root to run the check as another user")
async def test_a_worker_that_cannot_isolate_commands_refuses_to_run_them() -> None:
    script = (
        "import asyncio, tempfile, pathlib\n"
        "from a2a_temporal import ProcessSandbox, SandboxSpec, SandboxUnavailable\n"
        "async def main(root):\n"
        "    try:\n"
        "        async with ProcessSandbox(root=root, namespaces=False).session(\n"
        "                SandboxSpec(network=True)):\n"
        "            print('ran')\n"
        "    except SandboxUnavailable as exc:\n"
        "        print(exc)\n"
        "with tempfile.TemporaryDirectory() as folder:\n"
        "    asyncio.run(main(pathlib.Path(folder) / 'boxes'))\n"
    )
    with code_for_another_user(NOBODY_NEEDS) as code:
        as_nobody = await asyncio.create_subprocess_exec(
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--",
            os.path.realpath(sys.executable),
            "-S",
            "-c",
            script,
            cwd=code,
            env={"PYTHONPATH": str(code), "PATH": os.environ.get("PATH", "")},
            stdout=asyncio.subprocess.PIPE,
        )
        out, _ = await as_nobody.communicate()
    assert b"cannot isolate commands here" in out, out
    assert b"the worker is not root" in out


async def test_live_output_arrives_as_events(sandbox: ProcessSandbox) -> None:
    ctx = LocalRunContext(auth=NoAuth(), sandbox=sandbox)
    script = (
        "import sys\nfor i in range(3):\n    print(f'line {i}', flush=True)\n"
        "    sys.stderr.write(f'step {i}\\n'); sys.stderr.flush()\nprint('é', end='')"
    )
    async with ctx.sandbox.session() as box:
        result = await box.run(["python3", "-c", script], stream=True)
    text = "".join(e.payload["text"] for e in ctx.events if e.kind == "text_delta")
    progress = [e.payload["message"] for e in ctx.events if e.kind == "progress"]
    assert text == result.stdout.decode() == "line 0\nline 1\nline 2\né"
    assert "\n".join(progress).split("\n") == ["step 0", "step 1", "step 2"], (
        "stderr lines arrive in order, coalesced into few progress events"
    )


async def test_no_sandbox_configured_says_how_to_get_one() -> None:
    ctx = LocalRunContext(auth=NoAuth())
    with pytest.raises(SandboxUnavailable, match="LocalRunContext"):
        _ = ctx.sandbox


def test_settings_pick_the_backend(root: Path) -> None:
    chosen = sandbox_from_settings(
        AgentSettings(sandbox_dir=root, sandbox_output_limit=10, sandbox_uid=1234)
    )
    assert isinstance(chosen, ProcessSandbox)
    assert (chosen.root, chosen.output_limit) == (root, 10)
    assert chosen.run_as == ((1234, 65534) if ROOT else None)
    assert chosen.sweep_interval == 30
    every_open = AgentSettings.from_env({"A2A_TEMPORAL_SANDBOX_SWEEP_INTERVAL": "PT0S"})
    chosen = sandbox_from_settings(every_open)
    assert isinstance(chosen, ProcessSandbox) and chosen.sweep_interval == 0
    assert sandbox_from_settings(AgentSettings(sandbox="none")) is None
    with pytest.raises(ValueError, match="sandbox"):
        AgentSettings.from_env({"A2A_TEMPORAL_SANDBOX": "docker"})
