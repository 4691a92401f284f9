"""Generated hostile input for identities and names: only documented refusals, no forgery."""

from __future__ import annotations

import base64
import json
import unicodedata
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from a2a_temporal.core.grants import GrantHolder, WorkspaceRights, delegate, open_grant
from a2a_temporal.core.names import validate_object_name
from a2a_temporal.errors import GrantRefused, IdentityRefused
from a2a_temporal.trust.claims import IdentityCheck, call_digest
from a2a_temporal.trust.identity import IdentitySigner, IdentityVerifier, generate_key

CASES = 2_500  # per property; seven properties: 17,500 generated cases
PRIVATE, PUBLIC = generate_key()
SIGNER = IdentitySigner("k1", PRIVATE)
VERIFIER = IdentityVerifier({"k1": PUBLIC})
NOW = datetime(2026, 11, 25, tzinfo=UTC)
TASK = "agent.skill/0"
RUNS = call_digest("agent", "skill", {})
FUZZ = settings(max_examples=CASES, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars: st.SearchStrategy[Any] = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20)
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
scope_sets = st.lists(st.sampled_from(["read", "write", "admin", "deploy"]), unique=True)
identities = st.fixed_dictionaries(
    {"subject": st.text(min_size=1, max_size=12), "scopes": scope_sets, "actors": st.just([])}
)


def _mint(auth: dict[str, Any]) -> dict[str, Any]:
    envelope = SIGNER.mint(
        auth, audience="agent", task=TASK, now=NOW, ttl=timedelta(minutes=5), runs=RUNS
    )
    return envelope.model_dump(mode="json")


def _root(envelope: Any, auth: Any = None) -> dict[str, Any]:
    check = IdentityCheck(
        auth=auth, task_id=TASK, audience="agent", started_at=NOW, call_digest=RUNS
    )
    return VERIFIER.verify(envelope, check)


class Tally:
    """Counts each property's cases and outcomes (printed in the session summary)."""

    def __init__(self) -> None:
        self.counts: dict[str, Counter[str]] = {}

    def record(self, category: str, outcome: str, times: int = 1) -> None:
        self.counts.setdefault(category, Counter())[outcome] += times


TALLY = Tally()


