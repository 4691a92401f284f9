"""Workspace grants: a callee gets exactly the part of the workspace it was handed."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from a2a_temporal import InMemoryA2AClient, InMemoryWorkspace, ScopedAuth
from a2a_temporal.core.grants import GrantHolder, WorkspaceRights, delegate, open_grant
from a2a_temporal.core.workspace import ScopedWorkspace
from a2a_temporal.errors import GrantRefused
from a2a_temporal.temporal.s3_workspace import S3Workspace
from a2a_temporal.temporal.storage import ObjectStore
from a2a_temporal.testing import DevStack
from tests.grant_agents import GRANT_AGENTS
from tests.temporal_helpers import running

KEY = "grant-key-for-tests-0123456789"
OWNER = f"owner-{uuid.uuid4().hex[:8]}"  # a workspace no other test touches
ANN = ScopedAuth(subject=OWNER, scopes=("read",))
NOW = datetime(2026, 11, 25, tzinfo=UTC)
EXPECTED = {
    "read data/a.csv": "a,1",
    "read data/b.txt": "refused",
    "read private/key.txt": "refused",
    "write out/result.txt": "ok",
    "write data/a.csv": "refused",
    "list": ["data/a.csv"],
}


GRANTOR = GrantHolder(subject="ann", task_id="owner.share/1")
CALLEE = GrantHolder(subject="ann", task_id="owner.share/1/call-0")


def _grant(read: list[str], write: list[str], audience: str | None = "helper") -> str:
    return delegate(
        WorkspaceRights(prefix="workspaces/ann/"),
        KEY.encode(),
        read=read,
        write=write,
        ttl=timedelta(minutes=1),
        audience=audience,
        now=NOW,
        holder=GRANTOR,
    )


def _open(
    token: Any,
    audience: str = "helper",
    actors: tuple[str, ...] = (),
    holder: GrantHolder = CALLEE,
) -> WorkspaceRights:
    return open_grant(KEY.encode(), token, audience=audience, actors=actors, now=NOW, holder=holder)


def _load(token: str) -> Any:
    return json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))


def _dump(data: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def _tampered(token: str) -> str:
    """The token with its first caveat's read rights changed, signature kept."""
    data = _load(token)
    data["caveats"][0]["read"] = ["*"]
    return _dump(data)


def _append(token: str, caveat: dict[str, Any]) -> str:
    """What anyone holding `token` can do without the key: add a caveat."""
    data = _load(token)
    signature = base64.urlsafe_b64decode(data["signature"] + "==")
    line = json.dumps(caveat, sort_keys=True, separators=(",", ":")).encode()
    data["caveats"].append(caveat)
    data["signature"] = (
        base64.urlsafe_b64encode(hmac.new(signature, line, hashlib.sha256).digest())
        .decode()
        .rstrip("=")
    )
    return _dump(data)


def test_grants_narrow_and_every_bad_one_is_refused_with_its_reason() -> None:
    token = _grant(["data/*.csv"], ["out/"])
    rights = _open(token)
    assert (rights.prefix, rights.can_read("data/a.csv"), rights.can_read("data/b.txt")) == (
        "workspaces/ann/",
        True,
        False,
    )
    narrower = delegate(
        rights,
        KEY.encode(),
        read=["data/a*.csv"],
        write=[],
        ttl=timedelta(1),
        audience="sub",
        now=NOW,
        holder=CALLEE,
    )
    deeper = GrantHolder(subject="ann", task_id="owner.share/1/call-0/call-3")
    sub = _open(narrower, audience="sub", actors=("owner", "helper"), holder=deeper)
    assert (sub.can_read("data/a.csv"), sub.can_read("data/b.csv"), sub.can_write("out/x")) == (
        True,
        False,
        False,
    ), "each caveat applies: read needs *.csv and a*.csv, write nothing"
    with pytest.raises(GrantRefused, match="wider than this workspace's read rights"):
        delegate(
            rights,
            KEY.encode(),
            read=["*"],
            write=[],
            ttl=timedelta(1),
            audience=None,
            now=NOW,
            holder=CALLEE,
        )
    wider = {
        "workspace": None,
        "read": ["*"],
        "write": [""],
        "expires": "2027-01-01T00:00:00Z",
        "audience": "helper",
    }
    future = NOW + timedelta(minutes=5)
    refusals: dict[str, tuple[Any, dict[str, Any]]] = {
        "widens its rights": (_append(token, wider), {"actors": ("helper",)}),
        "was handed to agent 'helper', which did not call": (_append(token, wider), {}),
        "does not verify": (_tampered(token), {}),
        "expired at": (token, {"now": future}),
        "for agent 'helper', not 'thief'": (token, {"audience": "thief"}),
        "malformed grant": ("not a grant", {}),
        "made on behalf of 'ann', and this run acts for 'mallory'": (
            token,
            {"holder": GrantHolder(subject="mallory", task_id=CALLEE.task_id)},
        ),
        "made on behalf of 'ann', and this run acts for None": (
            token,
            {"holder": GrantHolder(subject=None, task_id=CALLEE.task_id)},
        ),
        "belongs to the tasks of 'owner.share/1'; task 'owner.share/10'": (
            token,
            {"holder": GrantHolder(subject="ann", task_id="owner.share/10")},
        ),
        "names no task it was made in": (_unbound(token), {}),
    }
    for reason, (bad, where) in refusals.items():
        with pytest.raises(GrantRefused, match=re.escape(reason)):
            open_grant(
                KEY.encode(),
                bad,
                audience=where.get("audience", "helper"),
                actors=where.get("actors", ()),
                now=where.get("now", NOW),
                holder=where.get("holder", CALLEE),
            )
    with pytest.raises(GrantRefused, match="does not verify"):
        open_grant(b"another key", token, audience="helper", actors=(), now=NOW, holder=CALLEE)
    assert _open(token, holder=GRANTOR).can_read("data/a.csv"), "the granting task itself"


