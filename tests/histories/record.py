"""Record workflow histories for the upgrade-safety replay test (`tests/test_histories.py`).

Each scenario runs on a fresh dev stack and saves the histories of the
workflows it started as `tests/histories/<scenario>.<part>.json`. Checked-in
histories are never rewritten: a workflow change must replay every one of
them. When a change is deliberate, put it behind `workflow.patched`, add a
scenario (a new name) that takes the new path and record just that one:

    .venv/bin/python -m tests.histories.record NEW_SCENARIO

`--force` re-records existing files (only for a history that was never on main).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

from pydantic import BaseModel
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from temporalio.client import WorkflowUpdateFailedError

from a2a_temporal import (
    A2AAgent,
    Budget,
    CallResult,
    Pipeline,
    RunContext,
    ScopedAuth,
    TemporalA2AClient,
    skill,
)
from a2a_temporal.temporal.models import (
    AttemptToken,
    PublishBatch,
    PushTarget,
    Question,
    RelayedQuestion,
)
from a2a_temporal.temporal.wire import CHILD_QUESTION_SIGNAL, PUBLISH_UPDATE
from a2a_temporal.testing import DevStack
from a2a_temporal.trust.identity import generate_key
from tests.a2a_peer import PeerServer
from tests.agents import Approver, Chooser, Delay, Flaky, Marathon, Mathy, Slow, Splitter
from tests.gateway_helpers import serving
from tests.remote_agents import Relay
from tests.step_agents import Chooser as StepChooser
from tests.step_agents import Spender
from tests.temporal_helpers import wait_started

HERE = Path(__file__).resolve().parent


class Topic(BaseModel):
    topic: str


class Tour(A2AAgent):
    """Calls, events, an artifact and a question in one skill: most of what a task records."""

    name = "tour"
    auth_model = ScopedAuth

    @skill(retries=1)
    async def visit(self, ctx: RunContext[ScopedAuth], args: Topic) -> dict[str, object]:
        """Call the splitter twice around a question; stream and store what happened."""
        await ctx.emit_progress(f"visiting {args.topic}")
        split = await ctx.call("splitter", "split", args={"text": f"all about {args.topic}"})
        for word in ("one ", "two ", "three "):
            await ctx.emit_text_delta(word)
        verdict = await ctx.ask(f"go on with {args.topic}?")
        upper = await ctx.call("splitter", "upper", args={"text": verdict})
        await ctx.write_artifact("visit.txt", f"{split.output} {upper.output}".encode())
        return {"words": split.output, "verdict": upper.output}


Scenario = Callable[["Recorder"], Awaitable[None]]


class Recorder:
    """Runs scenarios on one stack and keeps the ids of the workflows to save."""

    def __init__(self, stack: DevStack, client: TemporalA2AClient) -> None:
        self.stack = stack
        self.client = client
        self.saved: dict[str, str] = {}

    def keep(self, name: str, workflow_id: str) -> None:
        self.saved[name] = workflow_id

    async def finished(self, workflow_id: str) -> None:
        await self.client.temporal.get_workflow_handle(workflow_id).result()


async def task_with_calls(rec: Recorder) -> None:
    handle = await rec.client.start(
        "tour", "visit", args={"topic": "rivers"}, auth=ScopedAuth(subject="ann")
    )
    async for event in handle.events():
        if event.kind == "question":
            await handle.answer(str(event.payload["id"]), "yes")
            break
    result = await handle.result()
    assert result.ok, result.error
    rec.keep("parent", handle.task_id)
    rec.keep("child", f"{handle.task_id}/call-0")


async def question_parked_and_continued(rec: Recorder) -> None:
    async with rec.stack.worker(
        [Tour(), Splitter()],
        task_queue=f"h-{uuid.uuid4().hex[:8]}",
        input_park_after="PT0.2S",
        continue_as_new_after=20,
    ) as client:
        handle = await client.start(
            "tour", "visit", args={"topic": "hills"}, auth=ScopedAuth(subject="bo")
        )
        async for event in handle.events():
            if event.kind == "question":
                question_id = str(event.payload["id"])
                while (await handle.state()).parked_on != question_id:
                    await asyncio.sleep(0.05)
                await handle.answer(question_id, "sure")
                break
        result = await handle.result()
        assert result.ok, result.error
        assert (await handle.state()).continued >= 1, "the task continued as new"
    rec.keep("task", handle.task_id)


async def retried_then_failed(rec: Recorder) -> None:
    retried = await rec.client.call("flaky", "work")
    assert retried.ok, retried.error
    rec.keep("retried", retried.task_id)
    async with rec.stack.worker([Flaky(failures=9)], task_queue=f"h-{uuid.uuid4().hex[:8]}") as c:
        failed = await c.call("flaky", "work")
    assert failed.status == "failed"
    rec.keep("failed", failed.task_id)


async def rejected_and_raw_start(rec: Recorder) -> None:
    rejected = await rec.client.call("splitter", "split", args={"text": 3})
    assert rejected.status == "rejected"
    rec.keep("bad_args", rejected.task_id)
    task_id = f"raw/{uuid.uuid4()}"
    await rec.client.temporal.start_workflow(
        "a2a.SkillRun",
        {"agent": "splitter", "skill": "upper", "args": {"text": "raw"}},
        id=task_id,
        task_queue=rec.client.settings.task_queue,
    )
    await rec.finished(task_id)
    rec.keep("raw_start", task_id)


async def _canceled_with_its_call(rec: Recorder) -> None:
    """A task cancelled while its call runs: keeps both as `canceled` and `canceled_child`."""
    canceled = await rec.client.start("slow", "delegate", args=Delay(seconds=60))
    await wait_started(rec.client, f"{canceled.task_id}/call-0")
    await canceled.cancel()
    assert (await canceled.result()).status == "canceled"
    rec.keep("canceled", canceled.task_id)
    rec.keep("canceled_child", f"{canceled.task_id}/call-0")


async def canceled_and_timed_out(rec: Recorder) -> None:
    await _canceled_with_its_call(rec)
    timed_out = await rec.client.call("slow", "delegate", args=Delay(seconds=60), timeout=1)
    assert timed_out.status == "canceled"
    rec.keep("timed_out", timed_out.task_id)


async def superseded_call(rec: Recorder) -> None:
    with tempfile.TemporaryDirectory() as work:
        result = await rec.client.call("chooser", "pick_freely", args={"path": work})
    assert result.ok, result.error
    rec.keep("supersede", result.task_id)


async def pipeline_with_map_and_failure(rec: Recorder) -> None:
    mapped = Pipeline.parse(
        {
            "name": "squares",
            "steps": [
                {"id": "nums", "agent": "mathy", "skill": "numbers", "args": {"n": 8}},
                {
                    "id": "square",
                    "agent": "mathy",
                    "skill": "square",
                    "map": "${steps.nums.output.values}",
                    "args": {"value": "${item}"},
                    "concurrency": 2,
                },
                {
                    "id": "sum",
                    "agent": "mathy",
                    "skill": "total",
                    "args": {"values": "${steps.square.output}"},
                },
            ],
        }
    )
    completed = await rec.client.start_pipeline(mapped, continue_as_new_after=40)
    assert (await completed.result()).status == "completed"
    rec.keep("map", completed.pipeline_id)
    failing = Pipeline.parse(
        {
            "name": "failing",
            "steps": [
                {"id": "bad", "agent": "mathy", "skill": "fail", "args": {"value": 1}},
                {"id": "after", "agent": "mathy", "skill": "square", "depends_on": ["bad"],
                 "args": {"value": 2}},
            ],
        }
    )  # fmt: skip
    failed = await rec.client.start_pipeline(failing)
    assert (await failed.result()).status == "failed"
    rec.keep("failure", failed.pipeline_id)


async def signed_pipeline(rec: Recorder) -> None:
    key_id, (private, public) = "rec-1", generate_key()
    async with rec.stack.worker(
        [Splitter()],
        task_queue=f"h-{uuid.uuid4().hex[:8]}",
        require_signed_identity=True,
        identity_issuers={key_id: public},
        identity_key_id=key_id,
        identity_signing_key=private,
    ) as client:
        pipeline = Pipeline.parse(
            {"steps": [{"id": "up", "agent": "splitter", "skill": "upper", "args": {"text": "s"}}]}
        )
        handle = await client.start_pipeline(pipeline, auth=ScopedAuth(subject="cy"))
        assert (await handle.result()).status == "completed"
    rec.keep("pipeline", handle.pipeline_id)
    rec.keep("step", f"{handle.pipeline_id}/up")


async def push_delivery(rec: Recorder) -> None:
    received: list[object] = []

    async def hook(request: Request) -> Response:
        received.append(await request.json())
        return Response(status_code=204)

    app = Starlette(routes=[Route("/hook", hook, methods=["POST"])])
    async with serving(app) as url:
        handle = await rec.client.start(
            "splitter",
            "upper",
            args={"text": "push"},
            push=[PushTarget(id="hook-1", url=f"{url}/hook", token="tok")],
        )
        assert (await handle.result()).ok
        await rec.finished(f"{handle.task_id}/push-1")
    assert received, "the webhook heard about the task"
    rec.keep("task", handle.task_id)
    rec.keep("delivery", f"{handle.task_id}/push-1")


async def remote_call(rec: Recorder) -> None:
    async with PeerServer().serving() as peer:
        handle = await rec.client.start("relay", "ask_remote", args={"url": peer.url("asker")})
        async for event in handle.events():
            if event.kind == "question":
                await rec.client.get_task(str(event.payload["task_id"])).answer(
                    str(event.payload["id"]), "green"
                )
                break
        result: CallResult = await handle.result()
    assert result.ok, result.error
    rec.keep("caller", handle.task_id)
    rec.keep("remote", f"{handle.task_id}/call-0")


async def question_answers_and_timeouts(rec: Recorder) -> None:
    answered = await rec.client.start("approver", "order")
    async for event in answered.events():
        if event.kind == "question":
            await answered.answer(str(event.payload["id"]), {"item": "tea", "qty": 2})
            break
    assert (await answered.result()).ok
    rec.keep("collect", answered.task_id)
    timed_out = await rec.client.call("approver", "impatient")
    assert timed_out.status == "failed"
    rec.keep("timeout", timed_out.task_id)


async def journal_and_many_questions(rec: Recorder) -> None:
    async with rec.stack.worker(
        [Marathon(), Splitter()],
        task_queue=f"h-{uuid.uuid4().hex[:8]}",
        input_park_after="PT0.2S",
        continue_as_new_after=60,
    ) as client:
        handle = await client.start("marathon", "run", args={"laps": 3, "questions": 4})
        answered: set[str] = set()
        while len(answered) < 12:
            state = await handle.state()
            todo = [q for q in state.open_questions if q not in answered]
            if state.parked_on is None or len(todo) < 4:
                await asyncio.sleep(0.05)
                continue
            for question_id in todo:
                await handle.answer(question_id, f"a-{len(answered)}")
                answered.add(question_id)
        result = await handle.result()
        assert result.ok, result.error
        assert (await handle.state()).continued >= 2, "the task continued as new"
    rec.keep("task", handle.task_id)


async def forged_relays_and_attempts(rec: Recorder) -> None:
    """Signals relaying questions from elsewhere and a guessed attempt token, around a task."""
    handle = await rec.client.start(
        "tour", "visit", args={"topic": "forgeries"}, auth=ScopedAuth(subject="ann")
    )
    raw = rec.client.temporal.get_workflow_handle(handle.task_id)
    async for event in handle.events():
        if event.kind == "question":
            forged = Question(id="q0", prompt="your password?")
            for named in ("elsewhere.task/1", f"{handle.task_id}/call-9"):
                await raw.signal(
                    CHILD_QUESTION_SIGNAL, RelayedQuestion(task_id=named, question=forged)
                )
            guessed = PublishBatch(token=AttemptToken(run=1, attempt=1), records=[])
            with contextlib.suppress(WorkflowUpdateFailedError):
                await raw.execute_update(PUBLISH_UPDATE, guessed)
            await handle.answer(str(event.payload["id"]), "yes")
            break
    result = await handle.result()
    assert result.ok, result.error
    rec.keep("task", handle.task_id)


async def native_outcomes(rec: Recorder) -> None:
    """Each outcome as Temporal's status: Failed, Failed (rejected), Canceled, a canceled step."""
    async with rec.stack.worker([Flaky(failures=9)], task_queue=f"h-{uuid.uuid4().hex[:8]}") as c:
        failed = await c.call("flaky", "work")
    assert failed.status == "failed"
    rec.keep("failed", failed.task_id)
    rejected = await rec.client.call("splitter", "split", args={"text": 3})
    assert rejected.status == "rejected"
    rec.keep("rejected", rejected.task_id)
    await _canceled_with_its_call(rec)
    asking = Pipeline.parse(
        {"name": "asking", "steps": [{"id": "review", "agent": "approver", "skill": "review",
                                      "args": {"text": "plan"}}]}
    )  # fmt: skip
    pipeline = await rec.client.start_pipeline(asking)
    await wait_started(rec.client, f"{pipeline.pipeline_id}/review")
    await rec.client.get_task(f"{pipeline.pipeline_id}/review").cancel()
    ended = await pipeline.result()
    assert ended.status == "failed", ended
    rec.keep("step_canceled", pipeline.pipeline_id)


