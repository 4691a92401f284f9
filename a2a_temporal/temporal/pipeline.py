"""Declarative pipelines: steps, their dependencies and `${...}` references between them.

Pure: `PipelineWorkflow` imports this module.

A string arg that is exactly one reference takes the referenced value as is
(a list stays a list); references inside longer strings are rendered as text.
The references are:

- `${steps.<id>.output}` or `${steps.<id>.output.<key>.<index>...}`: an earlier step's output;
- `${item}`, `${item.<key>...}` and `${index}`: the current element in a `map` step.

Referencing a step makes it a dependency; `depends_on` adds ordering without data.

Limits, checked before anything runs: at most `MAX_STEPS` steps, a spec of at
most `MAX_SPEC_BYTES` (as JSON), no YAML aliases; a `map` over more than
`MAX_MAP_ITEMS` items fails its step.
"""

from __future__ import annotations

import json
import re
from collections import Counter, deque
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, Self

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from temporalio.contrib.workflow_streams import WorkflowStreamState

from a2a_temporal.core.names import RESERVED_SEGMENT
from a2a_temporal.core.types import (
    ArtifactRef,
    Budget,
    CallResult,
    RunStatus,
    StepStatus,
    Usage,
)
from a2a_temporal.errors import PipelineError
from a2a_temporal.temporal.models import SkillOptions

__all__ = [
    "MAX_MAP_ITEMS",
    "MAX_SPEC_BYTES",
    "MAX_STEPS",
    "Pipeline",
    "PipelineInput",
    "PipelineState",
    "Step",
    "StepFailure",
    "StepState",
    "dependencies",
    "resolve",
    "validate",
]

MAX_STEPS = 10_000
MAX_MAP_ITEMS = 10_000
MAX_SPEC_BYTES = 4 * 1024 * 1024
_SHOWN_CYCLE = 12

_REFERENCE = re.compile(r"\$\{([^}]*)\}")
_ID = r"^[A-Za-z0-9][A-Za-z0-9_-]*$"
StepFailure = Literal["fail", "continue"]


class Step(BaseModel):
    """One step: run `agent.skill` with `args` (once, or once per item of `map`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=_ID)
    agent: str
    skill: str
    args: dict[str, Any] = Field(default_factory=dict)
    depends_on: tuple[str, ...] = ()
    map: str | None = Field(default=None, description="a `${...}` reference to a list")
    concurrency: int = Field(default=10, ge=1, le=1000)
    timeout: float | None = Field(default=None, gt=0, description="seconds per task")
    retries: int = Field(default=0, ge=0, le=20, description="re-runs of a failed task")
    on_failure: StepFailure = "fail"


class Pipeline(BaseModel):
    """A named DAG of steps."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(default="pipeline", pattern=_ID)
    steps: tuple[Step, ...] = Field(min_length=1)
    budget: Budget | None = Field(
        default=None, description="what all the steps' tasks may spend together"
    )

    @classmethod
    def load(cls, path: str | Path) -> Self:
        """Load a pipeline from a `.json`, `.yaml` or `.yml` file.

        Raises:
            PipelineError: The file does not parse, uses YAML aliases, is larger
                than the limits or does not fit the schema.
        """
        file = Path(path)
        try:
            size = file.stat().st_size
            if size > MAX_SPEC_BYTES:
                raise PipelineError(f"{file} is {size} bytes; the limit is {MAX_SPEC_BYTES}")
            text = file.read_text()
        except OSError as exc:
            raise PipelineError(f"cannot read {file}: {exc.strerror}") from None
        try:
            if file.suffix in (".yaml", ".yml"):
                data = _load_yaml(text, str(file))
            else:
                data = json.loads(text)
        except (ValueError, yaml.YAMLError, RecursionError) as exc:
            raise PipelineError(f"{file} does not parse: {exc}") from None
        return cls.parse(data, source=str(file))

    @classmethod
    def parse(cls, data: Any, source: str = "pipeline") -> Self:
        """Validate plain data as a pipeline; `PipelineError` lists every bad field."""
        steps = data.get("steps") if isinstance(data, Mapping) else None
        if isinstance(steps, list) and len(steps) > MAX_STEPS:
            raise PipelineError(f"{source} has {len(steps)} steps; the limit is {MAX_STEPS}")
        try:
            pipeline = cls.model_validate(data)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or '(root)'}: {e['msg']}"
                for e in exc.errors()[:20]
            )
            raise PipelineError(f"{source} is not a valid pipeline: {problems}") from None
        except RecursionError:
            raise PipelineError(f"{source} is nested too deeply") from None
        size = len(pipeline.model_dump_json())
        if size > MAX_SPEC_BYTES:
            raise PipelineError(f"{source} is {size} bytes as JSON; the limit is {MAX_SPEC_BYTES}")
        return pipeline

    def step(self, step_id: str) -> Step:
        """Return the step called `step_id`."""
        return next(s for s in self.steps if s.id == step_id)


