"""Demo agents: analyse this repository's own Python source, no LLM or network needed."""

from __future__ import annotations

import ast
import asyncio
import json
from pathlib import Path

from pydantic import BaseModel, Field

from a2a_temporal import A2AAgent, NoAuth, Pipeline, RunContext, skill
from examples.author import Author
from examples.code_runner import CodeRunner

PACKAGES = ("a2a_temporal", "workflows", "activities", "examples", "tests", "bench")


class RepoArgs(BaseModel):
    root: str = Field(description="Repository root to analyse")
    batch_size: int = Field(default=8, ge=1, le=100)


class Plan(BaseModel):
    batches: list[list[str]]


class Batch(BaseModel):
    root: str
    paths: list[str]


class FileStats(BaseModel):
    path: str
    lines: int
    code_lines: int
    functions: int
    classes: int
    documented: int


class BatchStats(BaseModel):
    files: list[FileStats]


class ReportArgs(BaseModel):
    batches: list[BatchStats]


class Summary(BaseModel):
    report_task: str | None = None
    files: int
    lines: int
    functions: int
    classes: int
    doc_coverage: float
    artifacts: list[str]


class Planner(A2AAgent):
    """Splits a repository's Python files into batches."""

    name = "planner"
    tags = ("demo", "planning")

    @skill
    async def plan(self, ctx: RunContext[NoAuth], args: RepoArgs) -> Plan:
        """List the Python files under the known packages, in batches."""
        paths = await asyncio.to_thread(python_files, Path(args.root))
        batches = [paths[i : i + args.batch_size] for i in range(0, len(paths), args.batch_size)]
        await ctx.emit_progress(f"{len(paths)} files in {len(batches)} batches")
        return Plan(batches=batches)


def python_files(root: Path) -> list[str]:
    """Return the sorted relative paths of the Python files under `PACKAGES`."""
    if not root.is_dir():
        raise FileNotFoundError(f"no such directory: {root}")
    return sorted(
        str(path.relative_to(root))
        for package in PACKAGES
        for path in (root / package).rglob("*.py")
    )


class Analyzer(A2AAgent):
    """Measures Python files: lines, functions, classes, docstrings."""

    name = "analyzer"
    tags = ("demo", "analysis")
    capabilities = ("python-ast",)

    @skill
    async def analyze(self, ctx: RunContext[NoAuth], args: Batch) -> BatchStats:
        """Parse each file of the batch and count what it defines."""
        files = []
        for index, path in enumerate(args.paths, start=1):
            await ctx.check_cancelled()
            source = await asyncio.to_thread((Path(args.root) / path).read_text)
            files.append(measure(path, source))
            await ctx.emit_progress(f"analysed {path}", fraction=index / len(args.paths))
        return BatchStats(files=files)


def measure(path: str, source: str) -> FileStats:
    """Count lines, definitions and documented definitions of one file."""
    tree = ast.parse(source, filename=path)
    defs = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
    ]
    lines = source.splitlines()
    return FileStats(
        path=path,
        lines=len(lines),
        code_lines=sum(1 for line in lines if line.strip() and not line.strip().startswith("#")),
        functions=sum(1 for d in defs if not isinstance(d, ast.ClassDef)),
        classes=sum(1 for d in defs if isinstance(d, ast.ClassDef)),
        documented=sum(1 for d in defs if ast.get_docstring(d)),
    )


class Reporter(A2AAgent):
    """Writes the Markdown report, the JSON data and an SVG chart."""

    name = "reporter"
    tags = ("demo", "reporting")

    @skill
    async def report(self, ctx: RunContext[NoAuth], args: ReportArgs) -> Summary:
        """Aggregate per-file stats into three artifacts."""
        files = sorted((f for batch in args.batches for f in batch.files), key=lambda f: f.path)
        defs = sum(f.functions + f.classes for f in files)
        coverage = sum(f.documented for f in files) / defs if defs else 1.0
        refs = [
            await ctx.write_artifact(
                "report.md", render_markdown(files, coverage).encode(), "text/markdown"
            ),
            await ctx.write_artifact(
                "stats.json",
                json.dumps([f.model_dump() for f in files], indent=2).encode(),
                "application/json",
            ),
            await ctx.write_artifact("lines.svg", render_svg(files).encode(), "image/svg+xml"),
        ]
        return Summary(
            files=len(files),
            lines=sum(f.lines for f in files),
            functions=sum(f.functions for f in files),
            classes=sum(f.classes for f in files),
            doc_coverage=round(coverage, 3),
            artifacts=[ref.name for ref in refs],
        )


