"""The agent registry: which agents run where, shared by every worker pool through the bucket.

Each worker writes one object per hosted agent, `registry/agents/<agent>/<worker>.json`,
holding the agent's card and the scheduling options of its skills, and
rewrites it every third of `registry_ttl` with a later expiry. A worker that
stops removes its objects; one that dies leaves them to expire. Readers skip
expired entries for discovery, and route a call to the newest live entry
(preferring the caller's own task queue). When no live entry is left, a call
still goes to the newest expired one: its task waits on that task queue for a
worker instead of failing while a pool restarts.

The bucket, not Temporal, backs the registry: every worker and client already
holds S3 credentials, reads need no running workflow (so they work while a
pool is down), and an entry is an object anyone can inspect or delete.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import re
import time
import uuid
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime, timedelta

import structlog
from pydantic import BaseModel, ValidationError

from a2a_temporal.core.agent import A2AAgent, AgentCard
from a2a_temporal.settings import AgentSettings
from a2a_temporal.temporal.models import Resolution, SkillOptions
from a2a_temporal.temporal.storage import ObjectStore
from a2a_temporal.temporal.wire import REMOTE_AGENT

__all__ = [
    "REGISTRY_PREFIX",
    "AgentRegistry",
    "Registration",
    "new_worker_id",
    "registrations_for",
    "skill_options",
]

REGISTRY_PREFIX = "registry/agents/"
_CACHE_SECONDS = 2.0
_RETRY_SECONDS = 1.0
log = structlog.get_logger("a2a_temporal.registry")


class Registration(BaseModel):
    """One worker's entry for one agent."""

    card: AgentCard
    skills: dict[str, SkillOptions]
    worker: str
    registered_at: datetime
    expires_at: datetime
    remote_url: str | None = None

    def live(self, now: datetime) -> bool:
        """Whether the worker refreshed this entry recently enough."""
        return self.expires_at > now


def skill_options(
    agent: A2AAgent, skill: str, task_queue: str, settings: AgentSettings
) -> SkillOptions:
    """The scheduling options of `agent.skill` on a worker with `settings`."""
    spec = agent.skills[skill]
    timeout = spec.timeout or settings.skill_timeout
    return SkillOptions(
        task_queue=task_queue,
        retries=spec.retries,
        timeout_seconds=timeout.total_seconds(),
        heartbeat_timeout_seconds=settings.heartbeat_timeout.total_seconds(),
        park_after_seconds=settings.input_park_after.total_seconds(),
        search_attributes=settings.search_attributes,
        on_divergence=spec.on_divergence,
        infra_retries=settings.infra_retries,
        infra_backoff_seconds=settings.infra_backoff.total_seconds(),
        continue_as_new_after=settings.continue_as_new_after,
        max_delegation_depth=settings.max_delegation_depth,
    )


def registrations_for(
    agents: Iterable[A2AAgent], task_queue: str, settings: AgentSettings, worker: str
) -> list[Registration]:
    """The entries a worker on `task_queue` publishes for `agents`."""
    now = datetime.now(UTC)
    return [
        Registration(
            card=agent.card(task_queue),
            skills={
                name: skill_options(agent, name, task_queue, settings) for name in agent.skills
            },
            worker=worker,
            registered_at=now,
            expires_at=now + settings.registry_ttl,
        )
        for agent in agents
    ]


