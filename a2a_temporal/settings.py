"""Settings of the Temporal runtime, from keyword arguments or `A2A_TEMPORAL_*` env vars."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from a2a_temporal.core.auth import DEFAULT_MAX_DELEGATION_DEPTH
from a2a_temporal.core.describe import describe_validation_error
from a2a_temporal.trust.outbound import OutboundPolicy

__all__ = [
    "DEBUG_ENV",
    "ENV_PREFIX",
    "SANDBOX_OUTPUT_LIMIT",
    "AgentSettings",
    "GatewayIdentity",
    "debugging",
    "settings_reference",
]

ENV_PREFIX = "A2A_TEMPORAL_"
DEBUG_ENV = "A2A_TEMPORAL_DEBUG"
SANDBOX_OUTPUT_LIMIT = 2**20
_VERSION_PART_LIMIT = 255  # Temporal refuses longer build ids
_JSON_FIELDS = {
    "gateway_tokens",
    "identity_issuers",
    "outbound_allow",
    "payload_decryption_key_ids",
}


def debugging() -> bool:
    """Whether `A2A_TEMPORAL_DEBUG` asks for tracebacks of expected failures too."""
    return os.environ.get(DEBUG_ENV, "") not in ("", "0")


class GatewayIdentity(BaseModel):
    """Who a gateway token stands for."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    subject: str = Field(min_length=1)
    scopes: tuple[str, ...] = ()