def test_globs_keep_star_within_a_folder_and_double_star_crosses() -> None:
    rights = _open(_grant(["data/*.csv", "logs/**"], []))
    assert rights.can_read("data/a.csv")
    assert not rights.can_read("data/deep/x.csv"), "* does not cross /"
    assert rights.can_read("logs/2026/12/app.log"), "** does"
    assert not rights.can_read("logsx/a"), "a glob matches the whole path"
    with pytest.raises(GrantRefused, match="wider than this workspace's read rights"):
        delegate(
            _open(_grant(["data/*"], [])),
            KEY.encode(),
            read=["data/**"],
            write=[],
            ttl=timedelta(1),
            audience=None,
            now=NOW,
            holder=CALLEE,
        )


def _unbound(token: str) -> str:
    """A grant as an older version made it: no subject or task, signed with the key."""
    data = _load(token)
    first = {k: v for k, v in data["caveats"][0].items() if k not in ("subject", "tree")}
    signature = hmac.new(KEY.encode(), data["id"].encode(), hashlib.sha256).digest()
    line = json.dumps(first, sort_keys=True, separators=(",", ":")).encode()
    signature = hmac.new(signature, line, hashlib.sha256).digest()
    data["caveats"] = [first]
    data["signature"] = base64.urlsafe_b64encode(signature).decode().rstrip("=")
    return _dump(data)


class RecordingStore(ObjectStore):
    """The real object store, remembering every key it is asked about."""

    def __init__(self, store: ObjectStore) -> None:
        super().__init__(store.client, store.bucket)
        self.asked: list[str] = []

    async def get(self, key: str) -> bytes:
        self.asked.append(key)
        return await super().get(key)

    async def put_bytes(self, key: str, data: bytes, mime_type: str) -> int:
        self.asked.append(key)
        return await super().put_bytes(key, data, mime_type)

    async def exists(self, key: str) -> bool:
        self.asked.append(key)
        return await super().exists(key)

    async def delete(self, key: str) -> None:
        self.asked.append(key)
        await super().delete(key)

    async def list(self, prefix: str) -> list[tuple[str, int, str]]:
        self.asked.append(prefix)
        return await super().list(prefix)


async def test_no_request_leaves_the_granted_workspace(stack: DevStack) -> None:
    store = RecordingStore(ObjectStore(stack.minio(), stack.bucket))
    await store.put_bytes("workspaces/bob/secret.txt", b"bob's", "text/plain")
    rights = _open(_grant(["data/*"], ["data/"]))
    workspace = ScopedWorkspace(
        S3Workspace(store, rights.prefix), rights, KEY.encode, CALLEE, read_only=False
    )
    store.asked.clear()
    await workspace.write("data/x.txt", b"x")
    assert await workspace.read("data/x.txt") == b"x"
    hostile = [
        "../bob/secret.txt",
        "/workspaces/bob/secret.txt",
        "data/../../bob/secret.txt",
        "data\\..\\x",
        "data/\u202etxt.exe",
        "other.txt",
    ]
    for path in hostile:
        with pytest.raises((PermissionError, ValueError)):
            await workspace.read(path)
        with pytest.raises((PermissionError, ValueError)):
            await workspace.write(path, b"!")
    assert await workspace.list("") == ["data/x.txt"]
    await workspace.delete("data/x.txt")
    assert store.asked, "the workspace did reach the store"
    assert all(key.startswith("workspaces/ann/") for key in store.asked), store.asked


async def test_a_callee_gets_exactly_the_granted_part_in_process_and_on_temporal(
    stack: DevStack,
) -> None:
    secrets = {"WORKSPACE_GRANT_KEY": KEY}
    local_client = InMemoryA2AClient(GRANT_AGENTS, secrets, workspace=InMemoryWorkspace())
    local = await local_client.call("owner", "share", auth=ANN)
    async with running(stack, GRANT_AGENTS, secrets) as client:
        remote = await client.call("owner", "share", auth=ANN)
        tampered = await client.call("owner", "share", args={"token_edit": "tamper"}, auth=ANN)
        elsewhere = await client.call(
            "owner", "share", args={"token_edit": "wrong-audience"}, auth=ANN
        )
        callee = client.get_task(f"{tampered.task_id}/call-0")
        callee_events = [e async for e in callee.events()]
    assert local.output == remote.output
    report = remote.output["report"]
    widen = report.pop("widen")
    assert report == EXPECTED
    assert widen.startswith("cannot delegate: read '*' is wider")
    refused = tampered.output["report"]["workspace"]
    assert refused.startswith("no workspace: grant ") and "does not verify" in refused
    assert "is for agent 'someone-else', not 'helper'" in elsewhere.output["report"]["workspace"]
    s3 = stack.minio()
    listed = s3.list_objects(stack.bucket, f"workspaces/{OWNER}/", recursive=True)
    keys = sorted((o.object_name or "").removeprefix(f"workspaces/{OWNER}/") for o in listed)
    assert keys == ["data/a.csv", "data/b.txt", "out/result.txt", "private/key.txt"]
    [error] = [e.payload for e in callee_events if e.kind == "error"]
    assert error["code"] == "grant_refused" and error["grant"], "the refusal names the grant"
    assert error["message"] == refused.removeprefix("no workspace: ")
