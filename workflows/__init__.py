"""Temporal workflow definitions only: deterministic and sandbox-safe.

Installed as `a2a_temporal.workflows`. Import the workflow modules directly
(`a2a_temporal.workflows.skill_run`); this package imports nothing. Workflow
modules may import only `temporalio`, pydantic, deterministic parts of the
standard library and the modules below.

`PURE_MODULES` is the one list of this package's modules that workflow code
may import: they do no I/O and decide nothing from process memory. The
plugin passes them, `PASSTHROUGH_LIBRARIES` and this package itself through
the workflow sandbox, so runs share one import of each instead of
re-executing them for every run (that re-import was half a trivial task's
worker CPU). Runs can share these modules because they hold no mutable
state. `tests/test_layering.py` checks that workflow code imports nothing
else, keeps no module-level list, dict or set and rebinds no global, and
that `workflows/ruff.toml` bans every other module of the package.
"""

PURE_MODULES = (
    "a2a_temporal.core.answers",
    "a2a_temporal.core.auth",
    "a2a_temporal.core.describe",
    "a2a_temporal.core.names",
    "a2a_temporal.core.types",
    "a2a_temporal.errors",
    "a2a_temporal.temporal.attributes",
    "a2a_temporal.temporal.journal",
    "a2a_temporal.temporal.metrics",
    "a2a_temporal.temporal.models",
    "a2a_temporal.temporal.outcomes",
    "a2a_temporal.temporal.pipeline",
    "a2a_temporal.temporal.wire",
    "a2a_temporal.trust.claims",
)

PASSTHROUGH_LIBRARIES = (
    "annotated_types",
    "attr",
    "attrs",
    "jsonschema",
    "jsonschema_specifications",
    "pydantic",
    "pydantic_core",
    "referencing",
    "rpds",
    "yaml",
)
