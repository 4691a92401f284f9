"""Imports point one way: each subsystem imports only those below it, with no cycles.

Layers, bottom first (a module may import its own layer and the ones before):

    base        a2a_temporal.errors, a2a_temporal._extras, a2a_temporal._process
    core        a2a_temporal.core
    shared      a2a_temporal.settings, a2a_temporal.trust, a2a_temporal.sandbox
    runtime     a2a_temporal.temporal, a2a_temporal.workflows (pure modules only)
    protocol    a2a_temporal.protocol
    worker      a2a_temporal.activities, a2a_temporal.worker
    top         a2a_temporal.cli, a2a_temporal.testing, a2a_temporal (the lazy public API)

Imports under `if TYPE_CHECKING:` are for the type checker only and are not
counted; imports inside functions are.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from a2a_temporal.testing import DevStack
from a2a_temporal.workflows import PURE_MODULES

REPO = Path(__file__).resolve().parent.parent
LAYERS = ["base", "core", "shared", "runtime", "protocol", "worker", "top"]
IO_LIBRARIES = {"httpx", "minio", "structlog", "requests", "urllib3", "socket", "subprocess"}
WORKFLOW_STDLIB = {
    "__future__",
    "asyncio",
    "builtins",
    "contextlib",
    "dataclasses",
    "datetime",
    "typing",
    "re",
    "collections",
    "abc",
}


def module_files() -> dict[str, Path]:
    """Every module of the package, by dotted name (workflows/ and activities/ included)."""
    found: dict[str, Path] = {}
    roots = {
        "a2a_temporal": REPO / "a2a_temporal",
        "a2a_temporal.workflows": REPO / "workflows",
        "a2a_temporal.activities": REPO / "activities",
    }
    for prefix, root in roots.items():
        for path in root.rglob("*.py"):
            relative = path.relative_to(root).with_suffix("")
            if relative.parts[0] in ("workflows", "activities") and prefix == "a2a_temporal":
                continue  # symlinks to the top-level folders, counted under their own prefix
            parts = [p for p in relative.parts if p != "__init__"]
            found[".".join([prefix, *parts])] = path
    return found


MODULES = module_files()


def imported(path: Path) -> Iterator[str]:
    """Modules `path` imports at run time (anywhere but under `if TYPE_CHECKING:`)."""
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING":
            node.body = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                yield candidate if candidate in MODULES else node.module


def ours(name: str) -> bool:
    return name == "a2a_temporal" or name.startswith("a2a_temporal.")


GRAPH = {
    module: sorted({name for name in imported(path) if ours(name) and name != module})
    for module, path in MODULES.items()
}


def layer(module: str) -> str:
    if module in ("a2a_temporal", "a2a_temporal.testing") or module.startswith("a2a_temporal.cli"):
        return "top"
    if module.startswith(("a2a_temporal.activities", "a2a_temporal.worker")):
        return "worker"
    if module.startswith("a2a_temporal.protocol"):
        return "protocol"
    if module.startswith(("a2a_temporal.temporal", "a2a_temporal.workflows")):
        return "runtime"
    if module.startswith(("a2a_temporal.settings", "a2a_temporal.trust", "a2a_temporal.sandbox")):
        return "shared"
    if module.startswith("a2a_temporal.core"):
        return "core"
    return "base"


def test_every_module_is_in_a_layer_and_the_base_is_what_the_docstring_says() -> None:
    base = sorted(module for module in MODULES if layer(module) == "base")
    assert base == ["a2a_temporal._extras", "a2a_temporal._process", "a2a_temporal.errors"]


def test_each_module_imports_only_its_own_layer_and_those_below() -> None:
    wrong = [
        f"{module} ({layer(module)}) imports {name} ({layer(name)})"
        for module, names in GRAPH.items()
        for name in names
        if LAYERS.index(layer(name)) > LAYERS.index(layer(module))
    ]
    assert wrong == []


def test_the_core_imports_no_runtime_protocol_sandbox_trust_or_cli_module() -> None:
    for module, names in GRAPH.items():
        if module.startswith("a2a_temporal.core"):
            for name in names:
                assert name.startswith("a2a_temporal.core") or name == "a2a_temporal.errors", (
                    f"{module} imports {name}"
                )


def test_trust_and_the_sandbox_do_not_import_each_other() -> None:
    for module, names in GRAPH.items():
        for mine, other in (("trust", "sandbox"), ("sandbox", "trust")):
            if module.startswith(f"a2a_temporal.{mine}"):
                assert not any(n.startswith(f"a2a_temporal.{other}") for n in names), module


def test_there_are_no_import_cycles() -> None:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in GRAPH.get(node, []):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in sorted(GRAPH):
        if module not in index:
            visit(module)
    assert cycles == []


def test_workflow_modules_import_only_pure_modules_and_deterministic_libraries() -> None:
    for module, path in MODULES.items():
        if not module.startswith("a2a_temporal.workflows."):
            continue
        for name in imported(path):
            if ours(name):
                allowed = name in PURE_MODULES or name.startswith("a2a_temporal.workflows")
                assert allowed, f"{module} imports {name}, which is not pure"
            else:
                root = name.split(".")[0]
                assert root in WORKFLOW_STDLIB | {"temporalio", "pydantic"}, (
                    f"{module} imports {name}"
                )


def test_pure_modules_import_only_pure_modules_and_no_io_library() -> None:
    for module in PURE_MODULES:
        for name in imported(MODULES[module]):
            assert name.split(".")[0] not in IO_LIBRARIES, f"{module} imports {name}"
            if ours(name):
                assert name in PURE_MODULES, f"{module} imports {name}, which is not pure"


def test_the_workflow_lint_rule_bans_every_module_workflow_code_may_not_import() -> None:
    config = tomllib.loads((REPO / "workflows" / "ruff.toml").read_text())
    banned = set(config["lint"]["flake8-tidy-imports"]["banned-api"])
    impure = {
        module
        for module, path in MODULES.items()
        if module not in PURE_MODULES
        and path.name != "__init__.py"
        and not module.startswith("a2a_temporal.workflows")
    }
    missing = sorted(impure - banned)
    stale = sorted(name for name in banned if ours(name) and name not in impure)
    assert (missing, stale) == ([], []), "update workflows/ruff.toml: add missing, drop stale"
    assert IO_LIBRARIES - {"socket", "subprocess", "urllib3"} <= banned


CLIENT_ONLY = """
import asyncio, json, sys
from temporalio.client import Client
import a2a_temporal

