"""Which agents and skills each task queue of this process hosts.

Pure and shared with the workflow sandbox (a pass-through module): the plugin
fills it when a worker is built, `SkillRunWorkflow` reads it to find a skill's
retry policy and a callee's task queue.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from a2a_temporal.agent import A2AAgent

__all__ = [
    "SkillOptions",
    "clear",
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


_hosted: dict[str, dict[str, dict[str, SkillOptions]]] = {}
_with_search_attributes: set[str] = set()


def register(
    task_queue: str,
    agents: list[A2AAgent],
    *,
    default_timeout: timedelta,
    heartbeat_timeout: timedelta,
    search_attributes: bool,
) -> None:
    """Record that `task_queue` hosts `agents` in this process."""
    if search_attributes:
        _with_search_attributes.add(task_queue)
    else:
        _with_search_attributes.discard(task_queue)
    queue = _hosted.setdefault(task_queue, {})
    for agent in agents:
        queue[agent.name] = {
            name: SkillOptions(
                retries=spec.retries,
                timeout=spec.timeout or default_timeout,
                heartbeat_timeout=heartbeat_timeout,
            )
            for name, spec in agent.skills.items()
        }


def clear() -> None:
    """Forget every registration (for tests)."""
    _hosted.clear()
    _with_search_attributes.clear()


def uses_search_attributes(task_queue: str) -> bool:
    """Whether tasks on `task_queue` set the A2A search attributes."""
    return task_queue in _with_search_attributes


def skill_options(task_queue: str, agent: str, skill: str) -> SkillOptions | str:
    """Return the options of `agent.skill` on `task_queue`, or why it cannot run there."""
    agents = _hosted.get(task_queue, {})
    skills = agents.get(agent)
    if skills is None:
        known = ", ".join(sorted(agents)) or "none"
        return f"unknown agent {agent!r} (agents: {known})"
    options = skills.get(skill)
    if options is None:
        return f"agent {agent!r} has no skill {skill!r} (skills: {', '.join(sorted(skills))})"
    return options


def task_queue_of(agent: str, preferred: str) -> str | None:
    """Return the task queue hosting `agent`, `preferred` first; None if none does."""
    if agent in _hosted.get(preferred, {}):
        return preferred
    return next((queue for queue, agents in sorted(_hosted.items()) if agent in agents), None)
