"""What a client connected with `AgentPlugin` shares with its workers: S3, registry, routing."""

from __future__ import annotations

from collections.abc import Iterable

from temporalio.client import Client

from a2a_temporal.core.agent import A2AAgent
from a2a_temporal.settings import AgentSettings
from a2a_temporal.temporal.registry import AgentRegistry
from a2a_temporal.temporal.routing import SkillRouter
from a2a_temporal.temporal.storage import ObjectStore, minio_client

__all__ = ["AgentRuntime"]


class AgentRuntime:
    """The object store, the registry and the router of one process, built from its settings.

    Args:
        settings: Where S3 is and how skills are scheduled.
        agents: Agents this process hosts (routed to locally once a worker polls).
    """

    def __init__(self, settings: AgentSettings, agents: Iterable[A2AAgent] = ()) -> None:
        self.settings = settings
        self.store = ObjectStore(minio_client(settings), settings.s3_bucket)
        self.registry = AgentRegistry(self.store, settings.registry_ttl)
        self.router = SkillRouter(agents, settings, self.registry)

    @classmethod
    def of(cls, client: Client) -> AgentRuntime | None:
        """The runtime of the `AgentPlugin` `client` was connected with, if any."""
        for plugin in client.config().get("plugins", []):
            runtime = getattr(plugin, "runtime", None)
            if isinstance(runtime, cls):
                return runtime
        return None
