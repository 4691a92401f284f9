"""Commands on pipelines: `pipeline run`, `pipeline status`, `pipeline cancel`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import AsyncIterator

from a2a_temporal.cli._common import CliError, answerer, client_for, expect, warn_when_unpolled
from a2a_temporal.cli.follow import print_events
from a2a_temporal.cli.waiting import ALREADY_ENDED, ended_status, waiting_on
from a2a_temporal.core.types import AgentEvent
from a2a_temporal.errors import PipelineError
from a2a_temporal.temporal.client import TemporalA2AClient
from a2a_temporal.temporal.pipeline import Pipeline, PipelineState

__all__ = ["add_commands"]

_ASKED_TASKS = 20  # of a running map step, the latest tasks whose questions are shown


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the `pipeline` command group."""
    pipeline = commands.add_parser("pipeline", help="run and manage pipelines")
    pipeline_commands = pipeline.add_subparsers(dest="pipeline_command", required=True)
    run = pipeline_commands.add_parser("run", help="start a pipeline from a file")
    run.add_argument("file", help="pipeline spec (.yaml, .yml or .json)")
    run.add_argument("--follow", action="store_true", help="show step states live")
    run.set_defaults(handler=_run)
    for name, text in (("status", "print a pipeline's step states"), ("cancel", "cancel it")):
        command = pipeline_commands.add_parser(name, help=text)
        command.add_argument("pipeline_id")
        command.set_defaults(handler=_status_or_cancel)


async def _run(args: argparse.Namespace) -> int:
    client = await client_for(args)
    try:
        spec = Pipeline.load(args.file)
    except PipelineError as exc:
        raise CliError(str(exc)) from None
    handle = await client.start_pipeline(spec)
    print(f"pipeline {handle.pipeline_id}", flush=True)
    if not args.follow:
        print(
            f"waiting for it to end; questions show here (`a2a-temporal pipeline status "
            f"{handle.pipeline_id}` from another shell, --follow for every step)",
            file=sys.stderr,
            flush=True,
        )
    questions = None if args.follow else handle.events()
    async with (
        warn_when_unpolled(client, handle.pipeline_id),
        waiting_on("pipeline", handle.pipeline_id, questions),
    ):
        if args.follow:
            await print_events(_without_summary(handle.events()), answer=answerer(client))
        state = await handle.result()
    return _print_state(state)


async def _status_or_cancel(args: argparse.Namespace) -> int:
    client = await client_for(args)
    await expect(client, args.pipeline_id, "pipeline")
    handle = client.get_pipeline(args.pipeline_id)
    if args.pipeline_command == "cancel":
        ended = await ended_status(client, args.pipeline_id)
        if ended is not None:
            print(f"pipeline {args.pipeline_id} already ended {ended}: nothing to cancel")
            return ALREADY_ENDED
        await handle.cancel()
        print(
            f"cancel requested for {handle.pipeline_id} and its running steps; "
            f"`a2a-temporal pipeline status {handle.pipeline_id}` shows when it has stopped"
        )
        return 0
    state = await handle.state()
    waiting = await _waiting_steps(client, state)
    return _print_state(state, waiting)


async def _waiting_steps(client: TemporalA2AClient, state: PipelineState) -> dict[str, list[str]]:
    """The open questions of each running step's tasks, by step (only steps that wait)."""
    waiting: dict[str, list[str]] = {}
    for step_id, step in state.steps.items():
        if step.status != "running":
            continue
        for task_id in step.task_ids[-_ASKED_TASKS:]:
            task_state = await client.get_task(task_id).state()
            for question in task_state.open_questions:
                waiting.setdefault(step_id, []).append(f"{task_id} {question}")
    return waiting


def _print_state(state: PipelineState, waiting: dict[str, list[str]] | None = None) -> int:
    print(f"{state.status}" + (f": {state.error}" if state.error else ""), flush=True)
    for step_id, step in state.steps.items():
        items = f" {len(step.item_results)}/{step.items_total} items" if step.items_total else ""
        took = (
            f" {(step.finished_at - step.started_at).total_seconds():.1f}s"
            if step.started_at and step.finished_at
            else ""
        )
        error = f" error: {step.error}" if step.error else ""
        asked = (waiting or {}).get(step_id)
        status = "waiting for input" if asked else step.status
        print(f"  {step_id:<24} {status:<10}{items}{took}{error}", flush=True)
        if len(step.task_ids) == 1:
            print(f"    task {step.task_ids[0]}", flush=True)
        elif step.task_ids:
            print(f"    {len(step.task_ids)} tasks, {step.task_ids[0]} ...", flush=True)
        for question in asked or ():
            print(f"    asks: {question} (a2a-temporal answer {question} VALUE)", flush=True)
        for ref in step.artifacts:
            owner = ref.uri.split("/tasks/", 1)[-1].split("/artifacts/", 1)[0]
            print(
                f"    artifact {ref.name} ({ref.size_bytes} bytes): "
                f"a2a-temporal artifacts {owner} --get {ref.name}",
                flush=True,
            )
    return 0 if state.status in ("completed", "running") else 1


async def _without_summary(events: AsyncIterator[AgentEvent]) -> AsyncIterator[AgentEvent]:
    """A pipeline's events but its final `pipeline` event (the state is printed instead)."""
    async for event in events:
        if event.kind != "pipeline":
            yield event
