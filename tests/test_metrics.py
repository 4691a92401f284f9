"""Prometheus metrics: a worker's and a gateway's `/metrics` move by what their tasks did."""

from __future__ import annotations

import re
import socket
import urllib.request
import uuid

import httpx
import pytest
from pydantic import BaseModel

from a2a_temporal import A2AAgent, NoAuth, RunContext, skill
from a2a_temporal._process import free_port
from a2a_temporal.settings import AgentSettings, GatewayIdentity
from a2a_temporal.temporal.telemetry import metrics_runtime
from a2a_temporal.testing import DevStack
from tests.agents import Splitter
from tests.sandbox_helpers import sandbox_root
from tests.temporal_helpers import running

_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


class Size(BaseModel):
    size: int


class Metered(A2AAgent):
    """Does one of each thing the metrics count."""

    name = "metered"

    def __init__(self) -> None:
        self.flaky_runs = 0

    @skill(retries=0)
    async def report(self, ctx: RunContext[NoAuth], args: Size) -> int:
        """Store an artifact of `size` bytes and call the splitter."""
        await ctx.emit_progress("writing")
        await ctx.write_artifact("blob.bin", b"x" * args.size)
        ctx.usage.record(input_tokens=7, output_tokens=3, cost_usd=0.25, model="m1")
        split = await ctx.call("splitter", "split", args={"text": "a b"})
        return int(split.output["count"])

    @skill(retries=1)
    async def flaky(self, ctx: RunContext[NoAuth]) -> int:
        """Fail the first run."""
        self.flaky_runs += 1
        if self.flaky_runs == 1:
            raise ValueError("first run fails")
        return self.flaky_runs

    @skill(retries=0)
    async def broken(self, ctx: RunContext[NoAuth]) -> None:
        """Always fail."""
        raise ValueError("broken")

    @skill(retries=0)
    async def confirm(self, ctx: RunContext[NoAuth]) -> str:
        """Ask a question."""
        return await ctx.ask("go on?")

    @skill(retries=0)
    async def boxed(self, ctx: RunContext[NoAuth]) -> int:
        """Run a command in a sandbox session."""
        async with ctx.sandbox.session() as box:
            result = await box.run(["/bin/true"])
        return result.exit_code


def scrape(port: int) -> list[tuple[str, dict[str, str], float]]:
    """Every sample `/metrics` on `port` shows: (name, labels, value)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    samples = []
    for line in text.splitlines():
        match = _SAMPLE.match(line)
        if match and not line.startswith("#"):
            labels = dict(_LABEL.findall(match.group(2) or ""))
            samples.append((match.group(1), labels, float(match.group(3))))
    return samples


def total(samples: list[tuple[str, dict[str, str], float]], name: str, **labels: str) -> float:
    """The sum of `name`'s samples whose labels include `labels`."""
    return sum(
        value
        for sample, found, value in samples
        if sample == name and labels.items() <= found.items()
    )


