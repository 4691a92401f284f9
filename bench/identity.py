"""Signed identities and grants: what they cost, and what identities add to a trivial skill.

Micro: one Ed25519 envelope minted, then verified, and one workspace grant
minted, then verified (µs per call, median of `--micro` calls). End to end:
a trivial skill called with a caller identity, p50 over `--runs`, on a worker
that requires signed identities (its client signs) vs a worker that does not
(the identity goes unsigned), interleaved in one run (target ratio <= 1.05).
"""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from a2a_temporal import ScopedAuth
from a2a_temporal.core.grants import GrantHolder, WorkspaceRights, delegate, open_grant
from a2a_temporal.testing import DevStack
from a2a_temporal.trust.claims import IdentityCheck, call_digest
from a2a_temporal.trust.identity import IdentitySigner, IdentityVerifier, generate_key
from bench.agents import BENCH_AGENTS
from bench.common import median, report

AUTH = ScopedAuth(subject="bench", scopes=("read", "write"))


def micro(calls: int, private: str, public: str) -> None:
    signer = IdentitySigner("bench", private)
    verifier = IdentityVerifier({"bench": public})
    auth = AUTH.model_dump(mode="json")
    now = datetime.now(UTC)
    minted, verified = [], []
    runs = call_digest("trivial", "run", {"n": 1})
    for i in range(calls):
        started = time.perf_counter()
        envelope = signer.mint(
            auth, audience="trivial", task=f"t/{i}", now=now, ttl=timedelta(minutes=5), runs=runs
        ).model_dump(mode="json")
        middle = time.perf_counter()
        verifier.verify(
            envelope,
            IdentityCheck(
                auth=auth, task_id=f"t/{i}", audience="trivial", started_at=now, call_digest=runs
            ),
        )
        minted.append(middle - started)
        verified.append(time.perf_counter() - middle)
    print(
        f"identity envelope, median of {calls}: mint {median(minted) * 1e6:.0f} µs, "
        f"verify {median(verified) * 1e6:.0f} µs"
    )
    grant_micro(calls)


def grant_micro(calls: int) -> None:
    key = b"bench-grant-key"
    own = WorkspaceRights(prefix="workspaces/bench/")
    now = datetime.now(UTC)
    minted, opened = [], []
    for _ in range(calls):
        started = time.perf_counter()
        token = delegate(
            own,
            key,
            read=["data/*.csv"],
            write=["out/"],
            ttl=timedelta(minutes=5),
            audience="helper",
            now=now,
            holder=GrantHolder(subject="bench", task_id="bench.share/1"),
        )
        middle = time.perf_counter()
        callee = GrantHolder(subject="bench", task_id="bench.share/1/call-0")
        open_grant(key, token, audience="helper", actors=(), now=now, holder=callee)
        minted.append(middle - started)
        opened.append(time.perf_counter() - middle)
    print(
        f"workspace grant, median of {calls}: mint {median(minted) * 1e6:.0f} µs, "
        f"verify {median(opened) * 1e6:.0f} µs"
    )


async def end_to_end(runs: int, private: str, public: str) -> None:
    signing: dict[str, Any] = {
        "require_signed_identity": True,
        "identity_issuers": {"bench": public},
        "identity_key_id": "bench",
        "identity_signing_key": private,
    }
    async with (
        DevStack(ui=False) as stack,
        stack.worker(BENCH_AGENTS, task_queue="bench-signed", **signing) as signed,
        stack.worker(BENCH_AGENTS, task_queue="bench-unsigned") as unsigned,
    ):
        timings: dict[str, list[float]] = {"signed": [], "unsigned": []}
        for i in range(runs + 10):  # the first ten warm both paths up
            for name, client in (("signed", signed), ("unsigned", unsigned)):
                started = time.perf_counter()
                result = await client.call("trivial", "noop", args={"text": "x"}, auth=AUTH)
                elapsed = time.perf_counter() - started
                assert result.ok, result.error
                if i >= 10:
                    timings[name].append(elapsed)
    report(
        f"trivial skill with an identity, p50 over {runs} runs, signed (ours) vs unsigned (raw)",
        median(timings["signed"]) * 1000,
        median(timings["unsigned"]) * 1000,
        "ms",
        "target <= 1.05",
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--micro", type=int, default=2000)
    args = parser.parse_args()
    private_key, public_key = generate_key()
    micro(args.micro, private_key, public_key)
    asyncio.run(end_to_end(args.runs, private_key, public_key))
