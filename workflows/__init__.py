"""Temporal workflow definitions only: deterministic and sandbox-safe.

Installed as `a2a_temporal.workflows`. Import the workflow modules directly
(`a2a_temporal.workflows.skill_run`); this package imports nothing, so the
sandbox, which re-imports workflow code for every run, stays fast.
"""
