"""Checking an answer against the JSON schema of the question (`ctx.collect`).

Pure: `SkillRunWorkflow` validates answers with it before accepting them.
"""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator

__all__ = ["check_answer"]


def check_answer(schema: dict[str, Any] | None, value: Any) -> None:
    """Raise `ValueError` naming every field of `value` that does not fit `schema`."""
    if schema is None:
        if not isinstance(value, str):
            raise ValueError(f"this question takes text, got {type(value).__name__}")
        return
    errors = sorted(Draft202012Validator(schema).iter_errors(value), key=lambda e: list(e.path))
    if errors:
        raise ValueError(
            "; ".join(f"{'.'.join(map(str, e.path)) or '(root)'}: {e.message}" for e in errors)
        )
