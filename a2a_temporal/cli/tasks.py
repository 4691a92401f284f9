"""Commands on tasks: `run`, `events`, `result`, `cancel`, `answer`, `artifacts`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from temporalio.contrib.workflow_streams import WorkflowStreamClient

from a2a_temporal.cli._common import (
    CliError,
    answerer,
    client_for,
    expect,
    json_arg,
    warn_when_unpolled,
)
from a2a_temporal.cli.follow import answer_value, print_events
from a2a_temporal.cli.waiting import ALREADY_ENDED, ended_status, waiting_on
from a2a_temporal.core.types import CallResult
from a2a_temporal.temporal.handles import TaskHandle

__all__ = ["add_commands"]


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the task commands."""
    run = commands.add_parser("run", help="run a skill and print its result")
    run.add_argument("agent")
    run.add_argument("skill")
    run.add_argument(
        "--args", default="{}", help="JSON object of arguments, @FILE to read it, - for stdin"
    )
    run.add_argument("--follow", action="store_true", help="print events live while it runs")
    run.set_defaults(handler=_run)

    events = commands.add_parser("events", help="print a task's events")
    events.add_argument("task_id")
    events.add_argument("--follow", action="store_true", help="keep following until it ends")
    events.set_defaults(handler=_events)

    cancel = commands.add_parser("cancel", help="cancel a task")
    cancel.add_argument("task_id")
    cancel.set_defaults(handler=_cancel)

    result = commands.add_parser("result", help="wait for and print a result")
    result.add_argument("task_id")
    result.set_defaults(handler=_result)

    answer = commands.add_parser("answer", help="answer a task's open question")
    answer.add_argument("task_id")
    answer.add_argument("question_id")
    answer.add_argument("value", help="JSON value or plain text; @FILE to read it, - for stdin")
    answer.set_defaults(handler=_answer)

    artifacts = commands.add_parser("artifacts", help="list a task's artifacts or fetch one")
    artifacts.add_argument("task_id")
    artifacts.add_argument("--get", metavar="NAME", help="artifact to download")
    artifacts.add_argument("-o", "--output", help="file to write (default: stdout)")
    artifacts.set_defaults(handler=_artifacts)


async def _run(args: argparse.Namespace) -> int:
    skill_args = json_arg(args.args, "--args")
    if not isinstance(skill_args, dict):
        raise CliError("--args must be a JSON object")
    client = await client_for(args)
    route = await client.router.route(
        args.agent, args.skill, skill_args, client.settings.task_queue
    )
    if route.resolution.error is not None:
        raise CliError(route.resolution.error)
    try:
        handle = await client.start(args.agent, args.skill, args=skill_args, caller="cli")
    except (ValueError, TypeError) as exc:
        raise CliError(str(exc)) from None
    print(f"task {handle.task_id}", file=sys.stderr, flush=True)
    questions = None if args.follow else handle.events()
    async with (
        warn_when_unpolled(client, handle.task_id),
        waiting_on("task", handle.task_id, questions),
    ):
        if args.follow:
            await print_events(handle.events(), answer=answerer(client))
        return await _print_result(handle)


async def _task(args: argparse.Namespace) -> TaskHandle:
    client = await client_for(args)
    await expect(client, args.task_id, "task")
    return client.get_task(args.task_id)


async def _events(args: argparse.Namespace) -> int:
    client = await client_for(args)
    await expect(client, args.task_id, "task")
    handle = client.get_task(args.task_id)
    if args.follow:
        await print_events(handle.events(), answer=answerer(client))
        return 0
    stream = WorkflowStreamClient.create(client.temporal, args.task_id)
    end = await stream.get_offset()
    if end:
        await print_events(handle.events(), limit=end)
    return 0


async def _cancel(args: argparse.Namespace) -> int:
    client = await client_for(args)
    await expect(client, args.task_id, "task")
    ended = await ended_status(client, args.task_id)
    if ended is not None:
        print(f"task {args.task_id} already ended {ended}: nothing to cancel")
        return ALREADY_ENDED
    await client.get_task(args.task_id).cancel()
    print(
        f"cancel requested for {args.task_id} and its callees; "
        f"`a2a-temporal result {args.task_id}` shows when it has stopped"
    )
    return 0


async def _result(args: argparse.Namespace) -> int:
    handle = await _task(args)
    async with waiting_on("task", handle.task_id, handle.events()):
        return await _print_result(handle)


async def _print_result(handle: TaskHandle) -> int:
    result: CallResult = await handle.result()
    print(result.model_dump_json(indent=2))
    return 0 if result.ok else 1


async def _answer(args: argparse.Namespace) -> int:
    if args.value.startswith("@") or args.value == "-":
        value = json_arg(args.value, "VALUE")
    else:
        try:
            value = answer_value(args.value)
        except ValueError as exc:
            raise CliError(f"VALUE {exc}") from None
    handle = await _task(args)
    try:
        await handle.answer(args.question_id, value)
    except ValueError as exc:
        raise CliError(f"answer refused: {exc}") from None
    print(f"answered {args.question_id} of {args.task_id}")
    return 0


async def _artifacts(args: argparse.Namespace) -> int:
    handle = await _task(args)
    if args.get is None:
        for ref in await handle.artifacts():
            print(f"{ref.name}\t{ref.size_bytes}\t{ref.mime_type}\t{ref.uri}")
        return 0
    try:
        data = await handle.read_artifact(args.get)
    except (FileNotFoundError, ValueError) as exc:
        raise CliError(str(exc)) from None
    if args.output:
        Path(args.output).write_bytes(data)  # noqa: ASYNC240 - one small write in a CLI
        print(f"wrote {len(data)} bytes to {args.output}", file=sys.stderr)
    else:
        sys.stdout.buffer.write(data)
    return 0