async def durable_steps_and_budget(rec: Recorder) -> None:
    """Steps recorded, superseded and stored in S3; usage and a budget across a call tree."""
    agents = [StepChooser(), Spender()]
    async with rec.stack.worker(agents, task_queue=f"h-{uuid.uuid4().hex[:8]}") as client:
        relaxed = await client.call("chooser", "relaxed", args={"choice": "a"})
        assert relaxed.superseded_steps == ("pick#0", "note#0"), relaxed
        steady = await client.call("chooser", "steady", args={"choice": "b"})
        assert steady.ok, steady.error
        tree = await client.call(
            "spender", "spend", args={"tokens": 40, "depth": 2}, budget=Budget(tokens=100)
        )
        assert tree.ok and tree.usage.tokens == 120, tree
    rec.keep("superseded", relaxed.task_id)
    rec.keep("stored", steady.task_id)
    rec.keep("budget", tree.task_id)
    rec.keep("budget_exceeded", f"{tree.task_id}/call-0/call-0")


async def error_memo(rec: Recorder) -> None:
    """A task that ends with an error keeps it in its memo (`a2a.error`) for listings."""
    async with rec.stack.worker([Flaky(failures=9)], task_queue=f"h-{uuid.uuid4().hex[:8]}") as c:
        failed = await c.call("flaky", "work")
    assert failed.status == "failed"
    rec.keep("failed", failed.task_id)
    memo = await rec.client.temporal.get_workflow_handle(failed.task_id).describe()
    assert await memo.memo_value("a2a.error") == failed.error, "the new path was taken"


