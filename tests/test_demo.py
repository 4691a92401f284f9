import json
from pathlib import Path

from examples.demo import run_demo


async def test_demo_runs_and_writes_real_artifacts(tmp_path: Path) -> None:
    assert await run_demo(tmp_path) == 0
    report = (tmp_path / "report.md").read_text()
    stats = json.loads((tmp_path / "stats.json").read_text())
    svg = (tmp_path / "lines.svg").read_text()
    paths = {entry["path"] for entry in stats}
    assert "a2a_temporal/agent.py" in paths
    assert "examples/agents.py" in paths
    assert report.startswith("# Repository report")
    assert f"{len(stats)} Python files" in report
    assert "| a2a_temporal |" in report
    assert svg.startswith("<svg") and "<rect" in svg
