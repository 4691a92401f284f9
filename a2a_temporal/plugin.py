"""`AgentPlugin`: everything a Temporal client and worker need to host agents."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from datetime import timedelta

import pydantic_core
from temporalio.contrib.aws.s3driver import S3StorageDriver
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter, ExternalStorage
from temporalio.plugin import SimplePlugin
from temporalio.worker import WorkerConfig, WorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from a2a_temporal import registry
from a2a_temporal._s3 import MinioStorageDriverClient, ObjectStore, minio_client
from a2a_temporal.agent import A2AAgent
from a2a_temporal.secrets import SecretResolver
from a2a_temporal.settings import AgentSettings
from activities.run_skill import SkillActivities
from workflows.pipeline import PipelineWorkflow
from workflows.skill_run import SkillRunWorkflow

__all__ = ["AgentPlugin"]

_PASSTHROUGH = (
    "a2a_temporal",
    "annotated_types",
    "attr",
    "attrs",
    "jsonschema",
    "jsonschema_specifications",
    "pydantic",
    "pydantic_core",
    "referencing",
    "rpds",
    "yaml",
)
_MAX_HEARTBEAT_THROTTLE = timedelta(milliseconds=500)


class AgentPlugin(SimplePlugin):
    """Hosts agents on Temporal: pass it to `Client.connect(..., plugins=[...])`.

    It installs the pydantic data converter with payloads over 256 KiB kept in
    S3, registers `SkillRunWorkflow` and the skill activities on every worker
    built from that client, and lets workflow code see this package through the
    sandbox.

    Args:
        agents: Agent instances the workers host.
        settings: Addresses and timeouts; `AgentSettings.from_env()` when None.
        secrets: Secrets `ctx.secret` returns first (before env vars and the secrets dir).
    """

    def __init__(
        self,
        agents: Iterable[A2AAgent] = (),
        settings: AgentSettings | None = None,
        *,
        secrets: Mapping[str, str] | None = None,
    ) -> None:
        self.settings = settings or AgentSettings.from_env()
        self.agents = list(agents)
        names = [agent.name for agent in self.agents]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"agents registered twice: {', '.join(duplicates)}")
        self.store = ObjectStore(minio_client(self.settings), self.settings.s3_bucket)
        self.skill_activities = SkillActivities(
            self.agents,
            self.store,
            SecretResolver(secrets, self.settings.secrets_dir),
            heartbeat_interval=self.settings.heartbeat_interval,
            event_batch_interval=self.settings.event_batch_interval,
        )
        self._register(self.settings.task_queue)
        super().__init__(
            "a2a_temporal.AgentPlugin",
            data_converter=self._data_converter,
            activities=self.skill_activities.definitions(),
            workflows=[SkillRunWorkflow, PipelineWorkflow],
            workflow_runner=_with_passthrough,
            workflow_failure_exception_types=[pydantic_core.ValidationError],
        )

    def configure_worker(self, config: WorkerConfig) -> WorkerConfig:
        """Register the agents on the worker's task queue and heartbeat often enough."""
        config = super().configure_worker(config)
        self._register(config["task_queue"])
        current = config.get("max_heartbeat_throttle_interval") or _MAX_HEARTBEAT_THROTTLE
        config["max_heartbeat_throttle_interval"] = min(current, _MAX_HEARTBEAT_THROTTLE)
        return config

    def _register(self, task_queue: str) -> None:
        registry.register(
            task_queue,
            self.agents,
            default_timeout=self.settings.skill_timeout,
            heartbeat_timeout=self.settings.heartbeat_timeout,
            search_attributes=self.settings.search_attributes,
            park_after=self.settings.input_park_after,
        )

    def _data_converter(self, _existing: DataConverter | None) -> DataConverter:
        driver = S3StorageDriver(
            client=MinioStorageDriverClient(self.store), bucket=self.settings.s3_bucket
        )
        return dataclasses.replace(
            pydantic_data_converter, external_storage=ExternalStorage(drivers=[driver])
        )


def _with_passthrough(runner: WorkflowRunner | None) -> WorkflowRunner:
    if runner is None:
        runner = SandboxedWorkflowRunner()
    if isinstance(runner, SandboxedWorkflowRunner):
        return dataclasses.replace(
            runner, restrictions=runner.restrictions.with_passthrough_modules(*_PASSTHROUGH)
        )
    return runner
