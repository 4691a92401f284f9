"""Which worker owns each process-sandbox box, so leftovers of dead workers can be swept.

Each box `<root>/<id>/` has a record `<root>/<id>.json` beside it (out of the
sandboxed code's reach) naming the owning process (pid and start time, so a
reused pid is not mistaken for the owner) and the process groups of the
commands running in it. A sweep kills those groups' processes and removes the
boxes whose owner is gone.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import stat
from collections.abc import Collection
from pathlib import Path

__all__ = [
    "BoxRecord",
    "kill_box_processes",
    "process_start_time",
    "remove_box",
    "sweep_boxes",
]


def process_start_time(pid: int) -> str | None:
    """When process `pid` started, in clock ticks (field 22 of its stat); None if it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw.rsplit(")", 1)[1].split()[19]


def _group_and_cwd(pid: int) -> tuple[int, str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
        cwd = os.readlink(f"/proc/{pid}/cwd")
    except OSError:
        return None
    return int(raw.rsplit(")", 1)[1].split()[2]), cwd


class BoxRecord:
    """The record of one box: its owner and the process groups running in it."""

    def __init__(self, root: Path, box_id: str) -> None:
        self.box = root / box_id
        self.path = root / f"{box_id}.json"
        self.groups: list[int] = []

    def save(self) -> None:
        """Write the record atomically, owned by this process."""
        owner = {
            "pid": os.getpid(),
            "start": process_start_time(os.getpid()),
            "groups": self.groups,
        }
        partial = self.path.with_suffix(".json.partial")
        partial.write_text(json.dumps(owner))
        partial.replace(self.path)

    def add_group(self, group: int) -> None:
        """Note a command's process group before anything else happens to it."""
        self.groups.append(group)
        self.save()

    def drop_group(self, group: int) -> None:
        """Forget a process group once its processes are gone."""
        self.groups.remove(group)
        self.save()


def kill_box_processes(box: Path, groups: Collection[int]) -> int:
    """SIGKILL every process of `groups` whose working directory is inside `box`.

    Checking the directory keeps a recycled group id of some other process
    safe. Returns how many processes were signalled.
    """
    if not groups:
        return 0
    inside = str(box)
    killed = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        found = _group_and_cwd(int(entry.name))
        if found is None:
            continue
        group, cwd = found
        if group in groups and (cwd == inside or cwd.startswith(inside + "/")):
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(entry.name), signal.SIGKILL)
                killed += 1
    return killed


def remove_box(record: BoxRecord) -> None:
    """Delete the box directory (read-only parts too) and its record."""
    box = record.box
    if box.is_dir() and not box.is_symlink():
        with contextlib.suppress(OSError):
            os.chmod(box, stat.S_IRWXU)
        for parent, dirs, _ in os.walk(box):
            for name in dirs:
                inner = os.path.join(parent, name)
                if not os.path.islink(inner):
                    with contextlib.suppress(OSError):
                        os.chmod(inner, stat.S_IRWXU)
        shutil.rmtree(box, ignore_errors=True)
    record.path.unlink(missing_ok=True)


def _owner_alive(pid: int, start: str | None) -> bool:
    return start is not None and process_start_time(pid) == start


def sweep_boxes(root: Path) -> list[str]:
    """Kill the processes and remove the boxes of owners that are no longer running.

    Returns the ids of the boxes removed.
    """
    swept: list[str] = []
    if not root.is_dir():
        return swept
    for path in sorted(root.glob("*.json")):
        try:
            owner = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if _owner_alive(int(owner.get("pid", 0)), owner.get("start")):
            continue
        record = BoxRecord(root, path.stem)
        kill_box_processes(record.box, set(owner.get("groups", [])))
        remove_box(record)
        swept.append(path.stem)
    return swept
