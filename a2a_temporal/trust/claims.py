"""What a signed identity claims, and what a worker checks it against (pure models).

Workflow code builds `IdentityCheck`s from what Temporal recorded about a run;
`a2a_temporal.trust.identity` signs and verifies the envelopes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "PIPELINE_AUDIENCE",
    "IdentityCheck",
    "IdentityClaims",
    "IdentityEnvelope",
    "call_digest",
    "spec_digest",
]

PIPELINE_AUDIENCE = "pipeline"


class IdentityClaims(BaseModel):
    """What an issuer vouches for."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    auth: dict[str, Any] = Field(description="the caller's identity: subject, scopes, actors")
    audience: str = Field(description="the agent the task runs, or `pipeline`")
    task: str = Field(description="the task (or pipeline) id it is bound to")
    expires: datetime = Field(description="the latest time that task may start")
    call: str | None = Field(
        default=None, description="for a call's envelope: the digest of its agent, skill and args"
    )
    runs: str | None = Field(
        default=None,
        description="for a task's or pipeline's own envelope: the digest of what it runs (its "
        "agent, skill and args; its pipeline spec)",
    )


class IdentityEnvelope(BaseModel):
    """Claims and the issuer's Ed25519 signature over their canonical JSON."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key_id: str
    claims: IdentityClaims
    signature: str = Field(description="base64url, no padding")


class IdentityCheck(BaseModel):
    """A run's claimed identity and what a worker checks it against."""

    model_config = ConfigDict(frozen=True)

    auth: dict[str, Any] | None = None
    identity: dict[str, Any] | None = None
    task_id: str
    audience: str = Field(description="the agent the task runs, or `pipeline`")
    parent_id: str | None = Field(
        default=None, description="the workflow that started it, as Temporal recorded it"
    )
    started_at: datetime = Field(description="when this run started, as Temporal recorded it")
    continued: bool = Field(
        default=False,
        description="Temporal records this run as the workflow's own continue-as-new of an "
        "earlier run (checked when that one started)",
    )
    call_digest: str | None = Field(
        default=None,
        description="digest of what the run runs: its agent, skill and args (`call_digest`), "
        "or its pipeline spec (`spec_digest`)",
    )
    first_run_id: str | None = Field(
        default=None, description="the first run of the run's chain, as Temporal recorded it"
    )
    cron: bool = Field(default=False, description="the run is on a cron schedule")
    retried: bool = Field(
        default=False, description="Temporal started the run under a workflow retry policy"
    )


def call_digest(agent: str, skill: str, args: Mapping[str, Any] | None) -> str:
    """What a task's or call's envelope is bound to: its agent, skill and args."""
    canonical = json.dumps([agent, skill, args], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def spec_digest(spec: Mapping[str, Any]) -> str:
    """What a pipeline's envelope is bound to: its spec (as JSON data)."""
    canonical = json.dumps(spec, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()
