"""Signed caller identities: minted by clients and the gateway, verified by workers.

An `IdentityEnvelope` is the caller's identity (`auth`) signed with Ed25519 by
an issuer the workers trust, bound to one task id, one audience (the agent, or
`pipeline`) and an expiry. It travels in the workflow input as data; a copy
lifted from history can start no other task. A task's calls, and a pipeline's
steps, carry their root's envelope unchanged: a worker accepts it for a run
that Temporal says is a child of the task it was minted for (or of one of that
task's own callees), whose identity only narrows the signed one.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from a2a_temporal.auth import scope_list
from a2a_temporal.models import PIPELINE_AUDIENCE, IdentityCheck
from a2a_temporal.settings import AgentSettings

__all__ = [
    "PIPELINE_AUDIENCE",
    "IdentityClaims",
    "IdentityEnvelope",
    "IdentityPolicy",
    "IdentityRefused",
    "IdentitySigner",
    "IdentityVerifier",
    "generate_key",
    "identity_signer",
]


class IdentityRefused(ValueError):
    """A run's identity cannot be trusted; the message says why."""


class IdentityClaims(BaseModel):
    """What an issuer vouches for."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    auth: dict[str, Any] = Field(description="the caller's identity: subject, scopes, actors")
    audience: str = Field(description="the agent the task runs, or `pipeline`")
    task: str = Field(description="the task (or pipeline) id it is bound to")
    expires: datetime = Field(description="the latest time that task may start")


class IdentityEnvelope(BaseModel):
    """Claims and the issuer's Ed25519 signature over their canonical JSON."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key_id: str
    claims: IdentityClaims
    signature: str = Field(description="base64url, no padding")


def _canonical(claims: IdentityClaims) -> bytes:
    data = claims.model_dump(mode="json")
    return json.dumps(data, sort_keys=True, separators=(",", ":")).encode()


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def generate_key() -> tuple[str, str]:
    """A new Ed25519 key pair as (private, public), base64url raw bytes."""
    private = Ed25519PrivateKey.generate()
    public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return _b64encode(private.private_bytes_raw()), _b64encode(public)


class IdentitySigner:
    """Mints envelopes with one issuer key.

    Args:
        key_id: Names the key; workers look its public half up by this id.
        private_key: The Ed25519 private key, base64url raw bytes.
    """

    def __init__(self, key_id: str, private_key: str) -> None:
        try:
            self._key = Ed25519PrivateKey.from_private_bytes(_b64decode(private_key))
        except (ValueError, binascii.Error) as exc:
            message = f"identity signing key {key_id!r} is not an Ed25519 key: {exc}"
            raise ValueError(message) from None
        self.key_id = key_id

    def mint(
        self, auth: Mapping[str, Any], *, audience: str, task: str, now: datetime, ttl: timedelta
    ) -> IdentityEnvelope:
        """Sign `auth` for `task` of `audience`, valid for starting until `now + ttl`."""
        claims = IdentityClaims(auth=dict(auth), audience=audience, task=task, expires=now + ttl)
        signature = self._key.sign(_canonical(claims))
        return IdentityEnvelope(key_id=self.key_id, claims=claims, signature=_b64encode(signature))


def identity_signer(settings: AgentSettings) -> IdentitySigner | None:
    """The signer `settings` configure, or None when they hold no signing key."""
    key = settings.identity_signing_key
    if key is None:
        return None
    if not settings.identity_key_id:
        raise ValueError(
            "identity_signing_key is set without identity_key_id: name the key as the "
            "workers' identity_issuers do"
        )
    return IdentitySigner(settings.identity_key_id, key)


