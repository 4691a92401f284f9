"""Workflow code imports only temporalio, pydantic and pure modules of a2a_temporal."""

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PURE = {
    "a2a_temporal",
    "a2a_temporal.agent",
    "a2a_temporal.answers",
    "a2a_temporal.auth",
    "a2a_temporal.errors",
    "a2a_temporal.models",
    "a2a_temporal.names",
    "a2a_temporal.pipeline",
    "a2a_temporal.search_attributes",
    "a2a_temporal.types",
}
ALLOWED_ROOTS = {
    "__future__",
    "asyncio",
    "builtins",
    "contextlib",
    "dataclasses",
    "datetime",
    "typing",
    "temporalio",
    "pydantic",
    "pydantic_core",
    "re",
    "inspect",
    "collections",
}
IO_LIBRARIES = {"httpx", "minio", "structlog", "requests", "urllib3", "socket", "subprocess"}


def imports(path: Path) -> set[str]:
    """Names imported at run time (imports under `if TYPE_CHECKING:` are skipped)."""
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING":
            node.body = []
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            if node.module == "a2a_temporal":
                found.update(f"a2a_temporal.{alias.name}" for alias in node.names)
    return found


def test_workflow_modules_import_only_pure_code() -> None:
    for path in sorted((REPO / "workflows").glob("*.py")):
        for name in imports(path):
            if name.startswith("a2a_temporal.workflows."):
                continue
            if name.startswith("a2a_temporal"):
                assert name in PURE, f"{path.name} imports {name}, which is not pure"
            else:
                assert name.split(".")[0] in ALLOWED_ROOTS, f"{path.name} imports {name}"


def test_pure_modules_import_no_io_library() -> None:
    for module in sorted(PURE - {"a2a_temporal"}):
        path = REPO / (module.replace(".", "/") + ".py")
        for name in imports(path):
            assert name.split(".")[0] not in IO_LIBRARIES, f"{module} imports {name}"
            if name.startswith("a2a_temporal."):
                assert name in PURE, f"{module} imports {name}, which is not pure"
