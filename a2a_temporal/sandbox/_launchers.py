"""The chain of launchers a process-sandbox command runs under: setpriv, unshare, limits, env."""

from __future__ import annotations

import contextlib
import grp
import math
import pwd
from collections.abc import Callable

from a2a_temporal.errors import SandboxUnavailable
from a2a_temporal.sandbox.interface import MIB, SandboxSpec

__all__ = [
    "account_names",
    "command_launcher",
    "environment_launcher",
    "name_of",
    "namespace_launcher",
    "user_launcher",
]

# The last launcher: export the box's environment (`PATH` it has already; `HOME` and `TMPDIR`
# the box, `$1`; then the spec's variables from the file `$2`, if any), then run the command.
_WITH_ENVIRONMENT = (
    'export HOME="$1" TMPDIR="$1" LANG=C.UTF-8 && { [ -z "$2" ] || . "$2"; } '
    '&& shift 2 && exec "$@"'
)
# The same in dash, setting the rlimits `$1`-`$4` first: `ulimit` without -H/-S sets the soft
# and the hard limit, as `prlimit` does; `-v` counts KiB, `-f` 512-byte blocks, `-p` processes.
_LIMITED_ENVIRONMENT = (
    'ulimit -v "$1" && ulimit -t "$2" && ulimit -f "$3" && ulimit -p "$4" && ulimit -n 1024 '
    "&& ulimit -c 0 && shift 4 && " + _WITH_ENVIRONMENT
)


def user_launcher(tools: dict[str, str], run_as: tuple[int, int] | None) -> list[str]:
    """`setpriv`: no new privileges, killed with the worker, as `run_as` when given.

    Switching users in `setpriv` rather than in the worker's fork keeps the
    spawn cheap (Python forks instead of vforking when it switches users itself).
    """
    argv = [tools["setpriv"], "--no-new-privs", "--pdeathsig=KILL"]
    if run_as is not None:
        user, group = account_names(*run_as)
        argv += [f"--reuid={user}", f"--regid={group}", "--clear-groups"]
    return [*argv, "--"]


def account_names(uid: int, gid: int) -> tuple[str, str]:
    """The names `setpriv` finds `uid` and `gid` by at once, else the numbers.

    `setpriv` looks every id up as a name first: a number misses in
    /etc/passwd and goes on to the slower name services (systemd's loads
    three libraries), a name found there does not. A name is used only if it
    leads back to the same id.

    Raises:
        SandboxUnavailable: An id has no name and its number is the name of another.
    """
    user = name_of(uid, lambda n: pwd.getpwuid(n).pw_name, lambda s: pwd.getpwnam(s).pw_uid)
    group = name_of(gid, lambda n: grp.getgrgid(n).gr_name, lambda s: grp.getgrnam(s).gr_gid)
    return user, group


def name_of(number: int, name: Callable[[int], str], number_of: Callable[[str], int]) -> str:
    with contextlib.suppress(KeyError):
        found = name(number)
        if number_of(found) == number:
            return found
    with contextlib.suppress(KeyError):
        if number_of(str(number)) != number:
            raise SandboxUnavailable(
                f"id {number} has no name of its own and {number!s} names id "
                f"{number_of(str(number))}: setpriv would take the name"
            )
    return str(number)


def namespace_launcher(tools: dict[str, str], *, network: bool) -> list[str]:
    """`unshare`: the command's own user, mount, PID, IPC (and network) namespaces."""
    argv = [tools["unshare"], "--user", "--map-current-user", "--mount", "--pid", "--ipc"]
    argv += ["--fork", "--kill-child", "--mount-proc"]
    if not network:
        argv.append("--net")
    return [*argv, "--"]


def _limits_launcher(tools: dict[str, str], spec: SandboxSpec, timeout: float) -> list[str]:
    """`prlimit` setting the command's rlimits from `spec`."""
    return [
        tools["prlimit"],
        f"--as={spec.memory_mib * MIB}",
        f"--cpu={_cpu_seconds(spec, timeout)}",
        f"--fsize={spec.max_file_mib * MIB}",
        f"--nproc={spec.max_processes}",
        "--nofile=1024",
        "--core=0",
        "--",
    ]


def _cpu_seconds(spec: SandboxSpec, timeout: float) -> int:
    return math.ceil(timeout * spec.cpus)


def environment_launcher(
    tools: dict[str, str], spec: SandboxSpec, timeout: float, box: str, environment: str
) -> list[str]:
    """The last launchers: set the rlimits and the environment, then run the command.

    `environment` is the file of the spec's variables ("" for none). With
    dash its `ulimit` builtin sets the same limits `prlimit` would, one exec
    sooner; without dash `prlimit` runs `sh`.
    """
    if "dash" not in tools:
        return [
            *_limits_launcher(tools, spec, timeout),
            *[tools["sh"], "-c", _WITH_ENVIRONMENT, "a2a-sandbox", box, environment],
        ]
    limits = (spec.memory_mib * 1024, _cpu_seconds(spec, timeout), spec.max_file_mib * 2048)
    return [
        *[tools["dash"], "-c", _LIMITED_ENVIRONMENT, "a2a-sandbox"],
        *[str(limit) for limit in (*limits, spec.max_processes)],
        *[box, environment],
    ]


def command_launcher(
    tools: dict[str, str],
    run_as: tuple[int, int] | None,
    spec: SandboxSpec,
    timeout: float,
    box: str,
    environment: str,
    *,
    namespaces: bool,
) -> list[str]:
    """The chain a command runs under: `setpriv`, `unshare`, then the limits and environment.

    The launchers run with a fixed environment (`PATH` only: nothing of the
    spec reaches `setpriv`, which runs as root); the spec's variables are
    read from the box's environment file by the last one, as the sandbox
    user, so their values appear on no command line.
    """
    isolation = namespace_launcher(tools, network=spec.network) if namespaces else []
    return [
        *user_launcher(tools, run_as),
        *isolation,
        *environment_launcher(tools, spec, timeout, box, environment),
    ]
