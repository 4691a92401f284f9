"""Which agents and skills this process hosts, and on which task queues.

Pure and shared with the workflow sandbox (a pass-through module): the plugin
fills it, `SkillRunWorkflow` reads it to find a skill's retry policy and a
callee's task queue. Decisions depend on the agent and skill only, never on
the task queue, so a `Replayer` built with the same plugin replays them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from a2a_temporal.agent import A2AAgent

__all__ = [
    "SkillOptions",
    "register",
    "skill_options",
    "task_queue_of",
    "uses_search_attributes",
]


@dataclass(frozen=True)
class SkillOptions:
    """What the workflow needs to schedule a skill's activity."""

    retries: int
    timeout: timedelta
    heartbeat_timeout: timedelta
    search_attributes: bool
    park_after: timedelta


_skills: dict[str, dict[str, SkillOptions]] = {}
_queues: dict[str, set[str]] = {}
_classes: dict[str, type[A2AAgent]] = {}


def register(
    task_queue: str,
    agents: list[A2AAgent],
    *,
    default_timeout: timedelta,
    heartbeat_timeout: timedelta,
    search_attributes: bool,
    park_after: timedelta,
) -> None:
    """Record that `task_queue` hosts `agents` in this process.

    Raises:
        ValueError: Another agent class already uses one of the names here.
    """
    for agent in agents:
        known = _classes.get(agent.name, type(agent))
        if known is not type(agent):
            raise ValueError(
                f"agent name {agent.name!r} is already used in this process by "
                f"{known.__module__}.{known.__qualname__}"
            )
    hosted = _queues.setdefault(task_queue, set())
    for agent in agents:
        hosted.add(agent.name)
        _classes[agent.name] = type(agent)
        _skills[agent.name] = {
            name: SkillOptions(
                retries=spec.retries,
                timeout=spec.timeout or default_timeout,
                heartbeat_timeout=heartbeat_timeout,
                search_attributes=search_attributes,
                park_after=park_after,
            )
            for name, spec in agent.skills.items()
        }


def skill_options(agent: str, skill: str, task_queue: str) -> SkillOptions | str:
    """Return the options of `agent.skill`, or why it cannot run (naming what exists)."""
    skills = _skills.get(agent)
    if skills is None:
        known = ", ".join(sorted(_queues.get(task_queue, ()))) or "none"
        return f"unknown agent {agent!r} (agents: {known})"
    options = skills.get(skill)
    if options is None:
        return f"agent {agent!r} has no skill {skill!r} (skills: {', '.join(sorted(skills))})"
    return options


def task_queue_of(agent: str, preferred: str) -> str | None:
    """Return the task queue hosting `agent`, `preferred` first; None if none does."""
    if agent in _queues.get(preferred, ()):
        return preferred
    return next((queue for queue, names in sorted(_queues.items()) if agent in names), None)


def uses_search_attributes() -> bool:
    """Whether any agent of this process sets the A2A search attributes."""
    return any(o.search_attributes for skills in _skills.values() for o in skills.values())
