"""`AgentPlugin`: everything a Temporal client and worker need to host agents."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Iterable, Mapping

import structlog
from temporalio.contrib.aws.s3driver import S3StorageDriver
from temporalio.contrib.pydantic import PydanticPayloadConverter
from temporalio.converter import (
    DataConverter,
    DefaultFailureConverter,
    DefaultFailureConverterWithEncodedAttributes,
    DefaultPayloadConverter,
    ExternalStorage,
    PayloadCodec,
)
from temporalio.plugin import SimplePlugin
from temporalio.worker import Worker, WorkerConfig, WorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from a2a_temporal._remote_agent import REMOTE_AGENT, RemoteAgent
from a2a_temporal._routing import SkillRouter
from a2a_temporal._s3 import MinioStorageDriverClient, ObjectStore, minio_client
from a2a_temporal.activities.push import PushActivities
from a2a_temporal.activities.run_skill import SkillActivities
from a2a_temporal.agent import A2AAgent
from a2a_temporal.encryption import PAYLOAD_KEY_SECRET, AesGcmCodec, ChainedCodec
from a2a_temporal.errors import SandboxUnavailable
from a2a_temporal.registry import AgentRegistry, new_worker_id, registrations_for
from a2a_temporal.sandbox import SandboxBackend
from a2a_temporal.sandbox_backends import sandbox_from_settings
from a2a_temporal.secrets import SecretResolver, require_secrets
from a2a_temporal.settings import AgentSettings
from a2a_temporal.workflows.pipeline import PipelineWorkflow
from a2a_temporal.workflows.push_delivery import PushDeliveryWorkflow
from a2a_temporal.workflows.skill_run import SkillRunWorkflow

__all__ = ["AgentPlugin", "compose_data_converter"]

_log = structlog.get_logger("a2a_temporal.sandbox")

# Pure modules workflow code imports; passed through the sandbox (not re-imported per run).
_PASSTHROUGH = (
    "a2a_temporal.agent",
    "a2a_temporal.answers",
    "a2a_temporal.auth",
    "a2a_temporal.errors",
    "a2a_temporal.models",
    "a2a_temporal.names",
    "a2a_temporal.pipeline",
    "a2a_temporal.search_attributes",
    "a2a_temporal.types",
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


class AgentPlugin(SimplePlugin):
    """Hosts agents on Temporal: pass it to `Client.connect(..., plugins=[...])`.

    It adds pydantic payload conversion with payloads over 256 KiB kept in S3
    to the client's data converter (keeping a payload codec or external
    storage already configured), registers `SkillRunWorkflow`,
    `PipelineWorkflow` and the skill activities on every worker built from
    that client, lets workflow code see this package's pure modules through
    the sandbox, and publishes the agents in the registry while a worker runs.

    Args:
        agents: Agent instances the workers host.
        settings: Addresses and timeouts; `AgentSettings.from_env()` when None.
        secrets: Secrets `ctx.secret` returns first (before env vars and the secrets dir).
        sandbox: What `ctx.sandbox` runs code in; the backend `settings.sandbox` names
            when None.
    """

    def __init__(
        self,
        agents: Iterable[A2AAgent] = (),
        settings: AgentSettings | None = None,
        *,
        secrets: Mapping[str, str] | None = None,
        sandbox: SandboxBackend | None = None,
    ) -> None:
        self.settings = settings or AgentSettings.from_env()
        self.sandbox = sandbox if sandbox is not None else sandbox_from_settings(self.settings)
        self.agents = list(agents)
        if any(agent.name == REMOTE_AGENT for agent in self.agents):
            raise ValueError(f"the agent name {REMOTE_AGENT!r} is reserved for remote A2A calls")
        self.agents.append(RemoteAgent())
        names = [agent.name for agent in self.agents]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"agents registered twice: {', '.join(duplicates)}")
        self.store = ObjectStore(minio_client(self.settings), self.settings.s3_bucket)
        self.registry = AgentRegistry(self.store, self.settings.registry_ttl)
        self.router = SkillRouter(self.agents, self.settings, self.registry)
        resolver = SecretResolver(secrets, self.settings.secrets_dir)
        self.encryption = payload_encryption(self.settings, resolver)
        self.skill_activities = SkillActivities(
            self.agents, self.store, resolver, self.settings, self.router, self.sandbox
        )
        super().__init__(
            "a2a_temporal.AgentPlugin",
            data_converter=self._data_converter,
            activities=[
                *self.skill_activities.definitions(),
                *PushActivities(self.store, self.settings).definitions(),
            ],
            workflows=[SkillRunWorkflow, PipelineWorkflow, PushDeliveryWorkflow],
            workflow_runner=_with_passthrough,
        )

    def configure_worker(self, config: WorkerConfig) -> WorkerConfig:
        """Register the workflows and activities; remember the queue for routing calls."""
        require_secrets(self.skill_activities.missing_secrets())
        config = super().configure_worker(config)
        self.router.add_worker_queue(config["task_queue"])
        return config

    async def run_worker(self, worker: Worker, next: Callable[[Worker], Awaitable[None]]) -> None:
        """Sweep sandboxes dead workers left; publish this worker's agents while it runs."""
        if self.sandbox is not None:
            try:
                swept = await self.sandbox.sweep()
            except SandboxUnavailable as exc:
                _log.warning("sandbox_not_swept", reason=str(exc))
            else:
                if swept:
                    _log.info("sandbox_leftovers_removed", boxes=swept)
        if not self.agents:
            await next(worker)
            return
        entries = registrations_for(
            self.agents, worker.task_queue, self.settings, new_worker_id(worker.task_queue)
        )
        async with self.registry.kept_fresh(entries):
            await next(worker)

    def _data_converter(self, existing: DataConverter | None) -> DataConverter:
        return compose_data_converter(
            existing, self.store, self.settings.s3_bucket, encryption=self.encryption
        )


