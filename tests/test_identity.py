"""Signed identities: workers run only what a trusted issuer vouched for, bound to its task."""

from __future__ import annotations

import asyncio
import json
import os
import shlex
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from a2a_temporal import CallResult, Pipeline, TemporalA2AClient
from a2a_temporal.cli.main import main
from a2a_temporal.errors import IdentityRefused
from a2a_temporal.settings import AgentSettings
from a2a_temporal.temporal.models import (
    AttemptToken,
    CallBatch,
    CallRequest,
    CallStarted,
    Resolution,
    SkillOptions,
)
from a2a_temporal.temporal.wire import CALLS_UPDATE
from a2a_temporal.testing import DevStack, find_temporal_cli
from a2a_temporal.trust.claims import IdentityCheck, call_digest
from a2a_temporal.trust.identity import (
    IdentityPolicy,
    IdentitySigner,
    IdentityVerifier,
    generate_key,
    identity_signer,
)
from tests.delegation_agents import DELEGATION_AGENTS
from tests.temporal_helpers import (
    attempt_inputs,
    executed_outcome,
    history,
    running,
    skill_attempts,
)
from tests.test_delegation import ANN, CHAIN
from tests.test_temporal_cli import temporal

PRIVATE, PUBLIC = generate_key()
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
AUTH: dict[str, Any] = {"subject": "ann", "scopes": ["read"], "actors": []}
RUNS = call_digest("relay_a", "whoami", {"hops": []})
SIGNING: dict[str, Any] = {
    "require_signed_identity": True,
    "identity_issuers": {"k1": PUBLIC},
    "identity_key_id": "k1",
    "identity_signing_key": PRIVATE,
}


def _envelope(**claims: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "audience": "relay_a",
        "task": "t/1",
        "ttl": timedelta(minutes=5),
        "runs": RUNS,
    }
    values |= claims
    signer = IdentitySigner("k1", PRIVATE)
    return signer.mint(values.pop("auth", AUTH), now=NOW, **values).model_dump(mode="json")


def _verify(envelope: Any, auth: Any = None, **where: Any) -> dict[str, Any]:
    values = {
        "task_id": "t/1",
        "audience": "relay_a",
        "started_at": NOW + timedelta(seconds=1),
        "auth": auth,
        "call_digest": RUNS,
    } | where
    return IdentityVerifier({"k1": PUBLIC}).verify(envelope, IdentityCheck(**values))


def test_a_signed_identity_verifies_for_its_task_only() -> None:
    envelope = _envelope()
    assert _verify(envelope) == AUTH
    refusals: dict[str, tuple[Any, dict[str, Any]]] = {
        "tampered": (_tamper(envelope), {}),
        "other key": ({**envelope, "key_id": "k2"}, {}),
        "malformed": ({"claims": "x"}, {}),
        "not an object": ("eyJhbGciOiJub25lIn0", {}),
        "other agent": (envelope, {"audience": "relay_b"}),
        "expired": (envelope, {"started_at": NOW + timedelta(minutes=6)}),
        "other task": (envelope, {"task_id": "t/2"}),
        "not a child": (envelope, {"task_id": "t/1/call-0", "parent_id": "elsewhere"}),
        "auth swapped": (envelope, {"auth": {**AUTH, "scopes": ["admin"]}}),
        "other skill": (envelope, {"call_digest": call_digest("relay_a", "leak", {"hops": []})}),
        "other args": (envelope, {"call_digest": call_digest("relay_a", "whoami", {"hops": [1]})}),
        "unbound": (_envelope(runs=None), {}),
        "cron": (envelope, {"cron": True, "continued": False}),
        "retried": (envelope, {"retried": True}),
    }
    messages = {}
    for case, (bad, where) in refusals.items():
        with pytest.raises(IdentityRefused) as caught:
            _verify(bad, **where)
        messages[case] = str(caught.value)
    assert "does not verify" in messages["tampered"]
    assert "unknown key id 'k2'" in messages["other key"]
    assert messages["malformed"].startswith("malformed identity envelope")
    assert "minted for 'relay_a', not 'relay_b'" in messages["other agent"]
    assert "expired" in messages["expired"]
    assert "bound to task 't/1'" in messages["other task"]
    assert "differs from its signed identity" in messages["auth swapped"]
    for case in ("other skill", "other args", "unbound"):
        assert "minted for another run of 't/1'" in messages[case]
    assert "on a cron schedule" in messages["cron"]
    assert "workflow retry policy" in messages["retried"]