async def _patched_attempt_nonce(rec: Recorder, workflow_id: str) -> bool:
    """Whether the run's history holds the `a2a-attempt-nonce` patch marker."""
    history = await rec.client.temporal.get_workflow_handle(workflow_id).fetch_history()
    return any(
        b"a2a-attempt-nonce" in event.marker_recorded_event_attributes.SerializeToString()
        for event in history.events
        if event.HasField("marker_recorded_event_attributes")
    )


async def _lean_task_with_calls(rec: Recorder) -> None:
    """`task_with_calls`, started by a client with `lean_task_history` on."""
    queue = f"h-{uuid.uuid4().hex[:8]}"
    async with rec.stack.worker(
        [Tour(), Splitter()], task_queue=queue, lean_task_history=True
    ) as client:
        lean = Recorder(rec.stack, client)
        await task_with_calls(lean)
    rec.saved.update(lean.saved)


async def starter_revision(rec: Recorder) -> None:
    """A lean task and its call (their memo names the runtime revision): nonces, no marker."""
    await _lean_task_with_calls(rec)
    for workflow_id in rec.saved.values():
        assert not await _patched_attempt_nonce(rec, workflow_id), "the new path was taken"


async def starter_revision_on_an_older_worker(rec: Recorder) -> None:
    """The same lean start run by a worker from before the revision.

    Recorded with that worker's `workflows/_fence.py` (from before the starter
    revision) in place: it writes the marker, which newer workers must match.
    """
    await _lean_task_with_calls(rec)
    for workflow_id in rec.saved.values():
        assert await _patched_attempt_nonce(rec, workflow_id), "recorded on the older worker"