class AgentSettings(BaseModel):
    """Where Temporal and S3 are, and how skills are scheduled.

    Every field can be set from the environment as `A2A_TEMPORAL_<FIELD>`
    (upper case), e.g. `A2A_TEMPORAL_TEMPORAL_ADDRESS=localhost:7233`.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    temporal_address: str = Field(
        default="localhost:7233", description="the Temporal frontend, `host:port`"
    )
    namespace: str = Field(default="default", description="the Temporal namespace")
    temporal_tls: bool | None = Field(
        default=None,
        description="reach Temporal over TLS (default: on when a CA, a client certificate or "
        "an API key is set)",
    )
    temporal_tls_ca_path: Path | None = Field(
        default=None,
        description="PEM file of the CA that signed Temporal's certificate (default: the "
        "system's CAs)",
    )
    temporal_tls_cert_path: Path | None = Field(
        default=None, description="PEM file of the client certificate for mTLS"
    )
    temporal_tls_key_path: Path | None = Field(
        default=None, description="PEM file of the client certificate's private key for mTLS"
    )
    temporal_tls_server_name: str | None = Field(
        default=None,
        description="the name Temporal's certificate is checked against, and the TLS SNI "
        "(default: the host of `temporal_address`)",
    )
    temporal_api_key: str | None = Field(
        default=None,
        repr=False,
        description="API key sent as `Authorization: Bearer` on every Temporal call (Temporal "
        "Cloud; use the namespace's regional endpoint as `temporal_address`)",
    )
    task_queue: str = Field(
        default="a2a-agents",
        description="the task queue workers poll and clients start tasks on",
    )
    s3_endpoint: str = Field(
        default="http://localhost:9000", description="the S3 or MinIO endpoint (`https://` for TLS)"
    )
    s3_access_key: str = Field(
        default="minioadmin",
        description="the S3 access key; empty (with `s3_secret_key` empty) takes credentials "
        "from the standard AWS chain: environment, web identity (IRSA), shared files, "
        "instance profile",
    )
    s3_secret_key: str = Field(default="minioadmin", repr=False, description="the S3 secret key")
    s3_ca_path: Path | None = Field(
        default=None,
        description="PEM file of the CA that signed the S3 server's certificate (default: the "
        "system's CAs)",
    )
    s3_addressing: Literal["auto", "path", "virtual"] = Field(
        default="auto",
        description="bucket addressing: `path` (MinIO and most S3-compatible servers), "
        "`virtual` (bucket in the host name), `auto` (virtual for AWS endpoints, else path)",
    )
    s3_bucket: str = Field(
        default="a2a-temporal",
        description="the bucket of artifacts, workspaces, task journals, the registry and "
        "payloads over 256 KiB",
    )
    s3_region: str = Field(default="us-east-1", description="the S3 region")
    s3_public_endpoint: str | None = Field(
        default=None,
        description="URL readers outside reach the S3 server at, for the presigned links of "
        "large artifacts the A2A gateway and push notifications hand out (default: "
        "`s3_endpoint`)",
    )
    secrets_dir: Path | None = Field(
        default=None, description="a directory whose files are secrets (file name = secret name)"
    )
    log_format: Literal["auto", "json", "console"] = Field(
        default="auto",
        description="how processes log: `json` (one object per line), `console` (readable "
        "lines), `auto` (console on a terminal, else JSON)",
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        default="info", description="the lowest level logged"
    )
    health_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="a worker serves `/livez` and `/readyz` over HTTP on this port (off when "
        "unset; the gateway serves them on its own port)",
    )
    tracing: bool = Field(
        default=False,
        description="OpenTelemetry spans for tasks, workflows, activities, calls and the gateway "
        "(needs the `otel` extra; CLI processes export them over OTLP/HTTP as `OTEL_*` says)",
    )
    metrics_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="serve Prometheus metrics (Temporal's and a2a-temporal's) at `/metrics` on "
        "this port, on all interfaces (off when unset); workers and the gateway each need one",
    )
    worker_shutdown_grace: timedelta = Field(
        default=timedelta(seconds=30),
        description="how long a stopping worker (SIGTERM) lets running skills finish before "
        "cancelling them (their tasks go on on another worker); keep Kubernetes' "
        "`terminationGracePeriodSeconds` above it",
    )
    worker_max_concurrent_activities: int = Field(
        default=100,
        ge=1,
        description="skill attempts (and other activities) one worker runs at once; more "
        "wait on the task queue for a free slot or another worker",
    )
    worker_max_concurrent_workflow_tasks: int = Field(
        default=100,
        ge=1,
        description="workflow tasks (task and pipeline steps, event batches, calls) one worker "
        "processes at once",
    )
    deployment_name: str = Field(
        default="",
        description="the Temporal worker deployment workers belong to; set (with `build_id`), "
        "each worker is a version of it and runs only the tasks routed to that version, "
        "see docs/deploy.md (empty: unversioned workers)",
    )
    build_id: str = Field(
        default="",
        validate_default=True,
        description="the worker's version within `deployment_name`, e.g. its image tag; a new "
        "one for every deploy of changed code",
    )
    versioning_behavior: Literal["pinned", "auto-upgrade"] = Field(
        default="pinned",
        description="where a versioned worker's tasks, pipelines and push deliveries go on "
        "after another version becomes current: `pinned` (they finish on the version they "
        "started on) or `auto-upgrade` (they move to the current version)",
    )
    gateway_shutdown_grace: timedelta = Field(
        default=timedelta(seconds=10),
        description="how long a stopping gateway (SIGTERM) lets open streams run before closing "
        "them (clients resubscribe to another gateway and lose nothing)",
    )
    heartbeat_timeout: timedelta = Field(
        default=timedelta(seconds=10),
        description="how long a silent skill may go before its attempt is retried elsewhere",
    )
    heartbeat_interval: timedelta = Field(
        default=timedelta(seconds=0.5), description="how often a running skill heartbeats"
    )
    skill_timeout: timedelta = Field(
        default=timedelta(hours=1),
        description="the bound on one attempt of a skill without `@skill(timeout=...)`",
    )
    event_batch_interval: timedelta = Field(
        default=timedelta(milliseconds=150),
        description="how long a skill's events are gathered before they are sent as one batch",
    )
    input_park_after: timedelta = Field(
        default=timedelta(seconds=30),
        description="how long a skill waits for an answer before its activity ends and the "
        "workflow waits instead (the skill resumes when the answer arrives)",
    )
    infra_retries: int = Field(
        default=10,
        ge=0,
        description="re-runs of a skill whose worker was lost or whose runtime I/O failed "
        "(counted apart from the skill's own `retries`)",
    )
    infra_backoff: timedelta = Field(
        default=timedelta(seconds=0.5),
        description="first wait before such a re-run (doubling, at most 30 s)",
    )
    continue_as_new_after: int | None = Field(
        default=None,
        gt=0,
        description="history length after which a task or pipeline starts a new run at its "
        "next safe point (default: when Temporal suggests it)",
    )
    max_delegation_depth: int = Field(
        default=DEFAULT_MAX_DELEGATION_DEPTH,
        ge=1,
        description="longest chain of agents calling on one caller's behalf; a call past it "
        "is rejected",
    )
    history_budget: int = Field(
        default=40_000,
        gt=0,
        description="history events one attempt of a skill may grow its task to; event "
        "batches stretch out to stay within it",
    )
    max_pipeline_children: int = Field(
        default=500,
        ge=1,
        le=1900,
        description="child tasks a pipeline runs at once, over all its steps (Temporal "
        "refuses more than 2,000 pending children)",
    )
    result_long_polls: int = Field(
        default=100,
        ge=1,
        le=1000,
        description="result waits one client keeps as long polls at once; more waits are "
        "watched together, a visibility listing per 200 tasks every half second, so one "
        "process waiting on thousands of tasks stays within the server's poller limit",
    )
    registry_ttl: timedelta = Field(
        default=timedelta(seconds=30),
        description="how long a worker's registry entry stays live without a refresh",
    )
    gateway_tokens: dict[str, GatewayIdentity] = Field(
        default_factory=dict,
        description="bearer tokens or API keys the A2A gateway accepts, each mapped to the "
        "identity it stands for (JSON in the environment)",
    )
    gateway_allow_anonymous: bool = Field(
        default=False, description="let the A2A gateway serve requests without a token"
    )
    gateway_public_url: str | None = Field(
        default=None, description="URL clients reach the A2A gateway at (for agent cards)"
    )
    gateway_max_body_bytes: int = Field(
        default=8 * 2**20,
        gt=0,
        description="largest request body the A2A gateway reads (larger ones: HTTP 413, "
        "refused before any parsing or authentication work)",
    )
    gateway_requests_per_second: float = Field(
        default=50.0,
        gt=0,
        description="requests per second one caller (token, or address when anonymous) may "
        "send the A2A gateway on average (more: HTTP 429 with `Retry-After`)",
    )
    gateway_request_burst: int = Field(
        default=100, ge=1, description="requests one caller may send the A2A gateway at once"
    )
    gateway_max_streams: int = Field(
        default=16,
        ge=1,
        description="streams (`SendStreamingMessage`, `SubscribeToTask`) one caller may hold "
        "open on the A2A gateway at a time (more: HTTP 429)",
    )
    outbound_allow: list[str] = Field(
        default_factory=list,
        description="hosts (`hooks.example.com`, `*.example.com`), addresses and networks "
        "(`10.0.0.0/8`) push webhooks and remote agents may be at although local or private "
        "(JSON list in the environment); every other such address is refused",
    )
    artifact_inline_limit: int = Field(
        default=64 * 1024,
        ge=0,
        description="artifacts up to this size travel inline in A2A; larger ones as links",
    )
    artifact_link_ttl: timedelta = Field(
        default=timedelta(minutes=15), description="how long an artifact link stays valid"
    )
    search_attributes: bool = Field(
        default=True,
        description="Set the A2AAgent/A2ASkill/A2ACaller/A2AStatus/A2AContext/A2ASubject "
        "search attributes (they must be registered on the namespace as Keyword; "
        "`a2a-temporal dev` does it); the gateway's tenancy needs A2ASubject",
    )
    lean_task_history: bool = Field(
        default=False,
        description="Tasks and pipelines this process starts record the runtime revision in "
        "their memo (`a2a.starter`), and such tasks (and their calls and steps) skip the patch "
        "markers of what that revision has: 12 events for a trivial run instead of 14. Turn it "
        "on once no older worker polls the namespace (a finished rollout, or pinned worker "
        "versions): an older worker handed such a task mid-run would take it for one from "
        "before those patches (see docs/deploy.md)",
    )
    require_signed_identity: bool = Field(
        default=True,
        description="workers reject runs whose identity (`auth`) is not signed by an issuer "
        "in `identity_issuers` (`DevStack` turns it off)",
    )
    identity_issuers: dict[str, str] = Field(
        default_factory=dict,
        description="Ed25519 public keys (base64url) of trusted issuers by key id (JSON in the "
        "environment); several ids let keys rotate",
    )
    identity_key_id: str | None = Field(
        default=None, description="key id clients and the gateway sign identities with"
    )
    identity_signing_key: str | None = Field(
        default=None,
        description="that key's Ed25519 private half (base64url); set, clients and the "
        "gateway sign every identity they start a task with",
    )
    payload_encryption_key_id: str | None = Field(
        default=None,
        description="set, every payload is sealed with AES-256-GCM under the key in secret "
        "PAYLOAD_KEY_<id> (history and S3 hold ciphertext)",
    )
    payload_decryption_key_ids: list[str] = Field(
        default_factory=list,
        description="older key ids still opened (JSON list in the environment), for rotation",
    )
    codec_server_token: str | None = Field(
        default=None, description="the bearer token `a2a-temporal codec-server` requires"
    )
    sandbox: Literal["none", "process", "microsandbox"] = Field(
        default="process",
        description="what `ctx.sandbox` runs code in: confined subprocesses of the worker, "
        "a microVM per session (extra `a2a-temporal[microsandbox]`, needs KVM), or nothing",
    )
    sandbox_dir: Path | None = Field(
        default=None,
        description="directory of the process sandbox's boxes (default <tmp>/a2a-temporal-sandbox)",
    )
    sandbox_output_limit: int = Field(
        default=SANDBOX_OUTPUT_LIMIT,
        ge=0,
        description="bytes of stdout and of stderr a sandboxed command keeps (the rest is "
        "dropped and the result marked truncated)",
    )
    sandbox_write_back_limit: int = Field(
        default=256 * 2**20,
        ge=0,
        description="bytes of changed files an `rw` sandbox session may write back to the "
        "workspace (more: nothing is written back and the session fails)",
    )
    sandbox_uid: int = Field(
        default=65534, ge=1, description="user id sandboxed commands run as when the worker is root"
    )
    sandbox_gid: int = Field(
        default=65534,
        ge=1,
        description="group id sandboxed commands run as when the worker is root",
    )
    sandbox_sweep_interval: timedelta = Field(
        default=timedelta(seconds=30),
        ge=timedelta(0),
        description="how often, at most, opening a process sandbox session first removes the "
        "boxes of workers that died (0: at every open; a worker also sweeps when it starts)",
    )
    identity_ttl: timedelta = Field(
        default=timedelta(minutes=5),
        description="how long after signing an identity its task may start",
    )

    @field_validator("outbound_allow")
    @classmethod
    def _valid_outbound_allow(cls, entries: list[str]) -> list[str]:
        OutboundPolicy(entries)
        return entries

    @field_validator("deployment_name", "build_id")
    @classmethod
    def _valid_version_part(cls, value: str, info: ValidationInfo) -> str:
        if len(value) > _VERSION_PART_LIMIT:
            raise ValueError(f"longer than {_VERSION_PART_LIMIT} characters")
        if value.startswith("__"):
            raise ValueError("starts with '__', which Temporal reserves")
        if not value.isprintable() or any(char.isspace() for char in value):
            raise ValueError("has whitespace or control characters")
        if info.field_name == "deployment_name" and ("." in value or ":" in value):
            raise ValueError("has '.' or ':', which Temporal refuses in a deployment name")
        named = info.data.get("deployment_name")  # absent when it was refused itself
        if info.field_name == "build_id" and named is not None and bool(value) != bool(named):
            missing = "build_id" if value == "" else "deployment_name"
            raise ValueError(
                f"worker versioning needs both deployment_name and build_id; set {missing} too"
            )
        return value

    def outbound(self) -> OutboundPolicy:
        """Where push webhooks and remote agents may be (`outbound_allow`)."""
        return OutboundPolicy(self.outbound_allow)

    @property
    def s3_secure(self) -> bool:
        """Whether the S3 endpoint uses TLS."""
        return self.s3_endpoint.startswith("https://")

    @property
    def s3_host(self) -> str:
        """The endpoint without its scheme, as the `minio` client wants it."""
        return self.s3_endpoint.split("://", 1)[-1].rstrip("/")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Self:
        """Build settings from `A2A_TEMPORAL_*` variables, then `overrides`.

        Raises:
            ValueError: A variable does not parse; the message names it.
        """
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for name in cls.model_fields:
            raw = env.get(ENV_PREFIX + name.upper())
            if raw is None:
                continue
            if name in _JSON_FIELDS:
                try:
                    values[name] = json.loads(raw)
                except json.JSONDecodeError as exc:
                    raise ValueError(
                        f"{ENV_PREFIX}{name.upper()} is not valid JSON: {exc}"
                    ) from None
            else:
                values[name] = raw
        values.update(overrides)
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            raise ValueError(f"invalid settings: {describe_validation_error(exc)}") from None


def settings_reference() -> str:
    """Every setting as a Markdown table: its variable, its default and what it means.

    `docs/settings.md` holds this table (`a2a-temporal settings` prints it); a
    test fails when the two differ.
    """
    defaults = AgentSettings().model_dump(mode="json")
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for name, field in AgentSettings.model_fields.items():
        default = defaults[name]
        shown = "none" if default is None else json.dumps(default).strip('"')
        meaning = (field.description or "").replace("|", "\\|")
        rows.append(f"| `{ENV_PREFIX}{name.upper()}` | `{shown}` | {meaning} |")
    return "\n".join(rows) + "\n"