@FUZZ
@given(json_values)
def test_arbitrary_envelopes_are_refused_with_the_documented_error(envelope: Any) -> None:
    with pytest.raises(IdentityRefused):
        _root(envelope)
    TALLY.record("arbitrary envelopes", "refused")


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from _paths(inner, (*prefix, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from _paths(inner, (*prefix, index))


def _replaced(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    copy = json.loads(json.dumps(value))
    target = copy
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = new
    return copy


@FUZZ
@given(identities, st.data(), json_values)
def test_a_changed_signed_envelope_is_never_accepted(
    auth: dict[str, Any], data: st.DataObject, new: Any
) -> None:
    envelope = _mint(auth)
    path = data.draw(st.sampled_from(list(_paths(envelope))))
    changed = _replaced(envelope, path, new)
    if json.dumps(changed, sort_keys=True) == json.dumps(envelope, sort_keys=True):
        assert _root(changed) == auth
        TALLY.record("changed envelopes", "unchanged, accepted")
        return
    try:
        accepted = _root(changed)
    except IdentityRefused:
        TALLY.record("changed envelopes", "refused")
        return
    assert accepted == auth, f"a changed envelope was accepted as {accepted}"
    TALLY.record("changed envelopes", "equivalent, accepted")  # e.g. 5 -> 5.0 in a timestamp


@FUZZ
@given(identities)
def test_every_validly_signed_identity_verifies(auth: dict[str, Any]) -> None:
    assert _root(_mint(auth), auth) == auth
    TALLY.record("valid envelopes", "accepted")


@FUZZ
@given(
    identities,
    st.sampled_from(["helper", "other"]),
    st.sampled_from([{"n": 1}, {"n": 2}, None]),
    st.sampled_from([TASK, f"{TASK}/call-0", "elsewhere"]),
    st.booleans(),
)
def test_a_call_envelope_works_only_for_the_call_it_was_minted_for(
    auth: dict[str, Any], agent: str, args: Any, parent: str, same_auth: bool
) -> None:
    minted_for = {"agent": "helper", "args": {"n": 1}, "parent": TASK}
    envelope = SIGNER.mint(
        auth,
        audience="helper",
        task=TASK,
        now=NOW,
        ttl=timedelta(minutes=5),
        call=call_digest("helper", "work", {"n": 1}),
    ).model_dump(mode="json")
    claimed = auth if same_auth else {**auth, "scopes": [*auth["scopes"], "admin"]}
    check = IdentityCheck(
        auth=claimed,
        task_id=f"{parent}/call-0",
        audience=agent,
        parent_id=parent,
        started_at=NOW,
        call_digest=call_digest(agent, "work", args),
    )
    exact = same_auth and {"agent": agent, "args": args, "parent": parent} == minted_for
    try:
        accepted = VERIFIER.verify(envelope, check)
    except IdentityRefused:
        assert not exact, "the call it was minted for was refused"
        TALLY.record("call envelopes", "refused")
        return
    assert exact, f"accepted for {agent}, {args}, parent {parent}"
    assert accepted == auth
    TALLY.record("call envelopes", "accepted")


GRANT_KEY = b"grant-key-for-fuzzing"
GRANT = delegate(
    WorkspaceRights(prefix="workspaces/ann/"),
    GRANT_KEY,
    read=["data/*.csv"],
    write=["out/"],
    ttl=timedelta(minutes=5),
    audience="helper",
    now=NOW,
    holder=GrantHolder(subject="ann", task_id="owner.share/1"),
)
CALLEE = GrantHolder(subject="ann", task_id="owner.share/1/call-0")


def _open(token: Any) -> WorkspaceRights:
    return open_grant(GRANT_KEY, token, audience="helper", actors=(), now=NOW, holder=CALLEE)


@FUZZ
@given(st.one_of(st.text(max_size=80), json_values.map(lambda v: _b64json(v))))
def test_arbitrary_grants_are_refused_with_the_documented_error(token: Any) -> None:
    with pytest.raises(GrantRefused):
        _open(token)
    TALLY.record("arbitrary grants", "refused")


@FUZZ
@given(st.data(), json_values)
def test_a_changed_grant_is_never_accepted(data: st.DataObject, new: Any) -> None:
    decoded = json.loads(base64.urlsafe_b64decode(GRANT + "=" * (-len(GRANT) % 4)))
    path = data.draw(st.sampled_from(list(_paths(decoded))))
    changed = _replaced(decoded, path, new)
    if json.dumps(changed, sort_keys=True) == json.dumps(decoded, sort_keys=True):
        TALLY.record("changed grants", "unchanged")
        return
    try:
        rights = _open(_b64json(changed))
    except GrantRefused:
        TALLY.record("changed grants", "refused")
        return
    original = _open(GRANT)
    assert (rights.prefix, rights.read, rights.write) == (
        original.prefix,
        original.read,
        original.write,
    ), "a changed grant was accepted with other rights"
    TALLY.record("changed grants", "equivalent, accepted")


def _b64json(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@FUZZ
@given(st.text(max_size=60))
def test_object_names_are_accepted_only_when_safe_to_show_and_store(name: str) -> None:
    try:
        accepted = validate_object_name(name)
    except ValueError:
        TALLY.record("object names", "refused")
        return
    assert accepted == name
    assert not name.startswith("/") and "\\" not in name
    assert all(segment not in ("", ".", "..") for segment in name.split("/"))
    assert all(unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Zl", "Zp") for ch in name)
    TALLY.record("object names", "accepted")


@pytest.mark.parametrize(
    "name", ["report\u202etxt.exe", "a\u2028b", "bell\x85", "zero\u200bwidth", "tab\tname"]
)
def test_names_that_would_display_as_something_else_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="would let a displayed name lie"):
        validate_object_name(name)
