"""Generated hostile input for identities and names: only documented refusals, no forgery."""

from __future__ import annotations

import json
import unicodedata
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from a2a_temporal.identity import IdentityRefused, IdentitySigner, IdentityVerifier, generate_key
from a2a_temporal.names import validate_object_name

CASES = 2_500  # per property; five properties: 12,500 generated cases
PRIVATE, PUBLIC = generate_key()
SIGNER = IdentitySigner("k1", PRIVATE)
VERIFIER = IdentityVerifier({"k1": PUBLIC})
NOW = datetime(2026, 11, 25, tzinfo=UTC)
TASK = "agent.skill/0"
FUZZ = settings(max_examples=CASES, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
scalars = scalars | st.text(max_size=20)
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
    envelope = SIGNER.mint(auth, audience="agent", task=TASK, now=NOW, ttl=timedelta(minutes=5))
    return envelope.model_dump(mode="json")


def _root(envelope: Any, auth: Any = None) -> dict[str, Any]:
    return VERIFIER.verify(
        envelope, auth, task_id=TASK, audience="agent", parent_id=None, started_at=NOW, max_depth=8
    )


class Tally:
    """Counts each property's cases and outcomes (printed in the session summary)."""

    def __init__(self) -> None:
        self.counts: dict[str, Counter[str]] = {}

    def record(self, category: str, outcome: str) -> None:
        self.counts.setdefault(category, Counter())[outcome] += 1


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
@given(identities, scope_sets, st.text(max_size=12))
def test_a_call_never_widens_or_changes_its_signed_identity(
    auth: dict[str, Any], claimed_scopes: list[str], subject: str
) -> None:
    claimed = {"subject": subject, "scopes": claimed_scopes, "actors": ["agent"]}
    narrowing = subject == auth["subject"] and set(claimed_scopes) <= set(auth["scopes"])
    where = {"task_id": f"{TASK}/call-0", "parent_id": TASK}
    try:
        result = VERIFIER.verify(
            _mint(auth), claimed, audience="agent", started_at=NOW, max_depth=8, **where
        )
    except IdentityRefused:
        assert not narrowing, "a narrowing call was refused"
        TALLY.record("call identities", "refused")
        return
    assert narrowing, f"{claimed} was accepted under {auth}"
    assert result == claimed
    TALLY.record("call identities", "accepted")


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