SCENARIOS: dict[str, Scenario] = {
    "task_with_calls": task_with_calls,
    "question_parked_and_continued": question_parked_and_continued,
    "retried_then_failed": retried_then_failed,
    "rejected_and_raw_start": rejected_and_raw_start,
    "canceled_and_timed_out": canceled_and_timed_out,
    "superseded_call": superseded_call,
    "pipeline_with_map_and_failure": pipeline_with_map_and_failure,
    "signed_pipeline": signed_pipeline,
    "push_delivery": push_delivery,
    "remote_call": remote_call,
    "question_answers_and_timeouts": question_answers_and_timeouts,
    "journal_and_many_questions": journal_and_many_questions,
    "forged_relays_and_attempts": forged_relays_and_attempts,
    "native_outcomes": native_outcomes,
    "durable_steps_and_budget": durable_steps_and_budget,
    "error_memo": error_memo,
    "starter_revision": starter_revision,
    "starter_revision_on_an_older_worker": starter_revision_on_an_older_worker,
}


@contextlib.asynccontextmanager
async def recording() -> AsyncIterator[Recorder]:
    agents = [Tour(), Splitter(), Flaky(), Slow(), Chooser(), Mathy(), Relay(), Approver()]
    async with DevStack(ui=False) as stack, stack.worker(agents) as client:
        yield Recorder(stack, client)


