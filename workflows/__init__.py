"""Temporal workflow definitions only: deterministic and sandbox-safe."""

from workflows.skill_run import SkillRunWorkflow

__all__ = ["SkillRunWorkflow"]
