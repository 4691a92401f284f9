"""Files inside a box directory, opened so that nothing the sandboxed code made leads out of it.

Sandboxed code owns the box directory: it can put a symbolic link or a FIFO
where the worker expects a file. Every component is opened relative to the
box with `O_NOFOLLOW`, and only regular files are read, so the worker never
follows a link out of the box nor blocks on a pipe.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator

__all__ = ["list_box_files", "read_box_file", "write_box_file"]

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


@contextlib.contextmanager
def _parent_dir(
    root: str, path: str, *, create: bool, owner: tuple[int, int] | None, dir_mode: int
) -> Iterator[tuple[int, str]]:
    """Yield an fd of `path`'s directory inside `root` and the file's name."""
    *dirs, name = path.split("/")
    fd = os.open(root, _DIR_FLAGS)
    try:
        for part in dirs:
            if create:
                try:
                    os.mkdir(part, dir_mode, dir_fd=fd)
                    if owner is not None:
                        os.chown(part, *owner, dir_fd=fd, follow_symlinks=False)
                except FileExistsError:
                    pass
            try:
                inner = os.open(part, _DIR_FLAGS, dir_fd=fd)
            except (NotADirectoryError, OSError) as exc:
                raise _refused(path, exc) from None
            os.close(fd)
            fd = inner
        yield fd, name
    finally:
        os.close(fd)


def _refused(path: str, exc: OSError) -> OSError:
    if isinstance(exc, FileNotFoundError):
        return FileNotFoundError(f"the sandbox has no file {path!r}")
    return PermissionError(f"{path!r} in the sandbox is not a plain file or directory ({exc})")


def _require_plain(fd: int, path: str) -> None:
    """A regular file with one name (a hard link could be some file outside the box)."""
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode) or info.st_nlink != 1:
        raise PermissionError(f"{path!r} in the sandbox is not a plain file")


def write_box_file(
    root: str,
    path: str,
    data: bytes,
    *,
    owner: tuple[int, int] | None = None,
    mode: int = 0o644,
    dir_mode: int = 0o755,
) -> None:
    """Store `data` at relative `path` under `root` (parents made; `owner` given to each)."""
    with _parent_dir(root, path, create=True, owner=owner, dir_mode=dir_mode) as (parent, name):
        flags = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK
        try:
            fd = os.open(name, flags | os.O_CLOEXEC, mode, dir_fd=parent)
        except OSError as exc:
            raise _refused(path, exc) from None
        with os.fdopen(fd, "wb") as out:
            _require_plain(fd, path)
            os.ftruncate(fd, 0)
            if owner is not None:
                os.fchown(fd, *owner)
            os.fchmod(fd, mode)
            out.write(data)


def make_box_dir(root: str, path: str, *, owner: tuple[int, int] | None = None) -> None:
    """Make directory `path` under `root` and its parents (`owner` given to each made)."""
    with _parent_dir(root, f"{path}/-", create=True, owner=owner, dir_mode=0o755):
        pass


def read_box_file(root: str, path: str) -> bytes:
    """Return the bytes of the regular file at relative `path` under `root`."""
    with _parent_dir(root, path, create=False, owner=None, dir_mode=0) as (parent, name):
        try:
            fd = os.open(
                name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=parent
            )
        except OSError as exc:
            raise _refused(path, exc) from None
        with os.fdopen(fd, "rb") as source:
            _require_plain(fd, path)
            return source.read()


def list_box_files(root: str, prefix: str) -> list[str]:
    """Return the sorted relative paths of regular files under `root` starting with `prefix`."""
    found: list[str] = []
    pending = [""]
    while pending:
        relative = pending.pop()
        try:
            entries = list(os.scandir(os.path.join(root, relative) if relative else root))
        except OSError:
            continue
        for entry in entries:
            path = f"{relative}{entry.name}"
            if entry.is_dir(follow_symlinks=False):
                if (path + "/").startswith(prefix) or prefix.startswith(path + "/"):
                    pending.append(path + "/")
            elif entry.is_file(follow_symlinks=False) and path.startswith(prefix):
                found.append(path)
    return sorted(found)
