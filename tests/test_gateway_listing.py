"""`ListTasks` through the gateway: each task from the listing itself, in full only when asked."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from a2a.client.client import Client
from a2a.types import a2a_pb2 as pb
from pydantic import BaseModel

from a2a_temporal import A2AAgent, NoAuth, RunContext, skill
from a2a_temporal.temporal.outcomes import ERROR_MEMO_CHARS
from a2a_temporal.testing import DevStack
from tests.gateway_helpers import a2a_client, gateway, message
from tests.temporal_helpers import running

S = pb.TaskState


class Note(BaseModel):
    text: str


class Lister(A2AAgent):
    """One skill per state a listed task can be in."""

    name = "lister"

    @skill(retries=0)
    async def done(self, ctx: RunContext[NoAuth], args: Note) -> dict[str, str]:
        """Stream, store a file and complete."""
        await ctx.emit_progress(f"noting {args.text}")
        await ctx.emit_text_delta(args.text)
        await ctx.write_artifact("note.txt", args.text.encode(), "text/plain")
        return {"echo": args.text}

    @skill(retries=0)
    async def fail(self, ctx: RunContext[NoAuth], args: Note) -> str:
        """Fail with `text` in the error."""
        raise ValueError(f"bad {args.text}")

    @skill(retries=0)
    async def ask(self, ctx: RunContext[NoAuth], args: Note) -> str:
        """Ask a question and wait for its answer."""
        return await ctx.ask(f"go on with {args.text}?")

    @skill(retries=0)
    async def wait(self, ctx: RunContext[NoAuth], args: Note) -> str:
        """Run for a long while."""
        await ctx.emit_progress("waiting")
        await asyncio.sleep(120)
        return args.text


async def _send(a2a: Client, skill_name: str, text: str, *, wait: bool = True) -> pb.Task:
    request = pb.SendMessageRequest(
        message=message(data={"text": text}, skill=skill_name, context_id=f"ctx-{skill_name}"),
        configuration=pb.SendMessageConfiguration(return_immediately=not wait),
    )
    [response] = [r async for r in a2a.send_message(request)]
    return response.task


async def _listed_once_settled(
    a2a: Client, request: pb.ListTasksRequest, settled: Callable[[dict[str, pb.Task]], bool]
) -> dict[str, pb.Task]:
    """The listing, once `settled` holds: visibility trails a task's state by a moment."""
    async with asyncio.timeout(20):
        while True:
            listed = await a2a.list_tasks(request)
            tasks = {task.id: task for task in listed.tasks}
            if settled(tasks):
                return tasks
            await asyncio.sleep(0.1)


async def test_listed_tasks_carry_ids_status_and_final_message_without_history(
    stack: DevStack,
) -> None:
    long_text = "x" * (2 * ERROR_MEMO_CHARS)
    async with (
        running(stack, [Lister()]) as client,
        gateway(client) as url,
        a2a_client(f"{url}/agents/lister") as a2a,
    ):
        sent = {
            "done": await _send(a2a, "done", "alpha"),
            "fail": await _send(a2a, "fail", "beta"),
            "long": await _send(a2a, "fail", long_text),
            "ask": await _send(a2a, "ask", "gamma"),
            "wait": await _send(a2a, "wait", "delta", wait=False),
            "killed": await _send(a2a, "wait", "epsilon", wait=False),
        }
        await client.temporal.get_workflow_handle(sent["killed"].id).terminate("test over")
        ids = {name: task.id for name, task in sent.items()}
        expected = {
            "done": S.TASK_STATE_COMPLETED,
            "fail": S.TASK_STATE_FAILED,
            "long": S.TASK_STATE_FAILED,
            "ask": S.TASK_STATE_INPUT_REQUIRED,
            "wait": S.TASK_STATE_WORKING,
            "killed": S.TASK_STATE_FAILED,
        }

        def settled(tasks: dict[str, pb.Task]) -> bool:
            return all(
                ids[name] in tasks and tasks[ids[name]].status.state == state
                for name, state in expected.items()
            )

        listed = await _listed_once_settled(a2a, pb.ListTasksRequest(), settled)
        got = {
            name: await a2a.get_task(pb.GetTaskRequest(id=task_id)) for name, task_id in ids.items()
        }
        for name in ("wait", "ask"):
            await client.get_task(ids[name]).cancel()
    assert len(listed) == len(ids)
    for name, task_id in ids.items():
        task = listed[task_id]
        skill_name = {"long": "fail", "killed": "wait"}.get(name, name)
        assert task.context_id == sent[name].context_id == f"ctx-{skill_name}"
        assert dict(task.metadata) == {"agent": "lister", "skill": skill_name}, name
        assert not task.history and not task.artifacts, f"{name}: asked for neither"
    for name in ("done", "fail", "killed"):
        assert listed[ids[name]].status.message == got[name].status.message, name
    assert listed[ids["done"]].status.message.parts[0].text == "completed"
    assert listed[ids["fail"]].status.message.parts[0].text == "ValueError: bad beta"
    long_listed = listed[ids["long"]].status.message.parts[0].text
    assert len(long_listed) == ERROR_MEMO_CHARS and long_listed.endswith("\u2026")
    assert got["long"].status.message.parts[0].text == f"ValueError: bad {long_text}"
    assert "terminated" in listed[ids["killed"]].status.message.parts[0].text.lower()
    assert not listed[ids["ask"]].status.HasField("message"), "GetTask has the question"
    assert not listed[ids["wait"]].status.HasField("message")
    assert got["ask"].status.message.parts[0].text == "go on with gamma?"


