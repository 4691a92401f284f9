"""Which worker owns each process-sandbox box, so leftovers of dead workers can be swept.

Each box `<root>/<id>/` has a record `<root>/<id>.json` beside it naming the
owning process (pid and start time, so a reused pid is not mistaken for the
owner), the user its commands run as, whether they run in namespaces and,
without namespaces, the process groups of the commands running in it (with
namespaces a command's processes never outlive its launcher, which stays in
the box), and an environment file
`<root>/<id>.env`. A sweep kills the processes still inside those boxes and
removes the boxes whose owner is gone. Only a root directory no one else may
write is swept (see `trusted_root`): a record is an instruction to kill.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import stat
from pathlib import Path

__all__ = [
    "BoxRecord",
    "UntrustedRoot",
    "kill_box_processes",
    "process_start_time",
    "remove_box",
    "remove_empty_box",
    "sweep_boxes",
    "trusted_root",
]

_RECORD_NAME = re.compile(r"[0-9a-f]{32}\.json")
_PATH_FLAGS = os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_SHARED = stat.S_IRGRP | stat.S_IWGRP | stat.S_IROTH | stat.S_IWOTH


class UntrustedRoot(Exception):
    """The box root exists but is not a directory of this user's own."""


def trusted_root(root: Path) -> bool:
    """Whether `root` exists as this user's directory that no one else may list or write.

    Raises:
        UntrustedRoot: It exists but someone else owns it, or others may list or write it.
    """
    try:
        info = root.lstat()
    except FileNotFoundError:
        return False
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid() or info.st_mode & _SHARED:
        raise UntrustedRoot(
            f"sandbox_dir {root} must be a directory of its own: owned by this user, and "
            "neither listable nor writable by anyone else"
        )
    return True


def process_start_time(pid: int) -> str | None:
    """When process `pid` started, in clock ticks (field 22 of its stat); None if it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw.rsplit(")", 1)[1].split()[19]


_own_start: tuple[int, str | None] = (0, None)


def _own_start_time() -> tuple[int, str | None]:
    """This process's pid and start time (read again only after a fork)."""
    global _own_start
    pid = os.getpid()
    if _own_start[0] != pid:
        _own_start = (pid, process_start_time(pid))
    return _own_start


class BoxRecord:
    """The record of one box: its owner, its commands' user and their process groups."""

    def __init__(
        self, root: Path, box_id: str, run_as: tuple[int, int] | None, *, namespaces: bool
    ) -> None:
        self.box = root / box_id
        self.path = root / f"{box_id}.json"
        self.environment = root / f"{box_id}.env"
        self.uid = run_as[0] if run_as is not None else os.geteuid()
        self.namespaces = namespaces
        self.groups: list[int] = []
        self.closed = False

    def save(self) -> None:
        """Write the record atomically (nothing once the box is closed)."""
        if self.closed:
            return
        pid, start = _own_start_time()
        owner = {
            "pid": pid,
            "start": start,
            "uid": self.uid,
            "namespaces": self.namespaces,
        }
        partial = self.path.with_suffix(".partial")
        partial.write_text(json.dumps({**owner, "groups": self.groups}))
        partial.replace(self.path)

    def add_group(self, group: int) -> None:
        """Note a command's process group (on disk only without namespaces: the sweep needs it)."""
        self.groups.append(group)
        if not self.namespaces:
            self.save()

    def drop_group(self, group: int) -> None:
        """Forget a process group once its processes are gone."""
        self.groups.remove(group)
        if not self.namespaces:
            self.save()


def _process(pid: str) -> tuple[int, int, str] | None:
    """(process group, uid, working directory) of a process, or None if it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
        uid = os.stat(f"/proc/{pid}").st_uid
        cwd = os.readlink(f"/proc/{pid}/cwd")
    except OSError:
        return None
    return int(raw.rsplit(")", 1)[1].split()[2]), uid, cwd


def kill_box_processes(record: BoxRecord) -> int:
    """SIGKILL the box user's processes working inside the box (without namespaces: in its groups).

    Each command's launcher stays in the box for the command's life, and with
    namespaces the whole command dies with it. Without namespaces (only on a
    root worker, whose commands run as another user) a process of the box's
    user in one of its groups is killed too, even if it left the box. Returns
    how many were signalled.
    """
    inside = str(record.box)
    killed = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        found = _process(entry.name)
        if found is None:
            continue
        group, uid, cwd = found
        in_box = cwd == inside or cwd.startswith(inside + "/")
        escaped = not record.namespaces and group in record.groups
        if uid == record.uid and (in_box or escaped):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(int(entry.name), signal.SIGKILL)
                killed += 1
    return killed


def _make_removable(top: Path) -> None:
    """Give this user rwx on every directory of the box (read-only copies included).

    Each directory is reached without following links and changed through an
    `O_PATH` handle, one at a time (a box may hold thousands of directories).
    """
    pending = [str(top)]
    while pending:
        folder = pending.pop()
        try:
            fd = os.open(folder, _PATH_FLAGS)
        except OSError:
            continue
        try:
            os.chmod(f"/proc/self/fd/{fd}", stat.S_IRWXU)
        except OSError:
            pass
        finally:
            os.close(fd)
        with contextlib.suppress(OSError), os.scandir(folder) as entries:
            pending += [entry.path for entry in entries if entry.is_dir(follow_symlinks=False)]


def remove_box(record: BoxRecord) -> None:
    """Delete the box directory and then, once it is gone, its record."""
    box = record.box
    if box.is_dir() and not box.is_symlink():
        with contextlib.suppress(OSError):
            _make_removable(box)
        shutil.rmtree(box, ignore_errors=True)
    record.environment.unlink(missing_ok=True)
    record.path.with_suffix(".partial").unlink(missing_ok=True)
    if not os.path.lexists(box):
        record.path.unlink(missing_ok=True)


def remove_empty_box(record: BoxRecord) -> bool:
    """Remove the box, its environment and its record if the box holds nothing; say if it did.

    Quick (a few calls, whatever the command left): a box holding files is left
    to `remove_box`, which may take long.
    """
    try:
        os.rmdir(record.box)
    except FileNotFoundError:
        pass
    except OSError:
        return False
    record.environment.unlink(missing_ok=True)
    record.path.with_suffix(".partial").unlink(missing_ok=True)
    record.path.unlink(missing_ok=True)
    return True


def _dead_owner(root: Path, box_id: str, raw: str) -> BoxRecord | None:
    """The record of a box whose owner is gone; None for a live owner or a bad record."""
    try:
        owner = json.loads(raw)
        pid, start, uid = int(owner["pid"]), owner["start"], int(owner["uid"])
        groups = [int(group) for group in owner["groups"]]
        namespaces = bool(owner["namespaces"])
    except (ValueError, TypeError, KeyError):
        return None
    if start is not None and process_start_time(pid) == start:
        return None
    record = BoxRecord(root, box_id, None, namespaces=namespaces)
    record.uid, record.groups = uid, groups
    return record


def sweep_boxes(root: Path) -> list[str]:
    """Kill the processes and remove the boxes of owners that are no longer running.

    Returns the ids of the boxes removed; files that are not records are left alone.

    Raises:
        UntrustedRoot: `root` is someone else's or others may list or write it.
    """
    swept: list[str] = []
    if not trusted_root(root):
        return swept
    for path in sorted(root.iterdir()):
        if not _RECORD_NAME.fullmatch(path.name):
            continue
        try:
            record = _dead_owner(root, path.stem, path.read_text())
        except OSError:
            continue
        if record is None:
            continue
        kill_box_processes(record)
        remove_box(record)
        swept.append(path.stem)
    return swept
