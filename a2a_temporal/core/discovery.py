"""Finding agents by name, tag, capability or skill."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable

from a2a_temporal.core.agent import AgentCard
from a2a_temporal.errors import UnknownAgent

__all__ = ["DiscoveryClient", "InMemoryDiscoveryClient"]


class DiscoveryClient(ABC):
    """Looks up agent cards."""

    @abstractmethod
    async def cards(self) -> list[AgentCard]:
        """Return every known agent card, sorted by name."""

    async def find(
        self,
        tag: str | None = None,
        capability: str | None = None,
        skill: str | None = None,
    ) -> list[AgentCard]:
        """Return the agents matching every criterion given, sorted by name."""
        return [
            card
            for card in await self.cards()
            if (tag is None or tag in card.tags)
            and (capability is None or capability in card.capabilities)
            and (skill is None or card.skill(skill) is not None)
        ]

    async def get(self, name: str) -> AgentCard:
        """Return the card of agent `name`.

        Raises:
            UnknownAgent: No such agent; the message lists the known ones.
        """
        cards = await self.cards()
        for card in cards:
            if card.name == name:
                return card
        known = ", ".join(c.name for c in cards) or "none"
        raise UnknownAgent(f"unknown agent {name!r} (agents: {known})")


class InMemoryDiscoveryClient(DiscoveryClient):
    """Discovery over a fixed set of cards."""

    def __init__(self, cards: Iterable[AgentCard]) -> None:
        self._cards = sorted(cards, key=lambda c: c.name)

    async def cards(self) -> list[AgentCard]:
        """Return the cards given at construction."""
        return list(self._cards)
