"""Temporal worker versioning from the settings: which deployment version a worker is."""

from __future__ import annotations

from temporalio.common import VersioningBehavior, WorkerDeploymentVersion
from temporalio.worker import WorkerDeploymentConfig

from a2a_temporal.settings import AgentSettings

__all__ = ["deployment_config"]

_BEHAVIORS = {
    "pinned": VersioningBehavior.PINNED,
    "auto-upgrade": VersioningBehavior.AUTO_UPGRADE,
}


def deployment_config(settings: AgentSettings) -> WorkerDeploymentConfig | None:
    """The `Worker(deployment_config=...)` the settings ask for; None when versioning is off.

    Set, the worker is version `build_id` of deployment `deployment_name`, and
    `versioning_behavior` applies to every workflow type the plugin registers
    (tasks, pipelines, push deliveries). `AgentPlugin` gives it to every worker
    built from its client that has no deployment config of its own.
    """
    if not settings.deployment_name:
        return None
    return WorkerDeploymentConfig(
        version=WorkerDeploymentVersion(settings.deployment_name, settings.build_id),
        use_worker_versioning=True,
        default_versioning_behavior=_BEHAVIORS[settings.versioning_behavior],
    )
