"""Workspace grants: tokens that hand a callee part of a workspace, and can only narrow.

A grant is a chain of caveats sealed macaroon-style: the first caveat names
the workspace, and each caveat (its rights, expiry and audience) extends an
HMAC-SHA256 chain that starts from a key the workers share (secret
`WORKSPACE_GRANT_KEY`). Whoever holds a grant can add a caveat offline and
pass the narrower grant on; nobody can remove one or undo its limits without
the key. A path is readable when every caveat has a glob matching it, and
writable when every caveat has a prefix it starts with.

Why not Biscuit or a chain of signed JWTs: the workers both mint and verify
grants, so a shared key is no weaker than public-key signatures, and the HMAC
chain attenuates offline with no key at all, in a few lines and microseconds.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from fnmatch import fnmatchcase
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from a2a_temporal.errors import GrantRefused

__all__ = [
    "GRANT_KEY_SECRET",
    "WorkspaceRights",
    "delegate",
    "open_grant",
]

GRANT_KEY_SECRET = "WORKSPACE_GRANT_KEY"
_MAX_TOKEN = 16_384


class _Caveat(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    workspace: str | None = Field(default=None, description="only in the first caveat")
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
    read: tuple[tuple[str, ...], ...] = (("*",),)
    write: tuple[tuple[str, ...], ...] = (("",),)
    token: str | None = None
    grant_id: str | None = None

    def can_read(self, path: str) -> bool:
        """Whether every layer lets `path` be read."""
        return all(any(fnmatchcase(path, glob) for glob in layer) for layer in self.read)

    def can_write(self, path: str) -> bool:
        """Whether every layer lets `path` be written."""
        return all(any(path.startswith(prefix) for prefix in layer) for layer in self.write)

    def covers(self, read: Sequence[str], write: Sequence[str]) -> str | None:
        """None when `read` globs and `write` prefixes lie within these rights, else why not."""
        for glob in read:
            if not all(any(fnmatchcase(glob, own) for own in layer) for layer in self.read):
                return f"read {glob!r} is wider than this workspace's read rights"
        for prefix in write:
            if not self.can_write(prefix):
                return f"write {prefix!r} is wider than this workspace's write rights"
        return None


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _chain(key: bytes, grant_id: str, caveats: Sequence[_Caveat]) -> bytes:
    signature = hmac.new(key, grant_id.encode(), hashlib.sha256).digest()
    for caveat in caveats:
        data = json.dumps(caveat.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
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
) -> str:
    """A grant of `read` globs and `write` prefixes within `rights`, for `audience`.

    A holder of a grant narrows it (a caveat is added); the owner of a
    workspace mints a new one.

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
        caveats = [caveat.model_copy(update={"workspace": rights.prefix})]
    else:
        held = _decode(rights.token)
        grant_id, caveats = held.id, [*held.caveats, caveat]
    return _encode(
        _Token(id=grant_id, caveats=caveats, signature=_b64(_chain(key, grant_id, caveats)))
    )


def open_grant(
    key: bytes, token: Any, *, audience: str, actors: Sequence[str], now: datetime
) -> WorkspaceRights:
    """The rights a grant gives agent `audience` (whose callers were `actors`).

    Raises:
        GrantRefused: Malformed, tampered or sealed with another key, expired, meant
            for another agent, or widening what an earlier caveat allowed.
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
    if first.workspace is None or any(c.workspace is not None for c in parsed.caveats[1:]):
        raise GrantRefused(f"grant {grant_id} names its workspace out of place", grant_id)
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
