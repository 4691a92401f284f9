"""OpenTelemetry: a gateway-started task that calls another agent is one trace, parented right."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from temporalio.contrib.opentelemetry import create_tracer_provider

from a2a_temporal.settings import GatewayIdentity
from a2a_temporal.temporal.client import TemporalA2AClient
from a2a_temporal.testing import DevStack
from a2a_temporal.worker.plugin import AgentPlugin
from a2a_temporal.worker.run import connect
from tests.agents import Analyst, Splitter
from tests.gateway_helpers import send_message_body
from tests.temporal_helpers import running

pytest.importorskip("a2a")

TRACE_ID = uuid.uuid4().hex
CALLER_SPAN = uuid.uuid4().hex[:16]


@pytest.fixture(scope="module")
def exporter() -> Iterator[InMemorySpanExporter]:
    """Spans of this process, kept in memory (the global provider can be set only once)."""
    provider = trace.get_tracer_provider()
    if isinstance(provider, trace.ProxyTracerProvider):
        provider = create_tracer_provider()
        trace.set_tracer_provider(provider)
    exporter = InMemorySpanExporter()
    processor = SimpleSpanProcessor(exporter)
    provider.add_span_processor(processor)  # type: ignore[attr-defined]
    yield exporter
    processor.shutdown()  # later tests' spans are no longer kept


def ancestors(span: ReadableSpan, by_id: dict[int, ReadableSpan]) -> list[str]:
    """Names of the span's parents, nearest first, up to the first one not recorded here."""
    names = []
    parent = span.parent
    while parent is not None and parent.span_id in by_id:
        found = by_id[parent.span_id]
        names.append(found.name)
        parent = found.parent
    return names


async def test_a_gateway_task_and_its_calls_are_one_trace(
    stack: DevStack, exporter: InMemorySpanExporter
) -> None:
    async with running(stack, [Analyst(), Splitter()], tracing=True) as worker_client:
        settings = worker_client.settings.model_copy(
            update={"gateway_tokens": {"t0ken": GatewayIdentity(subject="al")}}
        )
        # an in-process worker registers its agents as it starts: wait for it
        await stack.wait_for_agents(["analyst", "splitter"], settings.task_queue)
        temporal = await connect(settings, AgentPlugin([], settings))
        from a2a_temporal.protocol.gateway import Gateway

        gateway = Gateway(TemporalA2AClient(temporal), settings)
        headers = {
            "Authorization": "Bearer t0ken",
            "A2A-Version": "1.0",
            "traceparent": f"00-{TRACE_ID}-{CALLER_SPAN}-01",
            "baggage": "secret=from-the-caller",
        }
        body = send_message_body("one two three", "report")
        transport = httpx.ASGITransport(app=gateway.app())
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as http:
            reply = await http.post("/agents/analyst", json=body, headers=headers, timeout=60)
    assert reply.status_code == 200 and "result" in reply.json(), reply.text
    spans = [s for s in exporter.get_finished_spans() if s.context.trace_id == int(TRACE_ID, 16)]
    by_id = {s.context.span_id: s for s in spans}
    names = sorted({s.name for s in spans})

    [request] = [s for s in spans if s.name == "A2A SendMessage"]
    assert request.kind == trace.SpanKind.SERVER
    assert request.parent is not None and request.parent.span_id == int(CALLER_SPAN, 16)
    assert request.attributes is not None
    assert request.attributes["http.response.status_code"] == 200

    calls = [s for s in spans if s.name == "a2a.call"]
    assert sorted(str((s.attributes or {})["skill"]) for s in calls) == ["split", "upper"], names
    for call in calls:
        assert "RunActivity:a2a.run_skill" in ancestors(call, by_id)
        assert ancestors(call, by_id)[-1] == "A2A SendMessage"
    # the callees' skill runs are in the same trace, below the caller's request
    runs = [s for s in spans if s.name == "RunActivity:a2a.run_skill"]
    assert len(runs) == 3, names
    assert all(ancestors(run, by_id)[-1] == "A2A SendMessage" for run in runs)
    children = [s for s in spans if s.name.startswith("StartChildWorkflow:")]
    assert len(children) == 2, names
    [artifact] = [s for s in spans if s.name == "a2a.artifact"]
    assert (artifact.attributes or {})["artifact"] == "report.txt"
    assert any(s.name == "a2a.events" for s in spans), names
    assert all("baggage" not in str(s.attributes) for s in spans)