def payload_encryption(settings: AgentSettings, secrets: SecretResolver) -> AesGcmCodec | None:
    """The payload encryption codec `settings` ask for (keys from `secrets`), or None.

    Raises:
        ValueError: A key is not in the secret store, or is not a 32-byte key.
    """
    active = settings.payload_encryption_key_id
    if active is None:
        return None
    keys = {}
    for key_id in dict.fromkeys([active, *settings.payload_decryption_key_ids]):
        try:
            keys[key_id] = secrets.resolve(f"{PAYLOAD_KEY_SECRET}{key_id}")
        except KeyError as exc:
            raise ValueError(f"payload encryption key {key_id!r}: {exc.args[0]}") from None
    return AesGcmCodec(keys, active)


def compose_data_converter(
    existing: DataConverter | None,
    store: ObjectStore,
    bucket: str,
    *,
    encryption: PayloadCodec | None = None,
) -> DataConverter:
    """Add what agents need to the client's data converter, keeping the rest.

    Payloads are converted by pydantic (our workflows exchange pydantic
    models; a payload converter already pydantic-based is kept), then encoded
    by the client's payload codec if it has one, then by `encryption`, then
    stored in S3 when over 256 KiB unless external storage is already
    configured. Its failure converter is kept too; with `encryption`, a default
    one encodes failure messages and stack traces as well.

    Raises:
        ValueError: The client uses another custom payload converter.
    """
    base = existing or DataConverter.default
    converter_class = base.payload_converter_class
    if converter_class is DefaultPayloadConverter:
        converter_class = PydanticPayloadConverter
    elif not issubclass(converter_class, PydanticPayloadConverter):
        raise ValueError(
            f"AgentPlugin needs a pydantic-aware payload converter, but the client uses "
            f"{converter_class.__qualname__}; base it on "
            "temporalio.contrib.pydantic.PydanticPayloadConverter"
        )
    storage = base.external_storage or ExternalStorage(
        drivers=[S3StorageDriver(client=MinioStorageDriverClient(store), bucket=bucket)]
    )
    codec = base.payload_codec
    failures = base.failure_converter_class
    if encryption is not None:
        codec = ChainedCodec([codec, encryption]) if codec else encryption
        if failures is DefaultFailureConverter:
            failures = DefaultFailureConverterWithEncodedAttributes
    return dataclasses.replace(
        base,
        payload_converter_class=converter_class,
        external_storage=storage,
        payload_codec=codec,
        failure_converter_class=failures,
    )


def _with_passthrough(runner: WorkflowRunner | None) -> WorkflowRunner:
    if runner is None:
        runner = SandboxedWorkflowRunner()
    if isinstance(runner, SandboxedWorkflowRunner):
        return dataclasses.replace(
            runner, restrictions=runner.restrictions.with_passthrough_modules(*_PASSTHROUGH)
        )
    return runner
