import json
from pathlib import Path

from a2a_temporal import InMemoryA2AClient
from examples.agents import DEMO_AGENTS, RepoArgs, Summary
from examples.demo import REPO_ROOT, run_demo


async def test_demo_pipeline_runs_and_writes_real_artifacts(tmp_path: Path) -> None:
    assert await run_demo(tmp_path, auto_approve=True) == 0
    report = (tmp_path / "report.md").read_text()
    stats = json.loads((tmp_path / "stats.json").read_text())
    svg = (tmp_path / "lines.svg").read_text()
    paths = {entry["path"] for entry in stats}
    assert "a2a_temporal/core/agent.py" in paths
    assert "examples/agents.py" in paths
    lines = sum(entry["lines"] for entry in stats)
    assert report.startswith("# Repository report")
    assert f"{len(stats)} Python files, {lines} lines" in report
    assert "| a2a_temporal |" in report
    assert svg.startswith("<svg")
    assert svg.count("<rect") == 15


async def test_coordinator_fans_out_with_ctx_call_in_process() -> None:
    client = InMemoryA2AClient(DEMO_AGENTS)
    result = await client.call(
        "coordinator", "analyse_repository", args=RepoArgs(root=str(REPO_ROOT))
    )
    assert result.ok, result.error
    summary = Summary.model_validate(result.output)
    assert summary.files > 20
    assert summary.artifacts == ["report.md", "stats.json", "lines.svg"]
