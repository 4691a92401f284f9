"""Optional dependencies: whether an extra is installed, and the command that installs it."""

from __future__ import annotations

import importlib.util

__all__ = ["A2A_EXTRA_HINT", "require_a2a_sdk"]

A2A_EXTRA_HINT = "install the A2A extra: pip install 'a2a-temporal[a2a]'"


def require_a2a_sdk() -> None:
    """Raise `ImportError` saying which extra to install when the a2a-sdk is missing."""
    for module in ("a2a.types", "starlette"):
        try:
            found = importlib.util.find_spec(module) is not None
        except ModuleNotFoundError:
            found = False
        if not found:
            raise ImportError(f"the A2A protocol needs the a2a-sdk (no {module}); {A2A_EXTRA_HINT}")