def _load_yaml(text: str, source: str) -> Any:
    """Parse YAML, refusing aliases (whose expansion can be made arbitrarily large)."""
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.AliasEvent):
            raise PipelineError(
                f"{source} uses a YAML alias (*{event.anchor}); aliases are not supported in "
                "pipeline specs, write the value out"
            )
    return yaml.safe_load(text)


def _references(value: Any) -> list[str]:
    if isinstance(value, str):
        return [m.group(1).strip() for m in _REFERENCE.finditer(value)]
    if isinstance(value, Mapping):
        return [ref for item in value.values() for ref in _references(item)]
    if isinstance(value, list | tuple):
        return [ref for item in value for ref in _references(item)]
    return []


def _step_of(reference: str) -> str | None:
    parts = reference.split(".")
    return parts[1] if len(parts) >= 3 and parts[0] == "steps" else None


def dependencies(step: Step) -> set[str]:
    """Return the ids of the steps `step` waits for."""
    refs = _references(step.args) + _references(step.map or "")
    return set(step.depends_on) | {s for s in map(_step_of, refs) if s is not None}


def validate(pipeline: Pipeline, check_skill: Callable[[str, str], str | None]) -> list[str]:
    """Return every problem of `pipeline` (empty when it can run).

    Args:
        pipeline: The spec.
        check_skill: Returns why `agent.skill` cannot run, or None.
    """
    problems: list[str] = [
        f"step id {step.id!r} is reserved (tasks keep their artifacts under it)"
        for step in pipeline.steps
        if step.id == RESERVED_SEGMENT
    ]
    counts = Counter(step.id for step in pipeline.steps)
    known = set(counts)
    for duplicate in sorted(i for i, n in counts.items() if n > 1):
        problems.append(f"step id {duplicate!r} is used more than once")
    for step in pipeline.steps:
        for ref in _references(step.args) + _references(step.map or ""):
            root = ref.split(".")[0]
            target = _step_of(ref)
            if root in ("item", "index"):
                if step.map is None:
                    problems.append(f"step {step.id!r}: ${{{ref}}} is only valid in a map step")
            elif target is None or ref.split(".")[2] != "output":
                problems.append(
                    f"step {step.id!r}: ${{{ref}}} is not a reference "
                    "(use ${steps.<id>.output...}, ${item} or ${index})"
                )
        if step.map is not None and not _is_single_reference(step.map):
            problems.append(f"step {step.id!r}: map must be one ${{steps.<id>.output...}}")
        for dep in sorted(dependencies(step)):
            if dep not in known:
                problems.append(f"step {step.id!r} refers to missing step {dep!r}")
            elif dep == step.id:
                problems.append(f"step {step.id!r} depends on itself")
        reason = check_skill(step.agent, step.skill)
        if reason is not None:
            problems.append(f"step {step.id!r}: {reason}")
    cycle = _find_cycle(pipeline)
    if len(cycle) > _SHOWN_CYCLE:
        cycle = [
            *cycle[: _SHOWN_CYCLE - 2],
            f"... ({len(cycle) - _SHOWN_CYCLE + 1} more)",
            cycle[-1],
        ]
    if cycle:
        problems.append("dependency cycle: " + " -> ".join(cycle))
    return problems


def _is_single_reference(text: str) -> bool:
    match = _REFERENCE.fullmatch(text.strip())
    return match is not None and _step_of(match.group(1).strip()) is not None


