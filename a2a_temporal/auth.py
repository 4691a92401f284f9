"""Caller identity models."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["NoAuth", "ScopedAuth", "missing_scopes", "scopes_of"]


class NoAuth(BaseModel):
    """Anonymous caller: holds no scopes."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class ScopedAuth(BaseModel):
    """A caller identified by a subject and holding a set of scopes."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    subject: str
    scopes: tuple[str, ...] = ()


def scopes_of(auth: BaseModel) -> frozenset[str]:
    """Return the scopes an auth model holds; models without `scopes` hold none."""
    scopes = getattr(auth, "scopes", None)
    if scopes is None:
        return frozenset()
    if isinstance(scopes, str):
        return frozenset(scopes.split())
    return frozenset(str(scope) for scope in scopes)


def missing_scopes(auth: BaseModel, required: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """Return the scopes in `required` that `auth` does not hold, sorted."""
    held = scopes_of(auth)
    return tuple(sorted({scope for scope in required if scope not in held}))
