"""`AgentPlugin`: everything a Temporal client and worker need to host agents."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import structlog
from temporalio.converter import DataConverter
from temporalio.plugin import SimplePlugin
from temporalio.service import ConnectConfig, ServiceClient
from temporalio.worker import Worker, WorkerConfig, WorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from a2a_temporal.core.agent import A2AAgent
from a2a_temporal.core.secrets import SecretResolver, require_secrets
from a2a_temporal.errors import SandboxUnavailable
from a2a_temporal.settings import AgentSettings
from a2a_temporal.temporal.converter import compose_data_converter, payload_encryption
from a2a_temporal.temporal.registry import new_worker_id, registrations_for
from a2a_temporal.temporal.runtime import AgentRuntime
from a2a_temporal.temporal.telemetry import metrics_runtime
from a2a_temporal.temporal.tracing import tracing_interceptor
from a2a_temporal.temporal.wire import REMOTE_AGENT
from a2a_temporal.worker.versioning import deployment_config

if TYPE_CHECKING:
    from a2a_temporal.sandbox.interface import SandboxBackend

__all__ = ["AgentPlugin"]

_log = structlog.get_logger("a2a_temporal.sandbox")


class AgentPlugin(SimplePlugin):
    """Hosts agents on Temporal: pass it to `Client.connect(..., plugins=[...])`.

    It adds pydantic payload conversion with payloads over 256 KiB kept in S3
    to the client's data converter (keeping a payload codec or external
    storage already configured), registers `SkillRunWorkflow`,
    `PipelineWorkflow` and the skill activities on every worker built from
    that client, lets workflow code see this package's pure modules through
    the sandbox, and publishes the agents in the registry while a worker runs.
    Workflows, activities and the sandbox backend are loaded only when a
    worker (or a replayer) is built: a client that only starts tasks loads
    none of them.

    Args:
        agents: Agent instances the workers host.
        settings: Addresses and timeouts; `AgentSettings.from_env()` when None.
        secrets: Secrets `ctx.secret` returns first (before env vars and the secrets dir).
        sandbox: What `ctx.sandbox` runs code in; the backend `settings.sandbox` names
            when None.
        export_metrics: Serve `/metrics` on `settings.metrics_port` when it is set
            (a one-off client next to a worker says False).
    """

    def __init__(
        self,
        agents: Iterable[A2AAgent] = (),
        settings: AgentSettings | None = None,
        *,
        secrets: Mapping[str, str] | None = None,
        sandbox: SandboxBackend | None = None,
        export_metrics: bool = True,
    ) -> None:
        self.settings = settings or AgentSettings.from_env()
        self._export_metrics = export_metrics
        self.agents = list(agents)
        if any(agent.name == REMOTE_AGENT for agent in self.agents):
            raise ValueError(f"the agent name {REMOTE_AGENT!r} is reserved for remote A2A calls")
        names = [agent.name for agent in self.agents]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"agents registered twice: {', '.join(duplicates)}")
        self.runtime = AgentRuntime(self.settings, self.agents)
        self._secrets = SecretResolver(secrets, self.settings.secrets_dir)
        self._encryption = payload_encryption(self.settings, self._secrets)
        self._sandbox = sandbox
        self._parts: _WorkerParts | None = None
        super().__init__(
            "a2a_temporal.AgentPlugin",
            interceptors=[tracing_interceptor()] if self.settings.tracing else None,
            data_converter=self._data_converter,
            activities=self._activities,
            workflows=self._workflows,
            workflow_runner=_with_passthrough,
        )

    async def connect_service_client(
        self, config: ConnectConfig, next: Callable[[ConnectConfig], Awaitable[ServiceClient]]
    ) -> ServiceClient:
        """Connect on the runtime serving `/metrics` when `metrics_port` is set."""
        runtime = metrics_runtime(self.settings) if self._export_metrics else None
        if runtime is not None and config.runtime is None:
            config = dataclasses.replace(config, runtime=runtime)
        return await next(config)

    def configure_worker(self, config: WorkerConfig) -> WorkerConfig:
        """Register the workflows and activities; remember the queue for routing calls.

        With `deployment_name` set (and no deployment config of the worker's
        own), the worker is version `build_id` of that worker deployment. Its
        slots are `worker_max_concurrent_activities` and
        `worker_max_concurrent_workflow_tasks` unless the worker sets its own
        (or a tuner).
        """
        parts = self._worker_parts()
        require_secrets(parts.skill_activities.missing_secrets())
        config = super().configure_worker(config)
        if config.get("deployment_config") is None:
            config["deployment_config"] = deployment_config(self.settings)
        _limit_slots(config, self.settings)
        self.runtime.router.add_worker_queue(config["task_queue"])
        return config

    async def run_worker(self, worker: Worker, next: Callable[[Worker], Awaitable[None]]) -> None:
        """Sweep sandboxes dead workers left; publish this worker's agents while it runs."""
        parts = self._worker_parts()
        if parts.sandbox is not None:
            try:
                swept = await parts.sandbox.sweep()
            except SandboxUnavailable as exc:
                _log.warning("sandbox_not_swept", reason=str(exc))
            else:
                if swept:
                    _log.info("sandbox_leftovers_removed", boxes=swept)
        entries = registrations_for(
            parts.agents, worker.task_queue, self.settings, new_worker_id(worker.task_queue)
        )
        async with self.runtime.registry.kept_fresh(entries):
            await next(worker)

    def _data_converter(self, existing: DataConverter | None) -> DataConverter:
        return compose_data_converter(
            existing,
            self.runtime.store,
            self.settings.s3_bucket,
            encryption=self._encryption,
        )

    def _activities(self, existing: Sequence[Callable[..., Any]] | None) -> list[Any]:
        return [*(existing or ()), *self._worker_parts().activities]

    def _workflows(self, existing: Sequence[type] | None) -> list[type]:
        from a2a_temporal.workflows.pipeline import PipelineWorkflow
        from a2a_temporal.workflows.push_delivery import PushDeliveryWorkflow
        from a2a_temporal.workflows.skill_run import SkillRunWorkflow

        return [*(existing or ()), SkillRunWorkflow, PipelineWorkflow, PushDeliveryWorkflow]

    def _worker_parts(self) -> _WorkerParts:
        if self._parts is None:
            self._parts = _WorkerParts(self, self._sandbox)
        return self._parts


