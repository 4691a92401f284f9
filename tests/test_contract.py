"""The seed contract holds on every runtime: one agent, unchanged, three ways."""

from __future__ import annotations

import uuid
from typing import Any

from a2a_temporal import (
    AgentEvent,
    InMemoryA2AClient,
    InMemoryDiscoveryClient,
    InMemoryWorkspace,
    LocalRunContext,
    ProcessSandbox,
    ScopedAuth,
)
from a2a_temporal.testing import DevStack
from tests.contract_agent import Conformant, Job
from tests.sandbox_helpers import sandbox_root
from tests.temporal_helpers import running

SECRETS = {"TOKEN": "t0k3n-value"}


def _auth() -> ScopedAuth:
    return ScopedAuth(subject=f"ann-{uuid.uuid4().hex[:6]}", scopes=("conf:run",))


def _comparable(output: dict[str, Any], auth: ScopedAuth, events: list[AgentEvent]) -> Any:
    seen = dict(output)
    assert seen.pop("subject") == auth.subject
    assert seen.pop("echo") == ["completed", f"WORD for {auth.subject}"]
    shaped = []
    for event in events:
        payload = dict(event.payload)
        if event.kind == "artifact":
            payload.pop("uri")
        shaped.append((event.kind, payload))
    text = "".join(p["text"] for kind, p in shaped if kind == "text_delta")
    return seen, [s for s in shaped if s[0] != "text_delta"], text


EXPECTED_OUTPUT = {
    "task_id_is_str": True,
    "missing": ["conf:admin"],
    "artifact": ["out.txt", "text/plain", 4],
    "token_length": len("t0k3n-value"),
    "unknown_secret": True,
    "listed": ["word.txt"],
    "sandbox": [0, "word"],
    "found": ["conformant"],
    "has_client": True,
}


async def test_the_contract_agent_runs_unchanged_on_every_runtime(stack: DevStack) -> None:
    with sandbox_root() as root:
        seen = await _three_runtimes(stack, ProcessSandbox(root=root))
    assert seen[0] == seen[1] == seen[2]
    output, events, text = seen[0]
    assert output == EXPECTED_OUTPUT
    assert text == "hello word"
    assert [kind for kind, _ in events] == [
        "custom",
        "progress",
        "artifact",
        "artifact",
        "error",
    ]
    assert events[-1] == ("error", {"message": "a minor problem", "code": "E_MINOR"})


async def _three_runtimes(stack: DevStack, sandbox: ProcessSandbox) -> list[Any]:
    """Run the contract agent in a LocalRunContext, in-process by name, and on Temporal."""
    agent = Conformant()
    seen = []

    auth = _auth()
    client = InMemoryA2AClient([agent], SECRETS, sandbox=sandbox)
    ctx: LocalRunContext[ScopedAuth] = LocalRunContext(
        auth=auth,
        secrets=SECRETS,
        workspace=InMemoryWorkspace(),
        sandbox=sandbox,
        a2a=client,
        discover=InMemoryDiscoveryClient([Conformant.card()]),
    )
    output = await agent.exercise(ctx, Job(word="word"))
    seen.append(_comparable(output, auth, ctx.events))

    auth = _auth()
    result = await client.call("conformant", "exercise", args={"word": "word"}, auth=auth)
    assert result.ok, result.error
    seen.append(_comparable(result.output, auth, client.events(result.task_id)))

    auth = _auth()
    settings = {"sandbox_dir": str(sandbox.root)}
    async with running(stack, [agent], secrets=SECRETS, **settings) as temporal:
        handle = await temporal.start("conformant", "exercise", args={"word": "word"}, auth=auth)
        events = [e async for e in handle.events()]
        result = await handle.result()
    assert result.ok, result.error
    seen.append(_comparable(result.output, auth, events))
    return seen
