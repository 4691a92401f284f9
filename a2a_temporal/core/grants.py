"""Workspace grants: tokens that hand a callee part of a workspace, and can only narrow.

A grant is a chain of caveats sealed macaroon-style: the first caveat names
the workspace, and each caveat (its rights, expiry and audience) extends an
HMAC-SHA256 chain that starts from a key the workers share (secret
`WORKSPACE_GRANT_KEY`). Whoever holds a grant can add a caveat offline and
pass the narrower grant on; nobody can remove one or undo its limits without
the key. A path is readable when every caveat has a glob matching it, and
writable when every caveat has a prefix it starts with. In globs `*` matches
any characters but `/`, `**` any characters including `/`, and `?` one
character but `/`.

A grant is bound to the people and tasks it was made for: its first caveat
names the subject whose workspace it hands out and the task it was made in.
It is honoured only for runs on that subject's behalf, in that task or in the
tasks it started (their ids are below its id).

Why not Biscuit or a chain of signed JWTs: the workers both mint and verify
grants, so a shared key is no weaker than public-key signatures, and the HMAC
chain attenuates offline with no key at all, in a few lines and microseconds.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import json
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from a2a_temporal.core.names import is_descendant
from a2a_temporal.errors import GrantRefused

__all__ = [
    "GRANT_KEY_SECRET",
    "GrantHolder",
    "WorkspaceRights",
    "delegate",
    "glob_matches",
    "open_grant",
]

GRANT_KEY_SECRET = "WORKSPACE_GRANT_KEY"
_MAX_TOKEN = 16_384


class _Caveat(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    workspace: str | None = Field(default=None, description="only in the first caveat")
    subject: str | None = Field(
        default=None, description="only in the first caveat: whose behalf it is used on"
    )
    tree: str | None = Field(
        default=None, description="only in the first caveat: the task it was made in"
    )
    read: list[str]
    write: list[str]
    expires: datetime
    audience: str | None = None


class _Token(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    caveats: list[_Caveat] = Field(min_length=1)
    signature: str


@dataclass(frozen=True)
class WorkspaceRights:
    """What the holder of a workspace may do; each layer is one grant caveat.

    Attributes:
        prefix: The workspace (its S3 prefix; empty in-process).
        read: Per layer, globs of readable paths.
        write: Per layer, prefixes of writable paths (`""` is all).
        token: The grant these rights come from; None for one's own workspace.
        grant_id: Its id.
    """

    prefix: str
    read: tuple[tuple[str, ...], ...] = (("**",),)
    write: tuple[tuple[str, ...], ...] = (("",),)
    token: str | None = None
    grant_id: str | None = None

    def can_read(self, path: str) -> bool:
        """Whether every layer lets `path` be read."""
        return all(any(glob_matches(path, glob) for glob in layer) for layer in self.read)

    def can_write(self, path: str) -> bool:
        """Whether every layer lets `path` be written."""
        return all(any(path.startswith(prefix) for prefix in layer) for layer in self.write)

    def covers(self, read: Sequence[str], write: Sequence[str]) -> str | None:
        """None when `read` globs and `write` prefixes lie within these rights, else why not."""
        for glob in read:
            # `**` may cross `/`: it lies within an own glob only where that one crosses too
            crossing = glob.replace("**", "*/*")
            if not all(any(glob_matches(crossing, own) for own in layer) for layer in self.read):
                return f"read {glob!r} is wider than this workspace's read rights"
        for prefix in write:
            if not self.can_write(prefix):
                return f"write {prefix!r} is wider than this workspace's write rights"
        return None


@dataclass(frozen=True)
class GrantHolder:
    """Who opens or makes a grant: the subject a run acts for and its task."""

    subject: str | None
    task_id: str


def glob_matches(path: str, glob: str) -> bool:
    """Whether `path` matches `glob` (`*` and `?` stay within a `/` segment, `**` crosses)."""
    return _glob_pattern(glob).fullmatch(path) is not None


@functools.lru_cache(maxsize=1024)
def _glob_pattern(glob: str) -> re.Pattern[str]:
    parts = re.split(r"(\*\*|\*|\?)", glob)
    wild = {"**": ".*", "*": "[^/]*", "?": "[^/]"}
    return re.compile("".join(wild.get(part) or re.escape(part) for part in parts), re.DOTALL)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _chain(key: bytes, grant_id: str, caveats: Sequence[_Caveat]) -> bytes:
    signature = hmac.new(key, grant_id.encode(), hashlib.sha256).digest()
    for caveat in caveats:
        fields = caveat.model_dump(mode="json", exclude={"subject", "tree"})
        fields |= {k: v for k in ("subject", "tree") if (v := getattr(caveat, k)) is not None}
        data = json.dumps(fields, sort_keys=True, separators=(",", ":"))
        signature = hmac.new(signature, data.encode(), hashlib.sha256).digest()
    return signature


def _encode(token: _Token) -> str:
    return _b64(token.model_dump_json().encode())


def _decode(text: str) -> _Token:
    if not isinstance(text, str) or len(text) > _MAX_TOKEN:
        raise GrantRefused("malformed grant: not a grant token")
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        return _Token.model_validate_json(raw)
    except (ValueError, binascii.Error, ValidationError):
        raise GrantRefused("malformed grant: not a grant token") from None


def delegate(
    rights: WorkspaceRights,
    key: bytes,
    *,
    read: Sequence[str],
    write: Sequence[str],
    ttl: timedelta,
    audience: str | None,
    now: datetime,
    holder: GrantHolder,
) -> str:
    """A grant of `read` globs and `write` prefixes within `rights`, for `audience`.

    A holder of a grant narrows it (a caveat is added); the owner of a
    workspace mints a new one, bound to `holder`'s subject and task.

    Raises:
        GrantRefused: The request is wider than `rights`, or `ttl` is not positive.
    """
    if ttl <= timedelta(0):
        raise GrantRefused(f"a grant needs a positive ttl, got {ttl}", rights.grant_id)
    problem = rights.covers(read, write)
    if problem is not None:
        raise GrantRefused(f"cannot delegate: {problem}", rights.grant_id)
    caveat = _Caveat(read=list(read), write=list(write), expires=now + ttl, audience=audience)
    if rights.token is None:
        grant_id = str(uuid.uuid4())
        first = {"workspace": rights.prefix, "subject": holder.subject, "tree": holder.task_id}
        caveats = [caveat.model_copy(update=first)]
    else:
        held = _decode(rights.token)
        grant_id, caveats = held.id, [*held.caveats, caveat]
    return _encode(
        _Token(id=grant_id, caveats=caveats, signature=_b64(_chain(key, grant_id, caveats)))
    )


def _check_holder(grant_id: str, first: _Caveat, holder: GrantHolder) -> None:
    if first.tree is None:
        raise GrantRefused(
            f"grant {grant_id} names no task it was made in (made by an older version)", grant_id
        )
    if holder.subject != first.subject:
        raise GrantRefused(
            f"grant {grant_id} was made on behalf of {first.subject!r}, and this run acts "
            f"for {holder.subject!r}",
            grant_id,
        )
    if holder.task_id != first.tree and not is_descendant(holder.task_id, first.tree):
        raise GrantRefused(
            f"grant {grant_id} belongs to the tasks of {first.tree!r}; task "
            f"{holder.task_id!r} is not one of them",
            grant_id,
        )


def open_grant(
    key: bytes,
    token: Any,
    *,
    audience: str,
    actors: Sequence[str],
    now: datetime,
    holder: GrantHolder,
) -> WorkspaceRights:
    """The rights a grant gives agent `audience` (whose callers were `actors`) in `holder`'s run.

    Raises:
        GrantRefused: Malformed, tampered or sealed with another key, expired, meant
            for another agent, subject or task tree, or widening what an earlier
            caveat allowed.
    """
    parsed = _decode(token)
    grant_id = parsed.id
    expected = _chain(key, grant_id, parsed.caveats)
    try:
        given = base64.urlsafe_b64decode(parsed.signature + "=" * (-len(parsed.signature) % 4))
    except (ValueError, binascii.Error):
        given = b""
    if not hmac.compare_digest(expected, given):
        raise GrantRefused(
            f"grant {grant_id} does not verify (tampered, or made with another key)", grant_id
        )
    first = parsed.caveats[0]
    later = parsed.caveats[1:]
    if first.workspace is None or any(c.workspace or c.subject or c.tree for c in later):
        raise GrantRefused(f"grant {grant_id} names its workspace out of place", grant_id)
    _check_holder(grant_id, first, holder)
    rights = WorkspaceRights(prefix=first.workspace, read=(), write=(), grant_id=grant_id)
    for index, caveat in enumerate(parsed.caveats):
        if caveat.expires < now:
            raise GrantRefused(
                f"grant {grant_id} expired at {caveat.expires.isoformat()}", grant_id
            )
        last = index == len(parsed.caveats) - 1
        if last and caveat.audience not in (None, audience):
            raise GrantRefused(
                f"grant {grant_id} is for agent {caveat.audience!r}, not {audience!r}", grant_id
            )
        if not last and caveat.audience not in (None, *actors):
            raise GrantRefused(
                f"grant {grant_id} was handed to agent {caveat.audience!r}, which did not call "
                f"{audience!r}",
                grant_id,
            )
        if index and (problem := rights.covers(caveat.read, caveat.write)) is not None:
            raise GrantRefused(f"grant {grant_id} widens its rights: {problem}", grant_id)
        rights = WorkspaceRights(
            prefix=rights.prefix,
            read=(*rights.read, tuple(caveat.read)),
            write=(*rights.write, tuple(caveat.write)),
            token=token,
            grant_id=grant_id,
        )
    return rights