class _WorkerParts:
    """What only a worker needs: the built-in remote-call agent, the sandbox, the activities."""

    def __init__(self, plugin: AgentPlugin, sandbox: SandboxBackend | None) -> None:
        from a2a_temporal.activities.push import PushActivities
        from a2a_temporal.activities.run_skill import SkillActivities
        from a2a_temporal.protocol.remote_agent import RemoteCallAgent
        from a2a_temporal.sandbox.backends import sandbox_from_settings

        runtime, settings = plugin.runtime, plugin.settings
        remote = RemoteCallAgent(settings.outbound())
        runtime.router.add_agent(remote)
        self.agents = [*plugin.agents, remote]
        self.sandbox = sandbox if sandbox is not None else sandbox_from_settings(settings)
        self.skill_activities = SkillActivities(
            self.agents,
            runtime.store,
            plugin._secrets,
            settings,
            runtime.router,
            self.sandbox,
        )
        self.activities = [
            *self.skill_activities.definitions(),
            *PushActivities(runtime.store, settings).definitions(),
        ]


def _limit_slots(config: WorkerConfig, settings: AgentSettings) -> None:
    """Give the worker the settings' slot limits where it has none of its own."""
    if config.get("tuner") is not None:
        return
    if config.get("max_concurrent_activities") is None:
        config["max_concurrent_activities"] = settings.worker_max_concurrent_activities
    if config.get("max_concurrent_workflow_tasks") is None:
        config["max_concurrent_workflow_tasks"] = settings.worker_max_concurrent_workflow_tasks


def _with_passthrough(runner: WorkflowRunner | None) -> WorkflowRunner:
    """The sandbox, passing through our stateless workflow modules and what they import.

    Without it the sandbox re-executes the workflow modules for every run.
    """
    from a2a_temporal.workflows import PASSTHROUGH_LIBRARIES, PURE_MODULES

    if runner is None:
        runner = SandboxedWorkflowRunner()
    if isinstance(runner, SandboxedWorkflowRunner):
        restrictions = runner.restrictions.with_passthrough_modules(
            *PURE_MODULES, *PASSTHROUGH_LIBRARIES, "opentelemetry", "a2a_temporal.workflows"
        )
        return dataclasses.replace(runner, restrictions=restrictions)
    return runner