async def main():
    settings = a2a_temporal.AgentSettings.from_env()
    temporal = await Client.connect(
        settings.temporal_address, plugins=[a2a_temporal.AgentPlugin([], settings)]
    )
    client = a2a_temporal.TemporalA2AClient(temporal)
    handle = await client.start("nobody", "anything", args={"x": 1})
    await temporal.get_workflow_handle(handle.task_id).terminate("layering test")
    print(json.dumps(sorted(m for m in sys.modules if m.startswith("a2a_temporal"))))

asyncio.run(main())
"""


async def test_a_client_that_only_starts_tasks_loads_no_worker_sandbox_gateway_or_cli(
    stack: DevStack,
) -> None:
    env = {**os.environ, **stack.environment()}
    done = subprocess.run(  # noqa: ASYNC221 - the stack runs in other processes
        [sys.executable, "-c", CLIENT_ONLY],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    loaded = [line for line in done.stdout.splitlines() if line.startswith("[")][-1]
    forbidden = (
        "a2a_temporal.sandbox",
        "a2a_temporal.activities",
        "a2a_temporal.workflows",
        "a2a_temporal.protocol",
        "a2a_temporal.cli",
        "a2a_temporal.worker.run",
    )
    leaked = [name for name in json.loads(loaded) if name.startswith(forbidden)]
    assert leaked == []


PACKAGES = sorted(module for module, path in MODULES.items() if path.name == "__init__.py")


@pytest.mark.parametrize("package", PACKAGES)
def test_every_package_says_what_lives_there_and_what_it_may_import(package: str) -> None:
    doc = ast.get_docstring(ast.parse(MODULES[package].read_text())) or ""
    assert len(doc.split()) >= 12, f"{package} needs a docstring saying what lives there"
    if package != "a2a_temporal":
        assert "import" in doc, f"{package}'s docstring should say what it may import"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_is_over_500_lines(module: str) -> None:
    lines = len(MODULES[module].read_text().splitlines())
    assert lines <= 500, f"{module} has {lines} lines; split it by what its parts do"


def test_the_package_is_typed() -> None:
    assert (REPO / "a2a_temporal" / "py.typed").exists()


def test_workflow_modules_pass_the_package_through_the_sandbox() -> None:
    """Imported outside `imports_passed_through`, a module re-runs for every workflow run.

    That cost about 50 ms per task when the workflow's helpers were imported so.
    """
    for module, path in MODULES.items():
        if not module.startswith("a2a_temporal.workflows."):
            continue
        tree = ast.parse(path.read_text())
        for node in tree.body:
            if isinstance(node, ast.ImportFrom) and node.module and ours(node.module):
                raise AssertionError(f"{module} imports {node.module} outside the passthrough")


def test_workflow_modules_hold_no_state_the_runs_could_share() -> None:
    """The plugin passes `a2a_temporal.workflows` through the sandbox, so runs share its modules.

    Safe only while they keep no mutable module state: no module-level list, dict
    or set, and no `global` rebinding.
    """
    mutable = (ast.List, ast.Dict, ast.Set, ast.ListComp, ast.DictComp, ast.SetComp)
    for module, path in MODULES.items():
        if not module.startswith("a2a_temporal.workflows"):
            continue
        tree = ast.parse(path.read_text())
        for node in tree.body:
            if not isinstance(node, ast.Assign | ast.AnnAssign) or "__all__" in ast.unparse(node):
                continue
            assert not isinstance(node.value, mutable), f"{module}:{node.lineno} is mutable state"
        rebinds = [found for found in ast.walk(tree) if isinstance(found, ast.Global)]
        assert not rebinds, f"{module}:{rebinds[0].lineno} rebinds a global"
