"""Every Python and shell block of the README, CONTRIBUTING.md and docs/ runs as written.

Blocks run from the repository root against the session's dev stack, with a
worker for the demo agents (`examples.agents:DEMO_AGENTS`) on the default task
queue, as a reader who started `a2a-temporal dev --agents ...` would have.
See `tests/doc_snippets.py` for the comments that say more about a block.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from a2a_temporal.settings import settings_reference
from a2a_temporal.testing import DevStack
from tests.doc_snippets import DOCUMENTS, REPO, Snippet, all_snippets, snippets

SNIPPETS = all_snippets()
RUN = [s for s in SNIPPETS if s.directive != "skip"]
DEMO_AGENTS = ["planner", "analyzer", "reporter", "reviewer", "author", "code-runner"]
_EXPECTED = re.compile(r"^\s*print\(.*\)\s+#\s+(.+)$")
_LIMIT = 180.0
_TEARDOWN_CRASH = "Fatal Python error"
_TEARDOWN_SIGNALS = (-6, -7, -11)  # SIGABRT, SIGBUS, SIGSEGV


@pytest.fixture(scope="module")
async def docs_env(
    stack: DevStack, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[dict[str, str]]:
    """The environment a reader has: the stack's exports, a worker for the demo agents."""
    env = {**os.environ, **stack.environment(), "PYTHONFAULTHANDLER": "1"}
    log = tmp_path_factory.mktemp("docs") / "worker.log"
    worker = stack.worker_process("examples.agents:DEMO_AGENTS", log)
    worker.start()
    try:
        await stack.wait_for_agents(DEMO_AGENTS, stack.settings().task_queue)
        yield env
    finally:
        await worker.stop()


async def run(snippet: Snippet, env: dict[str, str]) -> tuple[int, str]:
    if snippet.language == "python":
        argv = [sys.executable, "-c", snippet.program()]
    else:
        argv = ["bash", "-euo", "pipefail", "-c", snippet.program()]
    process = await asyncio.create_subprocess_exec(
        *argv,
        cwd=REPO,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        if snippet.directive == "until":
            return await _until(process, snippet.argument)
        out, _ = await asyncio.wait_for(process.communicate(), _LIMIT)
    finally:
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            await process.wait()
    assert process.returncode is not None
    return process.returncode, out.decode()


async def _until(process: asyncio.subprocess.Process, text: str) -> tuple[int, str]:
    """Read a server's output until it shows `text`; then stop it as Ctrl-C does."""
    assert process.stdout is not None
    seen = ""
    async with asyncio.timeout(_LIMIT):
        while text not in seen:
            line = await process.stdout.readline()
            if not line:
                break
            seen += line.decode()
        os.killpg(process.pid, signal.SIGINT)
        rest, _ = await process.communicate()
    assert text in seen, f"never printed {text!r}:\n{seen}"
    return process.returncode or 0, seen + rest.decode()


@pytest.mark.parametrize("snippet", RUN, ids=[s.name for s in RUN])
async def test_the_block_runs_as_written(snippet: Snippet, docs_env: dict[str, str]) -> None:
    code, out = await run(snippet, docs_env)
    for _ in range(2):
        if code not in _TEARDOWN_SIGNALS or _TEARDOWN_CRASH not in out:
            break
        # temporalio/sdk-python#300: a client-only script can crash in interpreter
        # teardown, after its last line ran (its Rust threads outlive Python), with
        # an abort, a bus error or a segfault. Not the snippet's doing; run it again.
        code, out = await run(snippet, docs_env)
    expected = int(snippet.argument) if snippet.directive == "expect-exit" else 0
    assert code == expected, f"{snippet.name} ended {code}:\n{out[-4000:]}"
    for line in snippet.code.splitlines():
        match = _EXPECTED.match(line)
        if match:
            assert match.group(1) in out, (
                f"{snippet.name}: no {match.group(1)!r} in:\n{out[-2000:]}"
            )


def test_every_skipped_block_says_why() -> None:
    for snippet in SNIPPETS:
        if snippet.directive == "skip":
            assert len(snippet.argument.split()) >= 4, f"{snippet.name}: say why it is not run"


def test_every_directive_is_known() -> None:
    known = {"", "continues", "until", "expect-exit", "skip"}
    for path in DOCUMENTS:
        for snippet in snippets(path):
            assert snippet.directive in known, f"{snippet.name}: {snippet.directive!r}"


def test_the_settings_table_is_generated_from_the_settings() -> None:
    text = (REPO / "docs" / "settings.md").read_text()
    table = re.search(r"<!-- settings-table -->\n(.*?)<!-- /settings-table -->", text, re.S)
    assert table is not None
    assert table.group(1) == settings_reference(), (
        "docs/settings.md is stale: replace its table with `a2a-temporal settings`"
    )


def test_the_readme_starts_with_the_two_commands_and_stays_short() -> None:
    lines = (REPO / "README.md").read_text().splitlines()
    assert len(lines) <= 300, f"the README has {len(lines)} lines"
    [first] = [s for s in snippets(REPO / "README.md")][:1]
    commands = first.code.splitlines()
    assert len(commands) == 2
    assert "examples.demo" in commands[0] and "pytest" in commands[1]


def test_every_document_is_linked_from_the_readme() -> None:
    readme = (REPO / "README.md").read_text()
    for path in DOCUMENTS[1:]:
        assert str(path.relative_to(REPO)) in readme, f"the README does not link {path.name}"


def test_relative_links_in_the_docs_point_at_files() -> None:
    link = re.compile(r"\]\(([^)#:]+)(#[^)]*)?\)")
    for path in DOCUMENTS:
        for target, _ in link.findall(path.read_text()):
            assert (path.parent / target).exists(), f"{path.name} links {target}, which is missing"


def test_the_docs_pipeline_is_the_example_file() -> None:
    import yaml

    [block] = [s for s in snippets(REPO / "docs" / "pipelines.md") if s.language == "yaml"]
    shown = yaml.safe_load(block.code)
    assert shown == yaml.safe_load(Path(REPO / "examples" / "repo_analysis.yaml").read_text())
