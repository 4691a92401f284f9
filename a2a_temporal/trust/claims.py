"""What a signed identity claims, and what a worker checks it against (pure models).

Workflow code builds `IdentityCheck`s from what Temporal recorded about a run;
`a2a_temporal.trust.identity` signs and verifies the envelopes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["PIPELINE_AUDIENCE", "IdentityCheck", "IdentityClaims", "IdentityEnvelope"]

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
        default=False, description="this run continues an earlier one (checked when that started)"
    )
    call_digest: str | None = Field(
        default=None, description="digest of the run's agent, skill and args"
    )