async def test_history_and_artifacts_come_when_asked(stack: DevStack) -> None:
    async with (
        running(stack, [Lister()]) as client,
        gateway(client) as url,
        a2a_client(f"{url}/agents/lister") as a2a,
    ):
        done = await _send(a2a, "done", "alpha")
        failed = await _send(a2a, "fail", "beta")
        asking = await _send(a2a, "ask", "gamma")
        ids = (done.id, failed.id, asking.id)

        def settled(tasks: dict[str, pb.Task]) -> bool:
            return (
                all(task_id in tasks for task_id in ids)
                and tasks[asking.id].status.state == S.TASK_STATE_INPUT_REQUIRED
            )

        full = await _listed_once_settled(
            a2a, pb.ListTasksRequest(include_artifacts=True, history_length=10), settled
        )
        artifacts_only = await _listed_once_settled(
            a2a, pb.ListTasksRequest(include_artifacts=True), settled
        )
        history_only = await _listed_once_settled(
            a2a, pb.ListTasksRequest(history_length=1), settled
        )
        got = {
            task_id: await a2a.get_task(pb.GetTaskRequest(id=task_id, history_length=10))
            for task_id in ids
        }
        await client.get_task(asking.id).cancel()
    for task_id in ids:
        assert full[task_id] == got[task_id], "asked for both: the task as GetTask gives it"
    assert {a.name for a in full[done.id].artifacts} == {"text", "note.txt", "result"}
    assert artifacts_only[done.id].artifacts == full[done.id].artifacts
    assert artifacts_only[done.id].history == full[done.id].history, "unset: no limit"
    assert not history_only[done.id].artifacts
    assert list(history_only[done.id].history) == list(full[done.id].history)[-1:]
    assert full[asking.id].status.message.parts[0].text == "go on with gamma?"


async def test_a_task_that_continued_as_new_is_listed_once(stack: DevStack) -> None:
    async with (
        running(stack, [Lister()], continue_as_new_after=1, input_park_after="PT0.1S") as client,
        gateway(client) as url,
        a2a_client(f"{url}/agents/lister") as a2a,
    ):
        asking = await _send(a2a, "ask", "again")
        handle = client.get_task(asking.id)
        async with asyncio.timeout(20):
            while (await handle.state()).continued < 1:
                await asyncio.sleep(0.05)

        def settled(tasks: dict[str, pb.Task]) -> bool:
            task = tasks.get(asking.id)
            return task is not None and task.status.state == S.TASK_STATE_INPUT_REQUIRED

        listing = await _listed_once_settled(a2a, pb.ListTasksRequest(), settled)
        runs = [
            execution.run_id
            async for execution in client.temporal.list_workflows(f'WorkflowId = "{asking.id}"')
        ]
        listed = await a2a.list_tasks(pb.ListTasksRequest())
        await handle.cancel()
    assert len(runs) >= 2, "the task continued as new"
    assert asking.id in listing
    assert [task.id for task in listed.tasks].count(asking.id) == 1
