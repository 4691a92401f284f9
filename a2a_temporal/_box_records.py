"""Which worker owns each process-sandbox box, so leftovers of dead workers can be swept.

Each box `<root>/<id>/` has a record `<root>/<id>.json` beside it naming the
owning process (pid and start time, so a reused pid is not mistaken for the
owner), the user its commands run as and the process groups of the commands
running in it. A sweep kills the processes still inside those boxes and
removes the boxes whose owner is gone.
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
    "kill_box_processes",
    "process_start_time",
    "remove_box",
    "sweep_boxes",
]

_RECORD_NAME = re.compile(r"[0-9a-f]{32}\.json")
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def process_start_time(pid: int) -> str | None:
    """When process `pid` started, in clock ticks (field 22 of its stat); None if it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw.rsplit(")", 1)[1].split()[19]


class BoxRecord:
    """The record of one box: its owner, its commands' user and their process groups."""

    def __init__(self, root: Path, box_id: str, run_as: tuple[int, int] | None) -> None:
        self.box = root / box_id
        self.path = root / f"{box_id}.json"
        self.uid = run_as[0] if run_as is not None else os.geteuid()
        self.groups: list[int] = []
        self.closed = False

    def save(self) -> None:
        """Write the record atomically (nothing once the box is closed)."""
        if self.closed:
            return
        pid = os.getpid()
        owner = {"pid": pid, "start": process_start_time(pid), "uid": self.uid}
        partial = self.path.with_suffix(".partial")
        partial.write_text(json.dumps({**owner, "groups": self.groups}))
        partial.replace(self.path)

    def add_group(self, group: int) -> None:
        """Note a command's process group."""
        self.groups.append(group)
        self.save()

    def drop_group(self, group: int) -> None:
        """Forget a process group once its processes are gone."""
        self.groups.remove(group)
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
    """SIGKILL every process working inside the box, or in one of its groups as its user.

    The launcher of each command never leaves the box, and with namespaces the
    whole command dies with it; the group check catches processes that left
    the box where there are no namespaces. Returns how many were signalled.
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
        if in_box or (group in record.groups and uid == record.uid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(entry.name), signal.SIGKILL)
                killed += 1
    return killed


def _make_removable(top: Path) -> None:
    """Give this user rwx on every directory of the box (read-only copies included)."""
    pending = [os.open(top, _DIR_FLAGS)]
    while pending:
        fd = pending.pop()
        try:
            os.fchmod(fd, stat.S_IRWXU)
            for entry in os.scandir(fd):
                if entry.is_dir(follow_symlinks=False):
                    with contextlib.suppress(OSError):
                        pending.append(os.open(entry.name, _DIR_FLAGS, dir_fd=fd))
        except OSError:
            pass
        finally:
            os.close(fd)


def remove_box(record: BoxRecord) -> None:
    """Delete the box directory and then, once it is gone, its record."""
    box = record.box
    if box.is_dir() and not box.is_symlink():
        with contextlib.suppress(OSError):
            _make_removable(box)
        shutil.rmtree(box, ignore_errors=True)
    if not os.path.lexists(box):
        record.path.unlink(missing_ok=True)


def _dead_owner(raw: str) -> tuple[int, list[int]] | None:
    """(uid, groups) from a record whose owner is gone; None for a live owner or a bad record."""
    try:
        owner = json.loads(raw)
        pid, start, uid = int(owner["pid"]), owner["start"], int(owner["uid"])
        groups = [int(group) for group in owner["groups"]]
    except (ValueError, TypeError, KeyError):
        return None
    if start is not None and process_start_time(pid) == start:
        return None
    return uid, groups


def sweep_boxes(root: Path) -> list[str]:
    """Kill the processes and remove the boxes of owners that are no longer running.

    Returns the ids of the boxes removed; files that are not records are left alone.
    """
    swept: list[str] = []
    if not root.is_dir():
        return swept
    for path in sorted(root.iterdir()):
        if not _RECORD_NAME.fullmatch(path.name):
            continue
        try:
            dead = _dead_owner(path.read_text())
        except OSError:
            continue
        if dead is None:
            continue
        record = BoxRecord(root, path.stem, None)
        record.uid, record.groups = dead
        kill_box_processes(record)
        remove_box(record)
        swept.append(path.stem)
    return swept