def render_markdown(files: list[FileStats], coverage: float) -> str:
    """Render the report table, packages first, then the largest files."""
    by_package: dict[str, list[FileStats]] = {}
    for f in files:
        by_package.setdefault(f.path.split("/", 1)[0], []).append(f)
    out = [
        "# Repository report",
        "",
        f"{len(files)} Python files, {sum(f.lines for f in files)} lines, "
        f"docstring coverage {coverage:.0%}.",
        "",
        "| package | files | lines | functions | classes |",
        "|---|---:|---:|---:|---:|",
    ]
    for package, group in sorted(by_package.items()):
        out.append(
            f"| {package} | {len(group)} | {sum(f.lines for f in group)} | "
            f"{sum(f.functions for f in group)} | {sum(f.classes for f in group)} |"
        )
    out += ["", "## Largest files", ""]
    for f in sorted(files, key=lambda f: -f.lines)[:10]:
        out.append(f"- `{f.path}`: {f.lines} lines")
    return "\n".join(out) + "\n"


def render_svg(files: list[FileStats], width: int = 640, bar: int = 18) -> str:
    """Render a horizontal bar chart of lines per file for the 15 largest files."""
    top = sorted(files, key=lambda f: -f.lines)[:15]
    longest = max((f.lines for f in top), default=1)
    height = bar * len(top) + 40
    rows = []
    for i, f in enumerate(top):
        y = 30 + i * bar
        w = int((width - 260) * f.lines / longest)
        rows.append(
            f'<text x="5" y="{y + 13}" font-size="11">{f.path}</text>'
            f'<rect x="250" y="{y}" width="{w}" height="{bar - 4}" fill="#4a7bd0"/>'
            f'<text x="{255 + w}" y="{y + 13}" font-size="11">{f.lines}</text>'
        )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}">'
        '<text x="5" y="18" font-size="14" font-weight="bold">Lines per file</text>'
        + "".join(rows)
        + "</svg>\n"
    )


class Coordinator(A2AAgent):
    """Plans, fans out analysis over batches, and asks for the report."""

    name = "coordinator"
    tags = ("demo", "orchestration")

    @skill(retries=1)
    async def analyse_repository(self, ctx: RunContext[NoAuth], args: RepoArgs) -> Summary:
        """Plan batches, analyse them in parallel through `ctx.call`, then report."""
        plan = await ctx.call("planner", "plan", args=args)
        if not plan.ok:
            raise RuntimeError(f"planning failed: {plan.error}")
        batches = plan.output["batches"]
        await ctx.emit_progress(f"analysing {len(batches)} batches in parallel", fraction=0.1)
        results = await asyncio.gather(
            *(
                ctx.call("analyzer", "analyze", args=Batch(root=args.root, paths=paths))
                for paths in batches
            )
        )
        failed = [r.error for r in results if not r.ok]
        if failed:
            raise RuntimeError(f"{len(failed)} batches failed: {failed[0]}")
        batches = [r.output for r in results]
        count = sum(len(batch["files"]) for batch in batches)
        await ctx.emit_progress(f"analysed {count} files; writing the report", fraction=0.8)
        report = await ctx.call("reporter", "report", args={"batches": batches})
        if not report.ok:
            raise RuntimeError(f"reporting failed: {report.error}")
        return Summary.model_validate({**report.output, "report_task": report.task_id})


class ReviewArgs(BaseModel):
    summary: Summary


class Approval(BaseModel):
    approved: bool
    comment: str = ""


class Reviewer(A2AAgent):
    """Asks a human to approve the report before the pipeline ends."""

    name = "reviewer"
    tags = ("demo", "human-in-the-loop")

    @skill(retries=0)
    async def approve(self, ctx: RunContext[NoAuth], args: ReviewArgs) -> Approval:
        """Show the summary and wait for a human's approval (durably, on Temporal)."""
        summary = args.summary
        approval = await ctx.collect(
            Approval,
            f"Approve the report of {summary.files} files ({summary.lines} lines, docstring "
            f"coverage {summary.doc_coverage:.0%})?",
        )
        await ctx.emit_progress("approved" if approval.approved else "rejected by the reviewer")
        if not approval.approved:
            raise RuntimeError(f"the reviewer rejected the report: {approval.comment}")
        return approval


def repo_pipeline(root: str, batch_size: int = 8, concurrency: int = 4) -> Pipeline:
    """The demo pipeline: plan, analyse batches in parallel, report, then ask for approval."""
    return Pipeline.parse(
        {
            "name": "repo-analysis",
            "steps": [
                {
                    "id": "plan",
                    "agent": "planner",
                    "skill": "plan",
                    "args": {"root": root, "batch_size": batch_size},
                },
                {
                    "id": "analyze",
                    "agent": "analyzer",
                    "skill": "analyze",
                    "map": "${steps.plan.output.batches}",
                    "concurrency": concurrency,
                    "args": {"root": root, "paths": "${item}"},
                },
                {
                    "id": "report",
                    "agent": "reporter",
                    "skill": "report",
                    "args": {"batches": "${steps.analyze.output}"},
                },
                {
                    "id": "review",
                    "agent": "reviewer",
                    "skill": "approve",
                    "args": {"summary": "${steps.report.output}"},
                },
            ],
        }
    )


DEMO_AGENTS: list[A2AAgent] = [
    Planner(),
    Analyzer(),
    Reporter(),
    Coordinator(),
    Reviewer(),
    Author(),
    CodeRunner(),
]
