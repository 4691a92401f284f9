"""OpenTelemetry traces (`tracing`): one trace per task tree, across every process.

With `tracing` on, `AgentPlugin` adds Temporal's OpenTelemetry interceptor
(`temporalio.contrib.opentelemetry`): starting a task, its workflow, its
activities, the updates a skill sends and the child tasks of `ctx.call` are
spans of the caller's trace. The gateway continues a caller's W3C
`traceparent`, remote A2A calls send it on, and the runtime adds spans of
its own (`span`): calls, artifact writes, event batches, questions and
sandbox commands. Spans go to the process's tracer provider: the CLI's
processes set one up (`configure_tracing`), exporting over OTLP/HTTP as the
standard `OTEL_*` variables say; a program of your own sets its own.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

from opentelemetry import trace
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

if TYPE_CHECKING:
    from temporalio.contrib.opentelemetry import OpenTelemetryInterceptor, ReplaySafeTracerProvider

__all__ = [
    "TRACE_CONTEXT",
    "configure_tracing",
    "flush_tracing",
    "server_span",
    "span",
    "tracing_interceptor",
]

TRACE_CONTEXT = TraceContextTextMapPropagator()
"""Reads and writes W3C `traceparent` only: baggage a caller sends goes no further."""

_tracer = trace.get_tracer("a2a_temporal")
_INSTALL = (
    "tracing needs the OpenTelemetry SDK: pip install 'a2a-temporal[otel]' "
    "(or set A2A_TEMPORAL_TRACING=false)"
)
_provider: ReplaySafeTracerProvider | None = None


@contextlib.contextmanager
def span(name: str, **attributes: str | int) -> Iterator[trace.Span]:
    """A span of the current trace (a no-op when no tracer provider is set)."""
    with _tracer.start_as_current_span(name, attributes=attributes) as current:
        yield current


@contextlib.contextmanager
def server_span(name: str, headers: Mapping[str, str]) -> Iterator[trace.Span]:
    """A server span continuing the `traceparent` in `headers` (a new trace without one)."""
    parent = TRACE_CONTEXT.extract(headers)
    with _tracer.start_as_current_span(name, parent, trace.SpanKind.SERVER) as current:
        yield current


def tracing_interceptor() -> OpenTelemetryInterceptor:
    """Temporal's OpenTelemetry interceptor, with spans for starts, runs and handlers.

    Raises:
        ImportError: The `otel` extra is not installed.
    """
    try:
        from temporalio.contrib.opentelemetry import OpenTelemetryInterceptor
    except ImportError:
        raise ImportError(_INSTALL) from None
    return OpenTelemetryInterceptor(add_temporal_spans=True)


def configure_tracing(service: str) -> None:
    """Export this process's spans over OTLP/HTTP as `service`, unless it has a provider.

    The endpoint, headers and protocol come from the standard
    `OTEL_EXPORTER_OTLP_*` variables (default `http://localhost:4318`);
    `OTEL_SERVICE_NAME` overrides `service`. A tracer provider set before
    (by a program embedding the worker) is kept.

    Raises:
        ImportError: The `otel` extra is not installed (the message says how to install it).
    """
    global _provider
    if not isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider):
        return
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
        from temporalio.contrib.opentelemetry import create_tracer_provider
    except ImportError:
        raise ImportError(_INSTALL) from None
    name = os.environ.get("OTEL_SERVICE_NAME") or service
    provider = create_tracer_provider(
        resource=Resource.create({"service.name": name}), shutdown_on_exit=False
    )
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    _provider = provider


def flush_tracing() -> None:
    """Send the spans `configure_tracing`'s exporter still holds (before the process exits)."""
    if _provider is not None:
        _provider.force_flush()