async def test_a_workers_metrics_count_what_its_tasks_did(stack: DevStack) -> None:
    port = free_port()
    with sandbox_root() as root:
        agents = [Metered(), Splitter()]
        async with running(
            stack, agents, metrics_port=port, sandbox="process", sandbox_dir=str(root)
        ) as client:
            results = [
                await client.call("metered", "report", args={"size": 1234}),
                await client.call("metered", "flaky"),
                await client.call("metered", "broken"),
                await client.call("metered", "boxed"),
            ]
            asking = await client.start("metered", "confirm")
            async for event in asking.events():
                if event.kind == "question":
                    await asking.answer(event.payload["id"], "yes")
            results.append(await asking.result())
            samples = scrape(port)
    assert [r.status for r in results] == [
        "completed",
        "completed",
        "failed",
        "completed",
        "completed",
    ]

    def of(name: str, skill: str, agent: str = "metered", **labels: str) -> float:
        return total(samples, name, agent=agent, skill=skill, **labels)

    for skill_name in ("report", "flaky", "broken", "boxed", "confirm"):
        assert of("a2a_tasks_started_total", skill_name) == 1, skill_name
    assert of("a2a_tasks_started_total", "split", agent="splitter") == 1
    assert of("a2a_tasks_ended_total", "report", status="completed") == 1
    assert of("a2a_tasks_ended_total", "broken", status="failed") == 1
    assert of("a2a_tasks_ended_total", "split", agent="splitter", status="completed") == 1
    assert of("a2a_retries_total", "flaky", kind="skill") == 1
    assert of("a2a_skill_duration_seconds_count", "flaky", outcome="failed") == 1
    assert of("a2a_skill_duration_seconds_count", "flaky", outcome="completed") == 1
    assert of("a2a_calls_total", "report") == 1
    assert of("a2a_artifact_bytes_total", "report") == 1234
    assert of("a2a_event_batches_total", "report") >= 1
    assert of("a2a_events_total", "report", kind="progress") == 1
    assert of("a2a_event_bytes_total", "report") > 0
    assert of("a2a_questions_asked_total", "confirm") == 1
    assert of("a2a_questions_closed_total", "confirm", how="answered") == 1
    assert of("a2a_sandbox_sessions_total", "boxed") == 1
    assert of("a2a_sandbox_session_duration_seconds_count", "boxed") == 1
    assert of("a2a_model_calls_total", "report", model="m1") == 1
    assert of("a2a_usage_tokens_total", "report", model="m1", direction="input") == 7
    assert of("a2a_usage_tokens_total", "report", model="m1", direction="output") == 3
    assert of("a2a_usage_microdollars_total", "report", model="m1") == 250_000
    # Temporal's own metrics are on the same endpoint
    assert total(samples, "temporal_workflow_completed_total") >= 1
    assert total(samples, "temporal_activity_execution_latency_count") >= 1


async def test_gateway_requests_are_counted_by_a_closed_set_of_methods(stack: DevStack) -> None:
    pytest.importorskip("a2a")
    from a2a_temporal.protocol.gateway import Gateway
    from a2a_temporal.temporal.client import TemporalA2AClient
    from a2a_temporal.worker.plugin import AgentPlugin
    from a2a_temporal.worker.run import connect
    from tests.gateway_helpers import send_message_body

    port = free_port()
    async with running(stack, [Splitter()]) as worker_client:
        settings = worker_client.settings.model_copy(
            update={
                "metrics_port": port,
                "gateway_tokens": {"t0ken": GatewayIdentity(subject="al")},
            }
        )
        # an in-process worker registers its agents as it starts: wait for it
        await stack.wait_for_agents(["splitter"], settings.task_queue)
        temporal = await connect(settings, AgentPlugin([], settings))
        gateway = Gateway(TemporalA2AClient(temporal), settings)
        transport = httpx.ASGITransport(app=gateway.app())
        headers = {"Authorization": "Bearer t0ken", "A2A-Version": "1.0"}
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as http:
            sent = await http.post(
                "/agents/splitter",
                json=send_message_body("a b c", "split"),
                headers=headers,
                timeout=30,
            )
            odd = f"Evil{uuid.uuid4().hex}"
            unknown = await http.post(
                "/agents/splitter",
                json={"jsonrpc": "2.0", "id": 2, "method": odd, "params": {}},
                headers=headers,
            )
            refused = await http.get("/agents/splitter/tasks")
            listed = await http.get("/agents/splitter/tasks", headers=headers)
        samples = scrape(port)
    assert sent.status_code == 200 and "result" in sent.json(), sent.text
    assert (unknown.status_code, refused.status_code, listed.status_code) == (200, 401, 200)
    requests = "a2a_gateway_requests_total"
    assert total(samples, requests, method="SendMessage", status="200") == 1
    assert total(samples, requests, method="other", status="200") == 1
    assert total(samples, requests, method="ListTasks", status="401") == 1
    assert total(samples, requests, method="ListTasks", status="200") == 1
    assert not any(odd in str(labels) for _, labels, _ in samples), "a caller grew the series"


def test_a_busy_metrics_port_is_refused_naming_the_setting() -> None:
    port = free_port()
    first = AgentSettings(metrics_port=port)
    assert metrics_runtime(first) is metrics_runtime(first)  # one runtime per port and process
    taken = free_port()
    holder = socket.socket()
    holder.bind(("0.0.0.0", taken))
    holder.listen()
    try:
        with pytest.raises(ValueError, match=f"port {taken} .*A2A_TEMPORAL_METRICS_PORT"):
            metrics_runtime(AgentSettings(metrics_port=taken))
    finally:
        holder.close()
