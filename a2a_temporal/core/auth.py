"""Caller identity models, and how an identity passes from a caller to its callee."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict

from a2a_temporal.errors import DelegationRefused

__all__ = [
    "DEFAULT_MAX_DELEGATION_DEPTH",
    "NoAuth",
    "ScopedAuth",
    "delegated_identity",
    "missing_scopes",
    "scope_list",
    "scopes_of",
    "subject_of",
]

DEFAULT_MAX_DELEGATION_DEPTH = 8


class NoAuth(BaseModel):
    """Anonymous caller: holds no scopes."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class ScopedAuth(BaseModel):
    """A caller identified by a subject and holding a set of scopes.

    `actors` is the chain of agents that called on the subject's behalf, the
    first caller first (RFC 8693's `act`); the runtime extends it on each call.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    subject: str
    scopes: tuple[str, ...] = ()
    actors: tuple[str, ...] = ()


def scopes_of(auth: BaseModel) -> frozenset[str]:
    """Return the scopes an auth model holds; models without `scopes` hold none."""
    return frozenset(scope_list(getattr(auth, "scopes", None)))


def missing_scopes(auth: BaseModel, required: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """Return the scopes in `required` that `auth` does not hold, sorted."""
    held = scopes_of(auth)
    return tuple(sorted({scope for scope in required if scope not in held}))


def delegated_identity(
    auth: BaseModel | Mapping[str, Any] | None,
    caller_agent: str,
    scopes: Sequence[str] | None = None,
    max_depth: int = DEFAULT_MAX_DELEGATION_DEPTH,
) -> dict[str, Any] | None:
    """The identity a callee runs with when agent `caller_agent` calls on behalf of `auth`.

    Same subject; the actor chain extended by `caller_agent`; scopes narrowed
    to those in `scopes` (all the caller holds when None): a callee never holds
    a scope its caller lacked. None for an anonymous caller.

    Raises:
        DelegationRefused: The actor chain would grow past `max_depth`.
    """
    raw = auth.model_dump(mode="json") if isinstance(auth, BaseModel) else dict(auth or {})
    if not raw:
        return None
    actors = [str(actor) for actor in raw.get("actors") or ()] + [caller_agent]
    if len(actors) > max_depth:
        raise DelegationRefused(
            f"delegation depth {len(actors)} exceeds max_delegation_depth {max_depth} "
            f"(actors: {' -> '.join(actors)})"
        )
    derived = {**raw, "actors": actors}
    if "scopes" in raw:
        wanted = None if scopes is None else set([scopes] if isinstance(scopes, str) else scopes)
        held = raw["scopes"]
        kept = [s for s in scope_list(held) if wanted is None or s in wanted]
        derived["scopes"] = " ".join(kept) if isinstance(held, str) else kept
    return derived


def scope_list(scopes: Any) -> list[str]:
    """Scopes as a list, from a list or a space-separated string."""
    if scopes is None:
        return []
    if isinstance(scopes, str):
        return scopes.split()
    return [str(scope) for scope in scopes]


def subject_of(auth: BaseModel | Mapping[str, Any] | None) -> str | None:
    """The subject an identity names, if it names one (anonymous identities name none)."""
    raw = auth.model_dump(mode="json") if isinstance(auth, BaseModel) else dict(auth or {})
    subject = raw.get("subject")
    return subject if isinstance(subject, str) and subject else None