async def record(names: list[str], force: bool) -> None:
    async with recording() as rec:
        for name in names:
            rec.saved.clear()
            await SCENARIOS[name](rec)
            for part, workflow_id in rec.saved.items():
                await save(rec.client, f"{name}.{part}", workflow_id, force)


async def save(client: TemporalA2AClient, stem: str, workflow_id: str, force: bool) -> None:
    """Save every run of `workflow_id` (continue-as-new makes several), oldest first."""
    query = f'WorkflowId = "{workflow_id}"'
    runs = [execution.run_id async for execution in client.temporal.list_workflows(query)]
    runs.reverse()
    for number, run_id in enumerate(runs, start=1):
        path = HERE / (f"{stem}.json" if len(runs) == 1 else f"{stem}.run{number}.json")
        if path.exists() and not force:
            raise SystemExit(f"{path.name} exists; histories on main are never rewritten")
        handle = client.temporal.get_workflow_handle(workflow_id, run_id=run_id)
        history = json.loads((await handle.fetch_history()).to_json())
        path.write_text(json.dumps({"workflow_id": workflow_id, "history": history}) + "\n")
        print(f"recorded {path.relative_to(HERE.parent.parent)}", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("scenarios", nargs="*", help="scenario names (default: all)")
    parser.add_argument("--force", action="store_true", help="overwrite existing histories")
    args = parser.parse_args()
    unknown = sorted(set(args.scenarios) - set(SCENARIOS))
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(unknown)} (known: {', '.join(SCENARIOS)})")
    asyncio.run(record(args.scenarios or list(SCENARIOS), args.force))


if __name__ == "__main__":
    main()