def test_calls_and_pipeline_steps_need_an_envelope_for_exactly_them() -> None:
    args: dict[str, Any] = {"hops": []}
    narrowed: dict[str, Any] = {"subject": "ann", "scopes": [], "actors": ["relay_a"]}
    call = _envelope(auth=narrowed, audience="relay_b", call=call_digest("relay_b", "whoami", args))
    child = {
        "task_id": "t/1/call-0",
        "parent_id": "t/1",
        "audience": "relay_b",
        "call_digest": call_digest("relay_b", "whoami", args),
    }
    assert _verify(call, narrowed, **child) == narrowed
    step: dict[str, Any] = {
        "task_id": "p/1/a",
        "parent_id": "p/1",
        "started_at": NOW + timedelta(days=1),
    }
    pipeline = _envelope(audience="pipeline", task="p/1")
    assert _verify(pipeline, AUTH, **step) == AUTH, "steps are bound by the recorded parent"
    expired = {"started_at": NOW + timedelta(days=1)}
    assert _verify(_envelope(), AUTH, continued=True, **expired) == AUTH, "checked at its start"
    wheres: list[tuple[dict[str, Any], str]] = [
        ({"call_digest": call_digest("relay_b", "whoami", {"hops": [1]})}, "another call"),
        ({"parent_id": "t/1/evil"}, "neither that task nor started by it"),
        ({"audience": "relay_c"}, "minted for 'relay_b', not 'relay_c'"),
        ({"started_at": NOW + timedelta(minutes=6)}, "expired"),
        ({"auth": {**narrowed, "scopes": ["admin"]}}, "differs from its signed identity"),
    ]
    for where, reason in wheres:
        with pytest.raises(IdentityRefused, match=reason):
            _verify(call, **({"auth": narrowed} | child | where))
    with pytest.raises(IdentityRefused, match="not one of its steps"):
        _verify(pipeline, AUTH, **(step | {"parent_id": "p/2"}))
    with pytest.raises(IdentityRefused, match="neither that task nor started by it"):
        _verify(_envelope(), AUTH, task_id="t/1/call-0", parent_id="t/1")


def test_the_policy_lets_anonymous_runs_through_and_refuses_unsigned_claims() -> None:
    policy = IdentityPolicy({"k1": PUBLIC}, require_signed=True)
    check = IdentityCheck(task_id="t/1", audience="relay_a", started_at=NOW)
    assert policy.trusted_auth(check) is None, "no identity claimed: nothing to verify"
    with pytest.raises(IdentityRefused, match="unsigned identity"):
        policy.trusted_auth(check.model_copy(update={"auth": AUTH}))
    relaxed = IdentityPolicy({}, require_signed=False)
    assert relaxed.trusted_auth(check.model_copy(update={"auth": AUTH})) == AUTH


def _tamper(envelope: dict[str, Any]) -> dict[str, Any]:
    claims = {**envelope["claims"], "auth": {**AUTH, "scopes": ["read", "admin"]}}
    return {**envelope, "claims": claims}


