"""Signed caller identities: minted by clients, the gateway and workers; verified by workers.

An `IdentityEnvelope` is the caller's identity (`auth`) signed with Ed25519 by
an issuer the workers trust, bound to one task id, one audience (the agent, or
`pipeline`) and an expiry. It travels in the workflow input as data; a copy
lifted from history can start no other task. A pipeline's steps carry its
envelope (Temporal records the pipeline as their parent); each call a skill
makes gets an envelope its worker mints for exactly that call (parent task,
agent, skill, args), with the caller's identity narrowed.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from pydantic import ValidationError

from a2a_temporal.core.auth import delegated_identity
from a2a_temporal.errors import DelegationRefused, IdentityRefused
from a2a_temporal.settings import AgentSettings
from a2a_temporal.trust.claims import (
    PIPELINE_AUDIENCE,
    IdentityCheck,
    IdentityClaims,
    IdentityEnvelope,
    call_digest,
)

__all__ = [
    "CallMinter",
    "IdentityPolicy",
    "IdentitySigner",
    "IdentityVerifier",
    "generate_key",
    "identity_signer",
]


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
        self,
        auth: Mapping[str, Any],
        *,
        audience: str,
        task: str,
        now: datetime,
        ttl: timedelta,
        call: str | None = None,
        runs: str | None = None,
    ) -> IdentityEnvelope:
        """Sign `auth` for `task` of `audience`, valid for starting until `now + ttl`.

        `runs` binds it to what `task` runs (`call_digest` of its agent, skill and
        args, or `spec_digest` of its pipeline). With `call`, the envelope is for
        that call of `task` (its digest) instead.
        """
        claims = IdentityClaims(
            auth=dict(auth),
            audience=audience,
            task=task,
            expires=now + ttl,
            call=call,
            runs=runs,
        )
        signature = self._key.sign(_canonical(claims))
        return IdentityEnvelope(key_id=self.key_id, claims=claims, signature=_b64encode(signature))


class CallMinter:
    """Mints, on a worker, the envelope of each call a skill with a signed identity makes.

    Args:
        signer: The worker's issuer key; None mints nothing (calls go unsigned).
        ttl: How long after minting the call may start.
        max_depth: Longest actor chain allowed.
    """

    def __init__(self, signer: IdentitySigner | None, ttl: timedelta, max_depth: int) -> None:
        self._signer = signer
        self._ttl = ttl
        self._max_depth = max_depth

    def mint(
        self,
        verified: Mapping[str, Any] | None,
        *,
        caller_agent: str,
        caller_task: str,
        agent: str,
        skill: str,
        args: Mapping[str, Any] | None,
        scopes: Sequence[str] | None,
    ) -> dict[str, Any] | None:
        """The callee's envelope: the caller's verified identity, narrowed, for this call only.

        None when the caller's identity was not verified from an envelope (an
        unsigned identity is never turned into a signed one), or nothing to sign.
        """
        if self._signer is None or not verified:
            return None
        try:
            auth = delegated_identity(verified, caller_agent, scopes, self._max_depth)
        except DelegationRefused:
            return None  # the workflow refuses the call itself, saying why
        if not auth:
            return None
        envelope = self._signer.mint(
            auth,
            audience=agent,
            task=caller_task,
            now=datetime.now(UTC),
            ttl=self._ttl,
            call=call_digest(agent, skill, args),
        )
        return envelope.model_dump(mode="json")


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

    def verify(self, envelope: Any, check: IdentityCheck) -> dict[str, Any]:
        """The identity a run may act as, if its envelope is good for this very run.

        Three kinds of run are accepted: the task the envelope was minted for,
        running what it was minted for (audience, the digest of its agent,
        skill and args or of its pipeline spec, and the expiry against the
        start Temporal recorded); a step of the pipeline it was minted for
        (Temporal records the pipeline as the step's parent); a call whose
        envelope the calling task's worker minted for exactly that call (its
        parent, agent, skill and args). A run on a cron schedule or under a
        workflow retry policy is refused: Temporal would start it again with
        the same input, long after the envelope was meant to be used.

        Raises:
            IdentityRefused: Saying which check failed.
        """
        claims = self.claims(envelope)
        if check.cron:
            raise IdentityRefused(
                f"run {check.task_id!r} is on a cron schedule: a signed identity starts one run"
            )
        if check.retried:
            raise IdentityRefused(
                f"run {check.task_id!r} was started by a workflow retry policy: a signed "
                "identity starts one run"
            )
        if claims.task == check.task_id and claims.call is None:
            self._check_audience_and_expiry(claims, check)
            if claims.runs is None or claims.runs != check.call_digest:
                raise IdentityRefused(
                    f"identity minted for another run of {claims.task!r} (other skill, args or "
                    "pipeline spec)"
                )
        elif claims.audience == PIPELINE_AUDIENCE and claims.call is None:
            if check.parent_id != claims.task:
                raise IdentityRefused(
                    f"identity bound to pipeline {claims.task!r}: run {check.task_id!r} is not "
                    "one of its steps"
                )
        elif claims.call is not None and check.parent_id == claims.task:
            self._check_audience_and_expiry(claims, check)
            if claims.call != check.call_digest:
                raise IdentityRefused(
                    f"identity minted for another call of task {claims.task!r} (other agent, "
                    "skill or args)"
                )
        else:
            raise IdentityRefused(
                f"identity bound to task {claims.task!r}: run {check.task_id!r} is neither that "
                "task nor started by it"
            )
        if check.auth is not None and dict(check.auth) != claims.auth:
            raise IdentityRefused("the run's auth differs from its signed identity")
        return claims.auth

    @staticmethod
    def _check_audience_and_expiry(claims: IdentityClaims, check: IdentityCheck) -> None:
        if claims.audience != check.audience:
            raise IdentityRefused(
                f"identity minted for {claims.audience!r}, not {check.audience!r}"
            )
        expires = claims.expires if claims.expires.tzinfo else claims.expires.replace(tzinfo=UTC)
        if not check.continued and check.started_at > expires:
            raise IdentityRefused(
                f"identity expired at {expires.isoformat()} before run {check.task_id} started"
            )


class IdentityPolicy:
    """What a worker trusts: signed identities only, unless `require_signed` is off.

    Args:
        issuers: Trusted public keys by key id.
        require_signed: Refuse an identity (a non-empty `auth`) that comes unsigned.
    """

    def __init__(self, issuers: Mapping[str, str], *, require_signed: bool) -> None:
        self._verifier = IdentityVerifier(issuers)
        self._require_signed = require_signed

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
        return self._verifier.verify(check.identity, check)
