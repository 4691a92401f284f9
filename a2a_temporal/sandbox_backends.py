"""Choosing the sandbox backend a worker gives its skills, from settings."""

from __future__ import annotations

from a2a_temporal.errors import SandboxUnavailable
from a2a_temporal.process_sandbox import ProcessSandbox
from a2a_temporal.sandbox import SandboxBackend
from a2a_temporal.settings import AgentSettings

__all__ = ["no_sandbox", "sandbox_from_settings"]


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
            run_as=(settings.sandbox_uid, settings.sandbox_gid),
        )
    from a2a_temporal.microsandbox_sandbox import MicrosandboxSandbox

    return MicrosandboxSandbox(output_limit=settings.sandbox_output_limit)


def no_sandbox() -> SandboxUnavailable:
    """The error of a worker configured with `sandbox=none`, saying how to enable one."""
    return SandboxUnavailable(
        "no sandbox backend is configured on this worker (sandbox=none); set "
        "A2A_TEMPORAL_SANDBOX=process (confined subprocesses) or microsandbox (a microVM "
        "per session, needs KVM and the a2a-temporal[microsandbox] extra)"
    )