class AgentRegistry:
    """Reads and writes registry entries in the bucket; reads are cached for two seconds.

    Args:
        store: The bucket.
        ttl: How long an entry stays live without a refresh.
    """

    def __init__(self, store: ObjectStore, ttl: timedelta) -> None:
        self._store = store
        self._ttl = ttl
        self._cache: tuple[float, list[Registration]] | None = None
        self._lock = asyncio.Lock()

    async def entries(self, *, fresh: bool = False) -> list[Registration]:
        """Every entry, expired ones included, newest registration first."""
        async with self._lock:
            cached = self._cache
            if not fresh and cached is not None and time.monotonic() - cached[0] < _CACHE_SECONDS:
                return cached[1]
            found = []
            for key, _, _ in await self._store.list(REGISTRY_PREFIX):
                with contextlib.suppress(FileNotFoundError):
                    data = await self._store.get(key)
                    try:
                        found.append(Registration.model_validate_json(data))
                    except ValidationError:
                        log.warning("skipping an unreadable registry entry", key=key)
            found.sort(key=lambda entry: entry.registered_at, reverse=True)
            self._cache = (time.monotonic(), found)
            return found

    async def live_cards(self) -> list[AgentCard]:
        """Cards of agents with a live entry, one per agent (the newest), sorted by name."""
        now = datetime.now(UTC)
        cards: dict[str, AgentCard] = {}
        for entry in await self.entries():
            if entry.live(now):
                cards.setdefault(entry.card.name, entry.card)
        return [cards[name] for name in sorted(cards)]

    async def resolve(self, agent: str, skill: str, prefer_queue: str | None = None) -> Resolution:
        """How to run `agent.skill`, or why it cannot run (naming what is registered)."""
        entry = self._pick(await self.entries(), agent, prefer_queue)
        if entry is None:
            entry = self._pick(await self.entries(fresh=True), agent, prefer_queue)
        if entry is None:
            known = sorted(
                {e.card.name for e in await self.entries() if e.card.name != REMOTE_AGENT}
            )
            return Resolution(
                error=f"unknown agent {agent!r} (agents: {', '.join(known) or 'none'})"
            )
        if entry.remote_url is not None:
            return Resolution(remote_url=entry.remote_url)
        options = entry.skills.get(skill)
        if options is None:
            have = ", ".join(sorted(entry.skills)) or "none"
            return Resolution(error=f"agent {agent!r} has no skill {skill!r} (skills: {have})")
        return Resolution(options=options)

    @staticmethod
    def _pick(
        entries: list[Registration], agent: str, prefer_queue: str | None
    ) -> Registration | None:
        now = datetime.now(UTC)
        mine = [e for e in entries if e.card.name == agent]
        live = [e for e in mine if e.live(now)]
        preferred = [e for e in live if e.card.task_queue == prefer_queue]
        return next(iter(preferred or live or mine), None)

    async def register_remote(self, url: str, card: AgentCard) -> Registration:
        """Register a remote A2A agent by URL (until `forget`); calls by its name go to it."""
        now = datetime.now(UTC)
        entry = Registration(
            card=card,
            skills={},
            worker=f"remote.{hashlib.sha256(url.encode()).hexdigest()[:12]}",
            registered_at=now,
            expires_at=datetime.max.replace(tzinfo=UTC),
            remote_url=url,
        )
        stale = [e for e in await self.entries(fresh=True) if e.card.name == card.name]
        await self.withdraw(stale)
        await self.publish([entry])
        return entry

    async def forget(self, name: str) -> int:
        """Remove every entry of agent `name`; return how many there were."""
        entries = [e for e in await self.entries(fresh=True) if e.card.name == name]
        await self.withdraw(entries)
        return len(entries)

    async def publish(self, entries: list[Registration]) -> None:
        """Write (or refresh) entries."""
        for entry in entries:
            await self._store.put_bytes(
                _key(entry), entry.model_dump_json().encode(), "application/json"
            )
        self._cache = None

    async def withdraw(self, entries: list[Registration]) -> None:
        """Remove entries (a worker stopping)."""
        for entry in entries:
            with contextlib.suppress(FileNotFoundError):
                await self._store.delete(_key(entry))
        self._cache = None

    @contextlib.asynccontextmanager
    async def kept_fresh(self, entries: list[Registration]) -> AsyncIterator[None]:
        """Publish `entries` now and every third of the TTL until exit, then withdraw them.

        Publishing happens in the background: a worker starts polling even while
        the bucket is unreachable, and its entries appear once it is back.
        """
        refresher = asyncio.create_task(self._keep_fresh(entries))
        try:
            yield
        finally:
            refresher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await refresher
            try:
                await self.withdraw(entries)
            except Exception as exc:  # the entries expire on their own
                log.warning("registry withdraw failed", error=str(exc))

    async def _keep_fresh(self, entries: list[Registration]) -> None:
        interval = self._ttl.total_seconds() / 3
        while True:
            expires = datetime.now(UTC) + self._ttl
            entries[:] = [e.model_copy(update={"expires_at": expires}) for e in entries]
            try:
                await self.publish(entries)
            except Exception as exc:  # the bucket may be briefly down; try again soon
                log.warning("registry publish failed", error=str(exc))
                await asyncio.sleep(min(interval, _RETRY_SECONDS))
                continue
            await asyncio.sleep(interval)


def _key(entry: Registration) -> str:
    return f"{REGISTRY_PREFIX}{entry.card.name}/{entry.worker}.json"


def new_worker_id(task_queue: str) -> str:
    """A readable, unique id for one worker's registry entries."""
    return f"{re.sub(r'[^A-Za-z0-9_.-]', '_', task_queue)}.{uuid.uuid4().hex[:12]}"
