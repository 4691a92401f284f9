"""The Agent2Agent protocol both ways: a gateway over our workflows, and remote agents as callees.

Needs the `a2a` extra: `pip install 'a2a-temporal[a2a]'` (the official
`a2a-sdk` with its HTTP server parts, and `uvicorn`).
"""

from __future__ import annotations

__all__ = ["EXTRA_HINT", "require_sdk"]

EXTRA_HINT = "install the A2A extra: pip install 'a2a-temporal[a2a]'"


def require_sdk() -> None:
    """Raise `ImportError` saying which extra to install when the a2a-sdk is missing."""
    try:
        import a2a.types  # noqa: F401
        import starlette  # noqa: F401
    except ImportError as exc:
        raise ImportError(f"the A2A protocol needs the a2a-sdk ({exc}); {EXTRA_HINT}") from None
