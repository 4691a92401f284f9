"""A caller's identity passes down calls: same subject, longer actor chain, never more scopes."""

from __future__ import annotations

from typing import Any

import pytest

from a2a_temporal import InMemoryA2AClient, ScopedAuth
from a2a_temporal.core.auth import delegated_identity
from a2a_temporal.errors import DelegationRefused
from a2a_temporal.testing import DevStack
from tests.delegation_agents import DELEGATION_AGENTS
from tests.temporal_helpers import running

ANN = ScopedAuth(subject="ann", scopes=("deploy", "read", "write"))
CHAIN = {
    "hops": [
        {"agent": "relay_b", "scopes": ["read", "write", "admin"]},
        {"agent": "relay_c"},
        {"agent": "relay_d", "scopes": ["read"]},
    ],
    "then": "admin_only",
}


async def _both(stack: DevStack, skill: str, args: Any = None, **settings: Any) -> list[Any]:
    """The skill's result in-process and on Temporal."""
    depth = {"max_delegation_depth": settings["max_delegation_depth"]} if settings else {}
    local = await InMemoryA2AClient(DELEGATION_AGENTS, **depth).call(
        "relay_a", skill, args=args, auth=ANN
    )
    async with running(stack, DELEGATION_AGENTS, **settings) as client:
        remote = await client.call("relay_a", skill, args=args, auth=ANN)
    return [(local.status, local.output), (remote.status, remote.output)]


async def test_calls_attenuate_down_a_chain_of_three(stack: DevStack) -> None:
    local, remote = await _both(stack, "whoami", CHAIN)
    assert local == remote
    status, hops = remote
    assert status == "completed"
    assert hops[:4] == [
        {"agent": "relay_a", "subject": "ann", "scopes": ["deploy", "read", "write"], "actors": []},
        {"agent": "relay_b", "subject": "ann", "scopes": ["read", "write"], "actors": ["relay_a"]},
        {
            "agent": "relay_c",
            "subject": "ann",
            "scopes": ["read", "write"],
            "actors": ["relay_a", "relay_b"],
        },
        {
            "agent": "relay_d",
            "subject": "ann",
            "scopes": ["read"],
            "actors": ["relay_a", "relay_b", "relay_c"],
        },
    ], "asking for `admin` (which ann lacks) did not grant it"
    assert hops[4]["status"] == "rejected"
    assert "admin" in hops[4]["error"], "the admin-only skill refused the narrowed identity"


async def test_a_skill_cannot_change_who_it_is_or_which_task_it_is(stack: DevStack) -> None:
    local, remote = await _both(stack, "impersonate")
    assert local == remote
    assert remote == (
        "completed",
        {"refused": ["auth", "task_id"], "admin": "rejected", "subject": "ann"},
    )


async def test_the_actor_chain_is_bounded(stack: DevStack) -> None:
    local, remote = await _both(stack, "whoami", CHAIN, max_delegation_depth=2)
    assert local == remote
    status, hops = remote
    assert status == "completed"
    assert [hop.get("agent") for hop in hops[:3]] == ["relay_a", "relay_b", "relay_c"]
    assert hops[3] == {
        "status": "rejected",
        "error": "delegation depth 3 exceeds max_delegation_depth 2 "
        "(actors: relay_a -> relay_b -> relay_c)",
    }


async def test_the_chain_is_kept_for_auth_models_without_one(stack: DevStack) -> None:
    who = {"subject": "ann"}
    local = await InMemoryA2AClient(DELEGATION_AGENTS, max_delegation_depth=3).call(
        "recurser", "down", args={"n": 10}, auth=who
    )
    async with running(stack, DELEGATION_AGENTS, max_delegation_depth=3) as client:
        remote = await client.call("recurser", "down", args={"n": 10}, auth=who)
    assert local.output == remote.output
    assert remote.output == [
        "ok",
        "ok",
        "ok",
        "ok",
        "delegation depth 4 exceeds max_delegation_depth 3 "
        "(actors: recurser -> recurser -> recurser -> recurser)",
    ]


def test_delegated_identity_only_narrows() -> None:
    assert delegated_identity(None, "a") is None
    assert delegated_identity({"subject": "s", "scopes": "x y"}, "a", ["y", "z"]) == {
        "subject": "s",
        "scopes": "y",
        "actors": ["a"],
    }, "space-separated scopes stay a string"
    assert delegated_identity({"subject": "s"}, "a", ["admin"]) == {
        "subject": "s",
        "actors": ["a"],
    }, "a model without scopes gets none"
    with pytest.raises(DelegationRefused, match="depth 2 exceeds max_delegation_depth 1"):
        delegated_identity({"subject": "s", "actors": ["a"]}, "b", max_depth=1)