class IdentityVerifier:
    """Checks envelopes against the issuers' public keys.

    Args:
        issuers: Public keys (base64url raw bytes) by key id; several ids let keys rotate.
    """

    def __init__(self, issuers: Mapping[str, str]) -> None:
        self._keys: dict[str, Ed25519PublicKey] = {}
        for key_id, public in issuers.items():
            try:
                self._keys[key_id] = Ed25519PublicKey.from_public_bytes(_b64decode(public))
            except (ValueError, binascii.Error) as exc:
                message = f"issuer key {key_id!r} is not an Ed25519 public key: {exc}"
                raise ValueError(message) from None

    def claims(self, envelope: Any) -> IdentityClaims:
        """The claims of a well-formed envelope signed by a known issuer.

        Raises:
            IdentityRefused: Malformed, an unknown key id, or a bad signature.
        """
        try:
            parsed = IdentityEnvelope.model_validate(envelope)
        except ValidationError as exc:
            count = exc.error_count()
            raise IdentityRefused(f"malformed identity envelope ({count} errors)") from None
        key = self._keys.get(parsed.key_id)
        if key is None:
            raise IdentityRefused(f"identity signed with unknown key id {parsed.key_id[:64]!r}")
        try:
            key.verify(_b64decode(parsed.signature), _canonical(parsed.claims))
        except (InvalidSignature, ValueError, binascii.Error):
            raise IdentityRefused(
                f"identity signature does not verify with key {parsed.key_id!r}"
            ) from None
        return parsed.claims

    def verify(
        self,
        envelope: Any,
        auth: Mapping[str, Any] | None,
        *,
        task_id: str,
        audience: str,
        parent_id: str | None,
        started_at: datetime,
        max_depth: int,
    ) -> dict[str, Any]:
        """The identity a run may use: its signed one, or a narrowing of it for a child.

        Args:
            envelope: The envelope in the run's input.
            auth: The identity the run's input claims.
            task_id: The run's task (workflow) id.
            audience: The agent it runs, or `pipeline`.
            parent_id: The workflow that started it, as Temporal records it.
            started_at: When the task (its first run) started.
            max_depth: Longest actor chain allowed.

        Raises:
            IdentityRefused: Saying which check failed.
        """
        claims = self.claims(envelope)
        signed = claims.auth
        if task_id == claims.task:
            if claims.audience != audience:
                raise IdentityRefused(f"identity minted for {claims.audience!r}, not {audience!r}")
            if started_at > claims.expires:
                raise IdentityRefused(
                    f"identity expired at {claims.expires.isoformat()} before task "
                    f"{task_id} started"
                )
            if auth is not None and dict(auth) != signed:
                raise IdentityRefused("the run's auth differs from its signed identity")
            return signed
        descends = parent_id is not None and (
            parent_id == claims.task or parent_id.startswith(f"{claims.task}/")
        )
        if not descends or not task_id.startswith(f"{parent_id}/"):
            raise IdentityRefused(
                f"identity bound to task {claims.task!r}: run {task_id!r} is not a call or "
                "step started under it"
            )
        return _narrowing(signed, dict(auth or {}), max_depth)


def _narrowing(signed: dict[str, Any], claimed: dict[str, Any], max_depth: int) -> dict[str, Any]:
    """`claimed` when it keeps `signed`'s subject and only narrows its scopes."""
    fixed = {k: v for k, v in signed.items() if k not in ("scopes", "actors")}
    if {k: v for k, v in claimed.items() if k not in ("scopes", "actors")} != fixed:
        raise IdentityRefused("a call's identity changes more than its scopes and actors")
    widened = set(scope_list(claimed.get("scopes"))) - set(scope_list(signed.get("scopes")))
    if widened:
        raise IdentityRefused(f"a call's identity adds scopes {sorted(widened)}")
    root_actors = list(signed.get("actors") or ())
    actors = list(claimed.get("actors") or ())
    if actors[: len(root_actors)] != root_actors:
        raise IdentityRefused("a call's actor chain does not extend its caller's")
    if len(actors) > max_depth:
        raise IdentityRefused(f"actor chain of {len(actors)} exceeds max_delegation_depth")
    return claimed


class IdentityPolicy:
    """What a worker trusts: signed identities only, unless `require_signed` is off.

    Args:
        issuers: Trusted public keys by key id.
        require_signed: Refuse an identity (a non-empty `auth`) that comes unsigned.
        max_depth: Longest actor chain allowed.
    """

    def __init__(self, issuers: Mapping[str, str], *, require_signed: bool, max_depth: int) -> None:
        self._verifier = IdentityVerifier(issuers)
        self._require_signed = require_signed
        self._max_depth = max_depth

    def trusted_auth(self, check: IdentityCheck) -> dict[str, Any] | None:
        """The identity a run may act as.

        Raises:
            IdentityRefused: Unsigned where signing is required, or failing a check.
        """
        if check.identity is None:
            if check.auth and self._require_signed:
                raise IdentityRefused(
                    "unsigned identity: this worker only accepts identities signed by a "
                    "trusted issuer (require_signed_identity)"
                )
            return check.auth
        return self._verifier.verify(
            check.identity,
            check.auth,
            task_id=check.task_id,
            audience=check.audience,
            parent_id=check.parent_id,
            started_at=check.started_at,
            max_depth=self._max_depth,
        )
