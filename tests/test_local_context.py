import asyncio

import pytest

from a2a_temporal import (
    AgentEvent,
    ArtifactRef,
    CancelledByCaller,
    InMemoryWorkspace,
    LocalRunContext,
    MissingScopes,
    NoAuth,
    SandboxUnavailable,
    ScopedAuth,
)
from a2a_temporal.core._cancel import SkillTask


async def test_events_are_recorded_in_order() -> None:
    ctx: LocalRunContext[NoAuth] = LocalRunContext()
    await ctx.emit_progress("start", fraction=0.0)
    await ctx.emit_text_delta("hel")
    await ctx.emit_text_delta("lo")
    await ctx.emit_error("careful", code="E3")
    await ctx.emit_event(AgentEvent("custom", {"x": 1}))
    assert ctx.events == [
        AgentEvent("progress", {"message": "start", "fraction": 0.0}),
        AgentEvent("text_delta", {"text": "hel"}),
        AgentEvent("text_delta", {"text": "lo"}),
        AgentEvent("error", {"message": "careful", "code": "E3"}),
        AgentEvent("custom", {"x": 1}),
    ]


async def test_progress_fraction_is_validated() -> None:
    ctx: LocalRunContext[NoAuth] = LocalRunContext()
    with pytest.raises(ValueError, match="between 0 and 1"):
        await ctx.emit_progress("x", fraction=1.5)
    assert ctx.events == []


async def test_write_artifact_stores_bytes_and_emits_event() -> None:
    ctx: LocalRunContext[NoAuth] = LocalRunContext(task_id="t1")
    ref = await ctx.write_artifact("out/report.md", b"# hi", "text/markdown")
    assert ref == ArtifactRef("out/report.md", "memory://t1/out/report.md", "text/markdown", 4)
    assert ctx.artifacts == {"out/report.md": b"# hi"}
    assert ctx.events == [
        AgentEvent(
            "artifact",
            {
                "name": "out/report.md",
                "uri": "memory://t1/out/report.md",
                "mime_type": "text/markdown",
                "size_bytes": 4,
            },
        )
    ]
    again = await ctx.write_artifact("out/report.md", b"# hello", "text/markdown")
    assert ctx.artifact_refs == (again,)
    assert ctx.artifacts["out/report.md"] == b"# hello"


@pytest.mark.parametrize("name", ["../x", "/etc/passwd", "a/../b", "a\x00b", "a\nb", "", "a//b"])
async def test_bad_artifact_names_are_refused(name: str) -> None:
    ctx: LocalRunContext[NoAuth] = LocalRunContext()
    with pytest.raises(ValueError, match="artifact name"):
        await ctx.write_artifact(name, b"x")
    assert ctx.artifacts == {}
    assert ctx.events == []


async def test_cancel_makes_check_and_emits_raise() -> None:
    ctx: LocalRunContext[NoAuth] = LocalRunContext(task_id="t2")
    await ctx.check_cancelled()
    ctx.cancel()
    assert ctx.cancelled
    with pytest.raises(CancelledByCaller, match="t2"):
        await ctx.check_cancelled()
    with pytest.raises(CancelledByCaller):
        await ctx.emit_progress("late")
    with pytest.raises(CancelledByCaller):
        await ctx.write_artifact("late.txt", b"x")
    with pytest.raises(CancelledByCaller):
        await ctx.call("anyone", "anything")
    assert ctx.events == []


async def test_cancel_interrupts_a_bound_handler_with_cancelled_by_caller() -> None:
    ctx: LocalRunContext[NoAuth] = LocalRunContext(task_id="t3")
    runner = SkillTask(asyncio.sleep(30), name="t3")
    ctx.bind(runner)
    await asyncio.sleep(0)
    ctx.cancel()
    with pytest.raises(CancelledByCaller, match="t3 was cancelled"):
        await runner.task


def test_cancelled_by_caller_is_not_an_exception() -> None:
    assert not issubclass(CancelledByCaller, Exception)
    assert issubclass(CancelledByCaller, asyncio.CancelledError)


def test_secret_lookup_and_missing_secret() -> None:
    ctx: LocalRunContext[NoAuth] = LocalRunContext(secrets={"API_KEY": "s3cr3t"})
    assert ctx.secret("API_KEY") == "s3cr3t"
    with pytest.raises(KeyError, match="'OTHER' is not configured"):
        ctx.secret("OTHER")


def test_require_scopes() -> None:
    anon: LocalRunContext[NoAuth] = LocalRunContext()
    anon.require_scopes([])
    with pytest.raises(MissingScopes) as info:
        anon.require_scopes(["b", "a"])
    assert info.value.missing == ("a", "b")
    scoped = LocalRunContext(auth=ScopedAuth(subject="ann", scopes=("a", "c")))
    scoped.require_scopes(["a"])
    scoped.require_scopes(("a", "c"))
    scoped.require_scopes("a")
    with pytest.raises(MissingScopes) as info:
        scoped.require_scopes(["a", "b", "c", "d"])
    assert info.value.missing == ("b", "d")
    assert "b, d" in str(info.value)


async def test_workspace_requires_declared_access() -> None:
    ctx: LocalRunContext[NoAuth] = LocalRunContext()
    with pytest.raises(PermissionError, match="did not declare workspace access"):
        _ = ctx.workspace
    reader: LocalRunContext[NoAuth] = LocalRunContext(
        workspace_access="read", workspace=InMemoryWorkspace({"a.txt": b"A"}, read_only=True)
    )
    assert await reader.workspace.read("a.txt") == b"A"
    with pytest.raises(PermissionError, match="read-only"):
        await reader.workspace.write("b.txt", b"B")
    writer: LocalRunContext[NoAuth] = LocalRunContext(workspace=InMemoryWorkspace())
    await writer.workspace.write("dir/b.txt", b"B")
    assert await writer.workspace.list("dir/") == ["dir/b.txt"]
    await writer.workspace.delete("dir/b.txt")
    with pytest.raises(FileNotFoundError, match=r"dir/b\.txt"):
        await writer.workspace.read("dir/b.txt")
    with pytest.raises(ValueError, match="workspace path"):
        await writer.workspace.write("../escape", b"x")


def test_sandbox_unavailable_and_no_client() -> None:
    ctx: LocalRunContext[NoAuth] = LocalRunContext()
    with pytest.raises(SandboxUnavailable):
        _ = ctx.sandbox
    with pytest.raises(PermissionError, match="no discovery client"):
        _ = ctx.discover
    with pytest.raises(PermissionError, match="no A2A client"):
        ctx._a2a_client()
