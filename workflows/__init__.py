"""Temporal workflow definitions only: deterministic and sandbox-safe."""

from workflows.pipeline import PipelineWorkflow
from workflows.skill_run import SkillRunWorkflow

__all__ = ["PipelineWorkflow", "SkillRunWorkflow"]
