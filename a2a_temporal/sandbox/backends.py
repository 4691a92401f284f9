"""Choosing the sandbox backend a worker gives its skills, from settings."""

from __future__ import annotations

from a2a_temporal.sandbox.interface import SandboxBackend
from a2a_temporal.sandbox.process import ProcessSandbox
from a2a_temporal.settings import AgentSettings

__all__ = ["sandbox_from_settings"]


def sandbox_from_settings(settings: AgentSettings) -> SandboxBackend | None:
    """The backend `settings.sandbox` names (None for `none`).

    Raises:
        SandboxUnavailable: The microsandbox extra is not installed.
    """
    if settings.sandbox == "none":
        return None
    if settings.sandbox == "process":
        return ProcessSandbox(
            root=settings.sandbox_dir,
            output_limit=settings.sandbox_output_limit,
            write_back_limit=settings.sandbox_write_back_limit,
            run_as=(settings.sandbox_uid, settings.sandbox_gid),
            sweep_interval=settings.sandbox_sweep_interval.total_seconds(),
        )
    from a2a_temporal.sandbox.microsandbox import MicrosandboxSandbox

    return MicrosandboxSandbox(
        output_limit=settings.sandbox_output_limit,
        write_back_limit=settings.sandbox_write_back_limit,
    )
