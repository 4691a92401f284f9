"""The Temporal runtime a process exports metrics from (`metrics_port`).

One runtime per port and process: Temporal's own metrics (workflow and
activity task latencies, polls, RPCs) and ours (`metrics`) share it, so one
scrape of `/metrics` sees both. Counters end in `_total` and durations are
in seconds, as Prometheus names them.
"""

from __future__ import annotations

from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

from a2a_temporal.settings import ENV_PREFIX, AgentSettings

__all__ = ["metrics_runtime"]

_RUNTIMES: dict[int, Runtime] = {}


def metrics_runtime(settings: AgentSettings) -> Runtime | None:
    """The runtime serving `/metrics` on `settings.metrics_port`; None when it is unset.

    Raises:
        ValueError: The port cannot be bound (the message names the setting).
    """
    port = settings.metrics_port
    if port is None:
        return None
    runtime = _RUNTIMES.get(port)
    if runtime is None:
        prometheus = PrometheusConfig(
            bind_address=f"0.0.0.0:{port}",
            counters_total_suffix=True,
            durations_as_seconds=True,
        )
        try:
            runtime = Runtime(telemetry=TelemetryConfig(metrics=prometheus))
        except ValueError as exc:
            raise ValueError(
                f"cannot serve metrics on port {port} ({exc}): set {ENV_PREFIX}METRICS_PORT "
                "to a free port, or unset it"
            ) from None
        _RUNTIMES[port] = runtime
    return runtime
