"""Temporal activity definitions: all I/O (S3, HTTP, secrets) happens here."""

from activities.run_skill import SkillActivities

__all__ = ["SkillActivities"]
