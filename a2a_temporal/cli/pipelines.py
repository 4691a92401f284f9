"""Commands on pipelines: `pipeline run`, `pipeline status`, `pipeline cancel`."""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator

from a2a_temporal.cli._common import CliError, answerer, client_for, expect, warn_when_unpolled
from a2a_temporal.cli.follow import print_events
from a2a_temporal.core.types import AgentEvent
from a2a_temporal.errors import PipelineError
from a2a_temporal.temporal.pipeline import Pipeline, PipelineState

__all__ = ["add_commands"]


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
    async with warn_when_unpolled(client, handle.pipeline_id):
        if args.follow:
            await print_events(_without_summary(handle.events()), answer=answerer(client))
        state = await handle.result()
    return _print_state(state)


async def _status_or_cancel(args: argparse.Namespace) -> int:
    client = await client_for(args)
    await expect(client, args.pipeline_id, "pipeline")
    handle = client.get_pipeline(args.pipeline_id)
    if args.pipeline_command == "cancel":
        await handle.cancel()
        print(f"cancel requested for {handle.pipeline_id}")
        return 0
    return _print_state(await handle.state())


def _print_state(state: PipelineState) -> int:
    print(f"{state.status}" + (f": {state.error}" if state.error else ""), flush=True)
    for step_id, step in state.steps.items():
        items = f" {len(step.item_results)}/{step.items_total} items" if step.items_total else ""
        took = (
            f" {(step.finished_at - step.started_at).total_seconds():.1f}s"
            if step.started_at and step.finished_at
            else ""
        )
        error = f" error: {step.error}" if step.error else ""
        print(f"  {step_id:<24} {step.status:<10}{items}{took}{error}", flush=True)
    return 0 if state.status in ("completed", "running") else 1


async def _without_summary(events: AsyncIterator[AgentEvent]) -> AsyncIterator[AgentEvent]:
    """A pipeline's events but its final `pipeline` event (the state is printed instead)."""
    async for event in events:
        if event.kind != "pipeline":
            yield event
