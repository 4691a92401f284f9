"""Task ids, and validation of object names (artifacts, workspace paths)."""

from __future__ import annotations

import re
import unicodedata
import uuid

__all__ = [
    "RESERVED_SEGMENT",
    "is_descendant",
    "new_task_id",
    "pipeline_step",
    "validate_object_name",
    "validate_task_id",
]

_MAX_NAME_BYTES = 512
_MAX_TASK_ID = 400
_TASK_ID_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@~+=-]*$")
RESERVED_SEGMENT = "artifacts"
# Control (C0, DEL, C1), format (bidi overrides, zero-width), line/paragraph
# separators and lone surrogates: invisible or reordering when a name is shown.
_INVISIBLE = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_CALL_CHILD = re.compile(r"call-\d+(-r\d+)?")


def is_descendant(task_id: str, ancestor: str) -> bool:
    """Whether `task_id` names a task started below `ancestor` (a call's or a step's task)."""
    return task_id.startswith(ancestor + "/")


def pipeline_step(task_id: str, parent_id: str | None) -> str | None:
    """The pipeline step a task runs, read from its id; None for a call's task or a top one.

    A step's task is `<pipeline id>/<step>`, `~<n>` added for a re-run and
    `/<index>` for an item of a `map`; a call's task is `<caller>/call-<n>`.
    """
    if not parent_id or not is_descendant(task_id, parent_id):
        return None
    step = task_id[len(parent_id) + 1 :].split("/")[0].split("~")[0]
    return None if not step or _CALL_CHILD.fullmatch(step) else step


def new_task_id(agent: str, skill: str) -> str:
    """Return a fresh, readable task id: `<agent>.<skill>/<uuid>`."""
    return f"{agent}.{skill}/{uuid.uuid4()}"


def validate_object_name(name: str, *, what: str = "artifact name") -> str:
    """Return `name` if it is a safe relative object name.

    A safe name is non-empty, relative, has no `.`/`..`/empty segments, no
    backslashes, no control, format, separator or surrogate characters (so a
    displayed name cannot be spoofed), and fits in 512 UTF-8 bytes.

    Raises:
        ValueError: Saying what is wrong with the name.
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"{what} must be a non-empty string")
    if len(name.encode()) > _MAX_NAME_BYTES:
        raise ValueError(f"{what} {name[:40]!r}... is longer than {_MAX_NAME_BYTES} bytes")
    if any(unicodedata.category(ch) in _INVISIBLE for ch in name):
        raise ValueError(
            f"{what} {name!r} contains control, format (e.g. a right-to-left override), "
            "separator or surrogate characters, which would let a displayed name lie"
        )
    if "\\" in name:
        raise ValueError(f"{what} {name!r} contains a backslash; use '/'")
    if name.startswith("/"):
        raise ValueError(f"{what} {name!r} is absolute; give a relative name")
    for segment in name.split("/"):
        if segment in ("", ".", ".."):
            raise ValueError(f"{what} {name!r} has an empty, '.' or '..' path segment")
    return name


def validate_task_id(task_id: str) -> str:
    """Return `task_id` if it can name a task (a workflow id and an S3 prefix).

    Segments are separated by `/`; each starts with a letter or digit and
    holds only letters, digits and `._:@~+=-`; none may be `artifacts`, which
    is where a task keeps its artifacts (`tasks/<id>/artifacts/`).

    Raises:
        ValueError: Saying what is wrong with the id.
    """
    if not isinstance(task_id, str) or not task_id:
        raise ValueError("a task id must be a non-empty string")
    if len(task_id) > _MAX_TASK_ID:
        raise ValueError(f"task id {task_id[:40]!r}... is longer than {_MAX_TASK_ID} characters")
    for segment in task_id.split("/"):
        if segment == RESERVED_SEGMENT:
            raise ValueError(
                f"task id {task_id!r} has a segment {RESERVED_SEGMENT!r}, which is reserved "
                "for the artifacts of tasks"
            )
        if not _TASK_ID_SEGMENT.match(segment):
            raise ValueError(
                f"task id {task_id!r}: each '/'-separated part must start with a letter or "
                "digit and hold only letters, digits and ._:@~+=-"
            )
    return task_id
