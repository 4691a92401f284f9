"""The pipeline spec: parsing, references and validation (pure logic)."""

import json
from pathlib import Path

import pytest

from a2a_temporal import Pipeline, PipelineError
from a2a_temporal.temporal.pipeline import dependencies, resolve, validate


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


def _chain(length: int, reverse: bool) -> list[dict[str, object]]:
    order = range(length) if not reverse else reversed(range(length))
    return [
        {
            "id": f"s{i}",
            "agent": "a",
            "skill": "b",
            "depends_on": [f"s{i + 1}"] if i + 1 < length else [],
        }
        for i in order
    ]


def test_long_chains_validate_without_recursion() -> None:
    for reverse in (False, True):
        pipeline = Pipeline.parse({"steps": _chain(5_000, reverse)})
        assert validate(pipeline, lambda agent, skill: None) == []
    looped = _chain(1_200, reverse=True)
    looped[0]["depends_on"] = ["s0"]  # s1199, listed first, closes the loop
    [problem] = validate(Pipeline.parse({"steps": looped}), lambda agent, skill: None)
    assert problem.startswith("dependency cycle: s1199 -> s0 -> s1 -> ")
    assert "... (1190 more)" in problem


def test_specs_beyond_the_limits_are_refused(tmp_path: Path) -> None:
    with pytest.raises(PipelineError, match="has 10001 steps; the limit is 10000"):
        Pipeline.parse({"steps": _chain(10_001, reverse=False)})
    with pytest.raises(PipelineError, match="step id 'artifacts' is reserved"):
        problems = validate(
            Pipeline.parse({"steps": [{"id": "artifacts", "agent": "a", "skill": "b"}]}),
            lambda agent, skill: None,
        )
        raise PipelineError("; ".join(problems))


def test_yaml_aliases_are_refused(tmp_path: Path) -> None:
    laughs = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for level in range(1, 10):
        refs = ", ".join([f"*{chr(96 + level)}"] * 9)
        laughs.append(f"{chr(97 + level)}: &{chr(97 + level)} [{refs}]")
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(
        "\n".join(laughs) + "\nname: bomb\nsteps:\n  - {id: x, agent: a, skill: b, args: {v: *j}}\n"
    )
    with pytest.raises(PipelineError, match=r"uses a YAML alias \(\*a\)"):
        Pipeline.load(bomb)
    big = tmp_path / "big.json"
    big.write_text(" " * (4 * 1024 * 1024 + 1))
    with pytest.raises(PipelineError, match="the limit is 4194304"):
        Pipeline.load(big)