def _find_cycle(pipeline: Pipeline) -> list[str]:
    """Return one dependency cycle (`a -> b -> a`), or [] when there is none.

    Iterative (Kahn's algorithm, then a walk inside what is left), so a long
    chain cannot exhaust the stack.
    """
    graph = {step.id: sorted(dependencies(step)) for step in pipeline.steps}
    waiting = {node: sum(1 for dep in deps if dep in graph) for node, deps in graph.items()}
    dependents: dict[str, list[str]] = {node: [] for node in graph}
    for node, deps in graph.items():
        for dep in deps:
            if dep in graph:
                dependents[dep].append(node)
    ready = deque(node for node, count in waiting.items() if count == 0)
    while ready:
        for dependent in dependents[ready.popleft()]:
            waiting[dependent] -= 1
            if waiting[dependent] == 0:
                ready.append(dependent)
    stuck = [node for node, count in waiting.items() if count > 0]
    if not stuck:
        return []
    path: list[str] = []
    seen: dict[str, int] = {}
    node = stuck[0]
    while node not in seen:
        seen[node] = len(path)
        path.append(node)
        node = next(dep for dep in graph[node] if dep in graph and waiting[dep] > 0)
    return [*path[seen[node] :], node]


def resolve(
    value: Any, outputs: Mapping[str, Any], item: Any = None, index: int | None = None
) -> Any:
    """Replace the `${...}` references in `value` with what they point at.

    Raises:
        PipelineError: A reference points at something that does not exist.
    """
    if isinstance(value, str):
        whole = _REFERENCE.fullmatch(value)
        if whole:
            return _lookup(whole.group(1).strip(), outputs, item, index)
        return _REFERENCE.sub(
            lambda m: _as_text(_lookup(m.group(1).strip(), outputs, item, index)), value
        )
    if isinstance(value, Mapping):
        return {key: resolve(v, outputs, item, index) for key, v in value.items()}
    if isinstance(value, list | tuple):
        return [resolve(v, outputs, item, index) for v in value]
    return value


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _lookup(reference: str, outputs: Mapping[str, Any], item: Any, index: int | None) -> Any:
    parts = reference.split(".")
    if parts[0] == "index":
        return index
    if parts[0] == "item":
        current, path = item, parts[1:]
    else:
        step_id = parts[1]
        if step_id not in outputs:
            raise PipelineError(f"${{{reference}}}: step {step_id!r} has no output")
        current, path = outputs[step_id], parts[3:]
    for part in path:
        if isinstance(current, Mapping) and part in current:
            current = current[part]
        elif (
            isinstance(current, list)
            and part.lstrip("-").isdigit()
            and -len(current) <= int(part) < len(current)
        ):
            current = current[int(part)]
        else:
            raise PipelineError(f"${{{reference}}}: no {part!r} in {_as_text(current)[:80]}")
    return current


class StepState(BaseModel):
    """Where one step is: status, timings, output, tasks and artifacts."""

    status: StepStatus = "pending"
    started_at: datetime | None = None
    finished_at: datetime | None = None
    output: Any = None
    error: str | None = None
    task_ids: list[str] = Field(default_factory=list)
    artifacts: list[ArtifactRef] = Field(default_factory=list)
    items_total: int | None = None
    item_results: dict[int, CallResult] = Field(
        default_factory=dict, description="finished items of a map step, by index"
    )


class PipelineState(BaseModel):
    """Every step's state, carried across continue-as-new."""

    status: RunStatus = "running"
    error: str | None = None
    steps: dict[str, StepState] = Field(default_factory=dict)
    runs: int = Field(default=1, description="workflow runs so far (continue-as-new)")
    usage: Usage = Field(default=Usage(), description="what the steps' tasks spent")


class PipelineInput(BaseModel):
    """Input of `PipelineWorkflow` (`a2a.Pipeline`); unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")

    pipeline: Pipeline
    resolved: dict[str, SkillOptions] | None = Field(
        default=None, description="internal: each `agent.skill`'s options, carried across runs"
    )
    auth: dict[str, Any] | None = None
    identity: dict[str, Any] | None = Field(
        default=None, description="the signed envelope vouching for `auth`"
    )
    caller: str | None = None
    state: PipelineState | None = None
    stream_state: WorkflowStreamState | None = None
    continue_as_new_after: int | None = Field(
        default=None,
        gt=0,
        description="history length that triggers continue-as-new (default: "
        "when Temporal suggests it)",
    )
    max_children: int = Field(
        default=500,
        ge=1,
        le=1900,
        description="child tasks running at once, over all steps (Temporal allows 2,000)",
    )
