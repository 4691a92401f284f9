"""The pipeline spec: parsing, references and validation (pure logic)."""

import json
from pathlib import Path

import pytest

from a2a_temporal import Pipeline, PipelineError
from a2a_temporal.pipeline import dependencies, resolve, validate


def spec(*steps: dict[str, object]) -> Pipeline:
    return Pipeline.parse({"name": "p", "steps": list(steps)})


def test_references_resolve_whole_values_and_inside_text() -> None:
    outputs = {"fetch": {"body": "hello", "items": [1, 2, 3]}}
    assert resolve("${steps.fetch.output.items}", outputs) == [1, 2, 3]
    assert resolve("${steps.fetch.output.items.-1}", outputs) == 3
    assert resolve({"t": "say ${steps.fetch.output.body}!"}, outputs) == {"t": "say hello!"}
    assert resolve(["${item.x}", "${index}"], {}, item={"x": 7}, index=2) == [7, 2]
    with pytest.raises(PipelineError, match="no 'missing'"):
        resolve("${steps.fetch.output.missing}", outputs)
    with pytest.raises(PipelineError, match="step 'other' has no output"):
        resolve("${steps.other.output}", outputs)


def test_dependencies_come_from_references_and_depends_on() -> None:
    pipeline = spec(
        {"id": "a", "agent": "x", "skill": "y"},
        {"id": "b", "agent": "x", "skill": "y", "depends_on": ["a"]},
        {
            "id": "c",
            "agent": "x",
            "skill": "y",
            "args": {"v": "${steps.b.output.k}"},
            "map": "${steps.a.output}",
        },
    )
    assert dependencies(pipeline.step("c")) == {"a", "b"}


def test_validation_lists_every_problem() -> None:
    pipeline = spec(
        {"id": "a", "agent": "ghost", "skill": "y", "args": {"v": "${item}"}},
        {"id": "b", "agent": "x", "skill": "y", "depends_on": ["c"]},
        {"id": "c", "agent": "x", "skill": "y", "args": {"v": "${steps.b.output}"}},
        {"id": "d", "agent": "x", "skill": "y", "depends_on": ["nowhere"], "map": "[1, 2]"},
    )
    problems = validate(pipeline, lambda a, s: "unknown agent 'ghost'" if a == "ghost" else None)
    assert problems == [
        "step 'a': ${item} is only valid in a map step",
        "step 'a': unknown agent 'ghost'",
        "step 'd': map must be one ${steps.<id>.output...}",
        "step 'd' refers to missing step 'nowhere'",
        "dependency cycle: b -> c -> b",
    ]


def test_bad_specs_name_the_fields(tmp_path: Path) -> None:
    with pytest.raises(PipelineError, match=r"steps: .*at least 1"):
        Pipeline.parse({"steps": []})
    with pytest.raises(PipelineError, match=r"steps\.0\.concurrency"):
        Pipeline.parse({"steps": [{"id": "a", "agent": "x", "skill": "y", "concurrency": 0}]})
    bad = tmp_path / "bad.yaml"
    bad.write_text("steps: [unclosed")
    with pytest.raises(PipelineError, match="does not parse"):
        Pipeline.load(bad)
    with pytest.raises(PipelineError, match="cannot read"):
        Pipeline.load(tmp_path / "missing.json")


def test_yaml_and_json_files_load_the_same(tmp_path: Path) -> None:
    data = {
        "name": "files",
        "steps": [
            {"id": "a", "agent": "x", "skill": "y", "args": {"n": 1}, "on_failure": "continue"}
        ],
    }
    (tmp_path / "p.json").write_text(json.dumps(data))
    (tmp_path / "p.yaml").write_text(
        "name: files\nsteps:\n  - id: a\n    agent: x\n    skill: y\n    args: {n: 1}\n"
        "    on_failure: continue\n"
    )
    assert Pipeline.load(tmp_path / "p.json") == Pipeline.load(tmp_path / "p.yaml")
