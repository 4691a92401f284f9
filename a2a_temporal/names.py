"""Validation of object names (artifacts, workspace paths)."""

from __future__ import annotations

__all__ = ["validate_object_name"]

_MAX_NAME_BYTES = 512


def validate_object_name(name: str, *, what: str = "artifact name") -> str:
    """Return `name` if it is a safe relative object name.

    A safe name is non-empty, relative, has no `.`/`..`/empty segments, no
    backslashes, NUL or other control characters, and fits in 512 UTF-8 bytes.

    Raises:
        ValueError: Saying what is wrong with the name.
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"{what} must be a non-empty string")
    if len(name.encode()) > _MAX_NAME_BYTES:
        raise ValueError(f"{what} {name[:40]!r}... is longer than {_MAX_NAME_BYTES} bytes")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        raise ValueError(f"{what} {name!r} contains NUL or control characters")
    if "\\" in name:
        raise ValueError(f"{what} {name!r} contains a backslash; use '/'")
    if name.startswith("/"):
        raise ValueError(f"{what} {name!r} is absolute; give a relative name")
    for segment in name.split("/"):
        if segment in ("", ".", ".."):
            raise ValueError(f"{what} {name!r} has an empty, '.' or '..' path segment")
    return name
