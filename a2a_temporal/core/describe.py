"""Failures rendered as bounded, always-serialisable text: exceptions and pydantic field errors.

Pure: workflow code uses it to say why an input is invalid.
"""

from __future__ import annotations

from collections.abc import Callable

from pydantic import ValidationError

__all__ = [
    "MAX_MESSAGE_CHARS",
    "describe_exception",
    "describe_validation_error",
    "safe_message",
]

MAX_MESSAGE_CHARS = 4000
_SHOWN_FIELD_ERRORS = 20


def safe_message(
    exc: BaseException,
    limit: int = MAX_MESSAGE_CHARS,
    clean: Callable[[str], str] | None = None,
) -> str:
    """`str(exc)` passed through `clean`, then cut to `limit` characters.

    A note stands in when the message cannot be rendered.
    """
    try:
        message = str(exc)
    except Exception as err:  # a broken __str__ must not lose the failure itself
        return f"<the message could not be rendered: {type(err).__name__}>"
    if clean is not None:
        message = clean(message)
    if len(message) > limit:
        return f"{message[:limit]}... [{len(message) - limit} more characters]"
    return message


def describe_exception(exc: BaseException, clean: Callable[[str], str] | None = None) -> str:
    """Render an exception as `Type: message` for a `CallResult.error`."""
    message = safe_message(exc, clean=clean)
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def describe_validation_error(exc: ValidationError, limit: int = _SHOWN_FIELD_ERRORS) -> str:
    """Render pydantic errors as `field: message; field: message`, at most `limit` of them."""
    errors = exc.errors()
    parts = [
        f"{'.'.join(str(p) for p in error['loc']) or '(root)'}: {error['msg']}"
        for error in errors[:limit]
    ]
    if len(errors) > limit:
        parts.append(f"... ({len(errors) - limit} more)")
    return "; ".join(parts)