async def test_signed_calls_run_and_unsigned_or_copied_identities_are_rejected(
    stack: DevStack,
) -> None:
    async with running(stack, DELEGATION_AGENTS, **SIGNING) as client:
        signed = await client.call("relay_a", "whoami", args=CHAIN, auth=ANN)
        first = (await history(client, signed.task_id)).events[0]
        started = first.workflow_execution_started_event_attributes
        sent = json.loads(started.input.payloads[0].data)
        copied_id = f"relay_a.whoami/{uuid.uuid4()}"
        await client.temporal.start_workflow(
            "a2a.SkillRun", sent, id=copied_id, task_queue=client.settings.task_queue
        )
        copied = await client.get_task(copied_id).result()
        forged_call = await _child_of_a_forged_parent(client, signed.task_id, sent)
        env = {**os.environ, "TEMPORAL_ADDRESS": stack.temporal_address}
        root = {"subject": "root", "scopes": ["admin"]}
        forged = json.dumps({"agent": "relay_a", "skill": "admin_only", "auth": root})
        code, out = await temporal(
            env,
            [
                find_temporal_cli(),
                "workflow",
                "execute",
                "--type",
                "a2a.SkillRun",
                "--task-queue",
                client.settings.task_queue,
                "--workflow-id",
                f"forged-{uuid.uuid4()}",
                "--input",
                forged,
                "-o",
                "json",
            ],
        )
        pipeline = Pipeline.parse(
            {"name": "p", "steps": [{"id": "a", "agent": "relay_a", "skill": "whoami"}]}
        )
        signed_pipeline = await (await client.start_pipeline(pipeline, auth=ANN)).result()
        unsigned = client.settings.model_copy(update={"identity_signing_key": None})
        unsigned_client = type(client)(client.temporal, unsigned)
        unsigned_handle = await unsigned_client.start_pipeline(pipeline, auth=ANN)
        unsigned_pipeline = await unsigned_handle.result()
    assert sent["identity"]["claims"]["auth"]["subject"] == "ann"
    assert signed.status == "completed"
    assert [hop.get("scopes") for hop in signed.output[:4]] == [
        ["deploy", "read", "write"],
        ["read", "write"],
        ["read", "write"],
        ["read"],
    ], "signed calls attenuate exactly as unsigned ones do"
    assert copied.status == "rejected"
    assert "bound to task" in (copied.error or "")
    assert (forged_call.status, forged_call.error) == (
        "rejected",
        f"identity bound to task {signed.task_id!r}: run {forged_call.task_id!r} is neither "
        "that task nor started by it",
    ), "a workflow started under the task's id, sent a calls update, gets nothing"
    assert code == 1, out  # the rejected run is Failed
    outcome = executed_outcome(out)
    assert outcome["status"] == "rejected" and "unsigned identity" in outcome["error"], out
    assert signed_pipeline.status == "completed"
    assert signed_pipeline.steps["a"].output[0]["subject"] == "ann"
    assert (unsigned_pipeline.status, unsigned_pipeline.error) == (
        "rejected",
        "unsigned identity: this worker only accepts identities signed by a trusted issuer "
        "(require_signed_identity)",
    )


async def _child_of_a_forged_parent(
    client: TemporalA2AClient, task_id: str, sent: dict[str, Any]
) -> CallResult:
    """What a namespace client without keys gets from a lifted envelope and a calls update.

    It starts a run named under the task with the task's input (parked on a
    queue nobody polls, so it stays open), then asks it to call a skill as the
    task's caller: with a guessed attempt token (refused), then with the
    attempt's nonce read from the run's history.
    """
    parked = {**sent["options"], "task_queue": "nobody-polls"}
    parent = await client.temporal.start_workflow(
        "a2a.SkillRun",
        {**sent, "options": parked},
        id=f"{task_id}/evil",
        task_queue=client.settings.task_queue,
    )
    request = CallRequest(
        seq=0,
        target="relay_a",
        skill="whoami",
        identity=sent["identity"],
        digest="forged",
        resolution=Resolution(options=SkillOptions.model_validate(sent["options"])),
    )
    async with asyncio.timeout(30):  # until its first attempt is scheduled (on no worker)
        while skill_attempts(await parent.fetch_history()) == 0:
            await asyncio.sleep(0.05)
    guessed = CallBatch(token=AttemptToken(run=1, attempt=1), requests=[request])
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await parent.execute_update(CALLS_UPDATE, guessed, result_type=list[CallStarted])
    assert isinstance(refused.value.cause, ApplicationError)
    assert refused.value.cause.type == "ForgedAttempt"
    [scheduled] = attempt_inputs(await parent.fetch_history())
    lifted = AttemptToken(run=1, attempt=1, nonce=scheduled["nonce"])
    batch = CallBatch(token=lifted, requests=[request])
    await parent.execute_update(CALLS_UPDATE, batch, result_type=list[CallStarted])
    result = await client.get_task(f"{task_id}/evil/call-0").result()
    await parent.terminate("test over")
    return result


def test_identity_key_prints_a_pair_that_signs_and_verifies(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["identity-key", "--key-id", "k9"]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("export ")]
    env = dict(shlex.split(line.removeprefix("export "))[0].split("=", 1) for line in lines)
    settings = AgentSettings.from_env(env)
    signer = identity_signer(settings)
    assert signer is not None
    envelope = signer.mint(AUTH, audience="relay_a", task="t/1", now=NOW, ttl=timedelta(minutes=1))
    verifier = IdentityVerifier(settings.identity_issuers)
    assert verifier.claims(envelope.model_dump(mode="json")).auth == AUTH
    assert main(["identity-key", "--key-id", "two words"]) == 2
