"""Where a call to `agent.skill` goes: this process's own agents first, then the registry."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from a2a_temporal._extras import require_a2a_sdk
from a2a_temporal.core.agent import A2AAgent, AgentCard
from a2a_temporal.core.discovery import DiscoveryClient
from a2a_temporal.errors import OutboundRefused
from a2a_temporal.settings import AgentSettings
from a2a_temporal.temporal.models import Resolution
from a2a_temporal.temporal.registry import AgentRegistry, skill_options
from a2a_temporal.temporal.wire import REMOTE_AGENT, REMOTE_SKILL

__all__ = ["Route", "RoutedDiscoveryClient", "SkillRouter"]


@dataclass(frozen=True)
class Route:
    """Where a call goes: the agent and skill that run it, with their args."""

    agent: str
    skill: str
    args: dict[str, Any] | None
    resolution: Resolution


class SkillRouter:
    """Resolves skills to their scheduling options.

    Agents hosted by a worker of this process are resolved locally (on the
    queue the worker polls); every other agent through the registry. Callers
    put the answer into workflow input or an update, so workflows never
    consult this process's memory.

    Args:
        agents: Agents this process hosts.
        settings: Settings of this process's workers.
        registry: The shared registry.
    """

    def __init__(
        self, agents: Iterable[A2AAgent], settings: AgentSettings, registry: AgentRegistry
    ) -> None:
        self._agents = {agent.name: agent for agent in agents}
        self._settings = settings
        self._outbound = settings.outbound()
        self.registry = registry
        self._worker_queues: list[str] = []

    def add_agent(self, agent: A2AAgent) -> None:
        """Host `agent` in this process too (the worker's built-in agents)."""
        self._agents[agent.name] = agent

    def add_worker_queue(self, task_queue: str) -> None:
        """Record that a worker of this process polls `task_queue`."""
        if task_queue not in self._worker_queues:
            self._worker_queues.append(task_queue)

    def local_cards(self) -> list[AgentCard]:
        """Cards of the agents a worker of this process hosts (none before a worker exists)."""
        if not self._worker_queues:
            return []
        queue = self._worker_queues[0]
        return [agent.card(queue) for agent in self._agents.values() if agent.name != REMOTE_AGENT]

    async def route(
        self,
        target: str,
        skill: str,
        args: dict[str, Any] | None,
        prefer_queue: str | None = None,
    ) -> Route:
        """Where a call to `target` goes.

        A URL, or a remote agent registered by URL, goes through the built-in
        `a2a-remote` agent; any other agent runs the skill itself. A URL where
        requests may not go (`outbound_allow`) is refused here.
        """
        url = target if target.startswith(("http://", "https://")) else None
        if url is None:
            resolution = await self.resolve(target, skill, prefer_queue)
            if resolution.remote_url is None:
                return Route(target, skill, args, resolution)
            url = resolution.remote_url
        remote_args = {"url": url, "skill": skill, "args": args}
        try:
            require_a2a_sdk()
            self._outbound.check_url(url, what="remote agent URL")
        except (ImportError, OutboundRefused) as exc:
            return Route(REMOTE_AGENT, REMOTE_SKILL, remote_args, Resolution(error=str(exc)))
        resolution = await self.resolve(REMOTE_AGENT, REMOTE_SKILL, prefer_queue)
        return Route(REMOTE_AGENT, REMOTE_SKILL, remote_args, resolution)

    async def resolve(self, agent: str, skill: str, prefer_queue: str | None = None) -> Resolution:
        """How to run `agent.skill`, or why it cannot run."""
        local = self._agents.get(agent)
        if local is None or not self._worker_queues:
            return await self.registry.resolve(agent, skill, prefer_queue)
        if skill not in local.skills:
            have = ", ".join(sorted(local.skills)) or "none"
            return Resolution(error=f"agent {agent!r} has no skill {skill!r} (skills: {have})")
        queue = prefer_queue if prefer_queue in self._worker_queues else self._worker_queues[0]
        return Resolution(options=skill_options(local, skill, queue, self._settings))


class RoutedDiscoveryClient(DiscoveryClient):
    """Discovery over this process's own agents and the registry's live ones."""

    def __init__(self, router: SkillRouter) -> None:
        self._router = router

    async def cards(self) -> list[AgentCard]:
        """Every known agent's card (this process's own first), sorted by name.

        The built-in `a2a-remote` agent, which runs calls to URLs, is not listed.
        """
        cards = {
            card.name: card for card in self._router.local_cards() if card.name != REMOTE_AGENT
        }
        for card in await self._router.registry.live_cards():
            if card.name != REMOTE_AGENT:
                cards.setdefault(card.name, card)
        return [cards[name] for name in sorted(cards)]
