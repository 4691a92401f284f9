"""The `a2a-temporal` command line: dev stack, worker, and tasks on Temporal."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from pydantic import BaseModel
from temporalio.client import Client
from temporalio.contrib.workflow_streams import WorkflowStreamClient
from temporalio.service import RPCError

from a2a_temporal._failures import describe_exception
from a2a_temporal._follow import Answerer, print_events
from a2a_temporal._inspect import Kind, WrongKind, expect_kind, has_pollers, task_queue_of
from a2a_temporal.encryption import PAYLOAD_KEY_SECRET
from a2a_temporal.encryption import generate_key as generate_payload_key
from a2a_temporal.errors import InfrastructureError
from a2a_temporal.identity import generate_key
from a2a_temporal.models import SkillRunInput, TaskState
from a2a_temporal.pipeline import Pipeline, PipelineError, PipelineInput, PipelineState
from a2a_temporal.plugin import AgentPlugin, payload_encryption
from a2a_temporal.protocol import require_sdk
from a2a_temporal.runner import (
    configure_logging,
    exit_process,
    load_agents,
    run_worker,
    stop_on_signals,
)
from a2a_temporal.secrets import SECRET_ENV_PREFIX, SecretResolver
from a2a_temporal.settings import ENV_PREFIX, AgentSettings
from a2a_temporal.temporal_client import TaskHandle, TemporalA2AClient, UnknownTask
from a2a_temporal.testing import DevStack
from a2a_temporal.types import AgentEvent, CallResult

__all__ = ["main", "run"]


_POLLER_GRACE = 5.0
DEBUG_ENV = "A2A_TEMPORAL_DEBUG"
SCHEMAS: dict[str, type[BaseModel]] = {
    "skill-run": SkillRunInput,
    "result": CallResult,
    "task-state": TaskState,
    "pipeline": PipelineInput,
    "pipeline-result": PipelineState,
}


class CliError(Exception):
    """A problem to report on one line, without a traceback."""


class _Parser(argparse.ArgumentParser):
    """Reports a usage error on one line (exit code 2), like every other error."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="a2a-temporal", description=__doc__)
    parser.add_argument(
        "--address", help="Temporal address (default: $A2A_TEMPORAL_TEMPORAL_ADDRESS)"
    )
    parser.add_argument("--namespace", help="Temporal namespace")
    commands = parser.add_subparsers(dest="command", required=True)

    dev = commands.add_parser("dev", help="run the embedded Temporal + S3 dev stack until Ctrl-C")
    dev.add_argument("--data-dir", help="keep the SQLite file and logs here (default: temp dir)")
    dev.add_argument("--bucket", default="a2a-temporal", help="bucket to create (%(default)s)")
    dev.add_argument("--agents", help="also run a worker for these module:attr agents")

    worker = commands.add_parser("worker", help="run a worker for agents until Ctrl-C")
    worker.add_argument("--agents", required=True, help="comma-separated module:attr specs")
    worker.add_argument("--task-queue", help="task queue (default: $A2A_TEMPORAL_TASK_QUEUE)")

    agents = commands.add_parser(
        "agents", help="list registered agents; register or forget a remote A2A agent"
    )
    agents.add_argument("action", nargs="?", choices=["list", "register", "forget"], default="list")
    agents.add_argument("target", nargs="?", help="URL to register, or name to forget")
    agents.add_argument("--name", help="name for a registered remote agent (default: its card's)")
    agents.add_argument("--tag", help="only agents with this tag")
    agents.add_argument("--skill", help="only agents with this skill")
    agents.add_argument("--json", action="store_true", help="print the cards as JSON")

    serve = commands.add_parser("serve", help="serve the registered agents over A2A until Ctrl-C")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (%(default)s)")
    serve.add_argument("--port", type=int, default=8080, help="port to listen on (%(default)s)")

    run = commands.add_parser("run", help="run a skill and print its result")
    run.add_argument("agent")
    run.add_argument("skill")
    run.add_argument(
        "--args", default="{}", help="JSON object of arguments, @FILE to read it, - for stdin"
    )
    run.add_argument("--follow", action="store_true", help="print events live while it runs")

    events = commands.add_parser("events", help="print a task's events")
    events.add_argument("task_id")
    events.add_argument("--follow", action="store_true", help="keep following until it ends")

    for name, text in (("cancel", "cancel a task"), ("result", "wait for and print a result")):
        commands.add_parser(name, help=text).add_argument("task_id")

    answer = commands.add_parser("answer", help="answer a task's open question")
    answer.add_argument("task_id")
    answer.add_argument("question_id")
    answer.add_argument("value", help="JSON value or plain text; @FILE to read it, - for stdin")

    pipeline = commands.add_parser("pipeline", help="run and manage pipelines")
    pipeline_commands = pipeline.add_subparsers(dest="pipeline_command", required=True)
    pipeline_run = pipeline_commands.add_parser("run", help="start a pipeline from a file")
    pipeline_run.add_argument("file", help="pipeline spec (.yaml, .yml or .json)")
    pipeline_run.add_argument("--follow", action="store_true", help="show step states live")
    for name, text in (("status", "print a pipeline's step states"), ("cancel", "cancel it")):
        pipeline_commands.add_parser(name, help=text).add_argument("pipeline_id")

    identity_key = commands.add_parser(
        "identity-key", help="make an identity signing key pair; print its export lines"
    )
    identity_key.add_argument("--key-id", help="name of the key (default: a fresh one)")

    encryption_key = commands.add_parser(
        "encryption-key", help="make a payload encryption key; print its export lines"
    )
    encryption_key.add_argument("--key-id", help="name of the key (default: a fresh one)")
    codec = commands.add_parser(
        "codec-server", help="serve payload decryption to the Temporal UI until Ctrl-C"
    )
    codec.add_argument("--host", default="127.0.0.1")
    codec.add_argument("--port", type=int, default=8081)
    codec.add_argument(
        "--ui-origin", default="http://localhost:8233", help="the Temporal UI's origin (CORS)"
    )

    schema = commands.add_parser("schema", help="print a JSON Schema of the workflow API")
    schema.add_argument("name", choices=sorted(SCHEMAS), help="which document")

    artifacts = commands.add_parser("artifacts", help="list a task's artifacts or fetch one")
    artifacts.add_argument("task_id")
    artifacts.add_argument("--get", metavar="NAME", help="artifact to download")
    artifacts.add_argument("-o", "--output", help="file to write (default: stdout)")
    return parser


def _settings(args: argparse.Namespace, **overrides: Any) -> AgentSettings:
    if args.address:
        overrides["temporal_address"] = args.address
    if args.namespace:
        overrides["namespace"] = args.namespace
    try:
        return AgentSettings.from_env(**overrides)
    except ValueError as exc:
        raise CliError(str(exc)) from None


async def _client(args: argparse.Namespace) -> TemporalA2AClient:
    settings = _settings(args)
    try:
        client = await asyncio.wait_for(
            Client.connect(
                settings.temporal_address,
                namespace=settings.namespace,
                plugins=[AgentPlugin([], settings)],
            ),
            timeout=15,
        )
    except (RuntimeError, TimeoutError) as exc:
        raise CliError(f"cannot reach Temporal at {settings.temporal_address}: {exc}") from None
    return TemporalA2AClient(client)


async def _dev(args: argparse.Namespace) -> None:
    stop = stop_on_signals()
    stack = DevStack(data_dir=args.data_dir, bucket=args.bucket)
    try:
        await stack.__aenter__()
    except (FileNotFoundError, RuntimeError, TimeoutError) as exc:
        raise CliError(f"the dev stack did not start: {exc}") from None
    try:
        print(f"Temporal:    {stack.temporal_address} (namespace {stack.namespace})")
        print(f"Temporal UI: {stack.ui_url}")
        print(f"S3:          {stack.s3_endpoint} bucket={stack.bucket}")
        print(f"Data dir:    {stack.data_dir}")
        print("Environment for workers and the CLI:")
        for key, value in (
            stack.settings()
            .model_dump(
                include={
                    "temporal_address",
                    "s3_endpoint",
                    "s3_access_key",
                    "s3_secret_key",
                    "s3_bucket",
                }
            )
            .items()
        ):
            print(f"  export A2A_TEMPORAL_{key.upper()}={value}")
        print(f"Up in {stack.startup_seconds:.1f}s. Press Ctrl-C to stop.", flush=True)
        if args.agents:
            configure_logging()
            agents = _load(args.agents)
            await run_worker(agents, stack.settings(), stop)
        else:
            await stop.wait()
    finally:
        await stack.stop()
    print("stopped", flush=True)


def _load(specs: str) -> list[Any]:
    try:
        return load_agents(specs.split(","))
    except ValueError as exc:
        raise CliError(str(exc)) from None


async def _worker(args: argparse.Namespace) -> None:
    overrides = {"task_queue": args.task_queue} if args.task_queue else {}
    settings = _settings(args, **overrides)
    agents = _load(args.agents)
    configure_logging()
    try:
        await run_worker(agents, settings, stop_on_signals())
    except RuntimeError as exc:
        raise CliError(f"cannot reach Temporal at {settings.temporal_address}: {exc}") from None


def _print_result(result: CallResult) -> None:
    print(result.model_dump_json(indent=2))


def _json_arg(text: str, what: str) -> Any:
    """Parse a JSON argument given inline, as `@FILE` or as `-` (stdin)."""
    if text == "-":
        text = sys.stdin.read()
    elif text.startswith("@"):
        try:
            text = Path(text[1:]).read_text()
        except OSError as exc:
            raise CliError(f"cannot read {what} from {text[1:]}: {exc.strerror}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise CliError(f"{what} is not valid JSON: {exc}") from None
    except RecursionError:
        raise CliError(f"{what} is nested too deeply") from None


async def _run(args: argparse.Namespace) -> int:
    skill_args = _json_arg(args.args, "--args")
    if not isinstance(skill_args, dict):
        raise CliError("--args must be a JSON object")
    client = await _client(args)
    try:
        handle = await client.start(args.agent, args.skill, args=skill_args, caller="cli")
    except (ValueError, TypeError) as exc:
        raise CliError(str(exc)) from None
    print(f"task {handle.task_id}", file=sys.stderr, flush=True)
    async with _warn_when_unpolled(client, handle.task_id):
        if args.follow:
            await print_events(handle.events(), answer=_answerer(client))
        return await _result(handle)


def _answerer(client: TemporalA2AClient) -> Answerer:
    async def answer(task_id: str, question_id: str, value: Any) -> None:
        await client.get_task(task_id).answer(question_id, value)
        print(f"  answered {question_id} of {task_id}", flush=True)

    return answer


@contextlib.asynccontextmanager
async def _warn_when_unpolled(client: TemporalA2AClient, workflow_id: str) -> AsyncIterator[None]:
    """Say once, after a few seconds, if no worker polls the queue the work waits on."""

    async def check() -> None:
        await asyncio.sleep(_POLLER_GRACE)
        queue = await task_queue_of(client.temporal, workflow_id)
        if not await has_pollers(client.temporal, queue):
            print(
                f"a2a-temporal: no worker is polling task queue {queue!r}; start one with "
                f"`a2a-temporal worker --agents module:attr --task-queue {queue}` "
                "(or `a2a-temporal dev --agents module:attr`)",
                file=sys.stderr,
                flush=True,
            )

    warning = asyncio.create_task(check())
    try:
        yield
    finally:
        warning.cancel()
        with contextlib.suppress(asyncio.CancelledError, RPCError):
            await warning


async def _events(args: argparse.Namespace) -> int:
    client = await _client(args)
    await _expect(client, args.task_id, "task")
    handle = client.get_task(args.task_id)
    if args.follow:
        await print_events(handle.events(), answer=_answerer(client))
        return 0
    stream = WorkflowStreamClient.create(client.temporal, args.task_id)
    end = await stream.get_offset()
    if end:
        await print_events(handle.events(), limit=end)
    return 0


async def _expect(client: TemporalA2AClient, workflow_id: str, kind: Kind) -> None:
    try:
        await expect_kind(client.temporal, workflow_id, kind)
    except LookupError:
        raise UnknownTask(f"no {kind} {workflow_id!r}") from None
    except WrongKind as exc:
        raise CliError(str(exc)) from None


async def _on_task(args: argparse.Namespace, action: Callable[[TaskHandle], Awaitable[int]]) -> int:
    client = await _client(args)
    await _expect(client, args.task_id, "task")
    return await action(client.get_task(args.task_id))


async def _cancel(handle: TaskHandle) -> int:
    await handle.cancel()
    print(f"cancel requested for {handle.task_id}")
    return 0


async def _result(handle: TaskHandle) -> int:
    result = await handle.result()
    _print_result(result)
    return 0 if result.ok else 1


async def _artifacts(args: argparse.Namespace) -> int:
    client = await _client(args)
    await _expect(client, args.task_id, "task")
    handle = client.get_task(args.task_id)
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


def _print_state(state: PipelineState) -> None:
    for step_id, step in state.steps.items():
        items = f" {len(step.item_results)}/{step.items_total} items" if step.items_total else ""
        took = (
            f" {(step.finished_at - step.started_at).total_seconds():.1f}s"
            if step.started_at and step.finished_at
            else ""
        )
        error = f" error: {step.error}" if step.error else ""
        print(f"  {step_id:<24} {step.status:<10}{items}{took}{error}", flush=True)


async def _pipeline(args: argparse.Namespace) -> int:
    client = await _client(args)
    if args.pipeline_command == "run":
        try:
            spec = Pipeline.load(args.file)
        except PipelineError as exc:
            raise CliError(str(exc)) from None
        handle = await client.start_pipeline(spec)
        print(f"pipeline {handle.pipeline_id}", flush=True)
        async with _warn_when_unpolled(client, handle.pipeline_id):
            if args.follow:
                await print_events(_without_summary(handle.events()), answer=_answerer(client))
            state = await handle.result()
    else:
        await _expect(client, args.pipeline_id, "pipeline")
        handle = client.get_pipeline(args.pipeline_id)
        if args.pipeline_command == "cancel":
            await handle.cancel()
            print(f"cancel requested for {handle.pipeline_id}")
            return 0
        state = await handle.state()
    print(f"{state.status}" + (f": {state.error}" if state.error else ""), flush=True)
    _print_state(state)
    return 0 if state.status in ("completed", "running") else 1


async def _without_summary(events: AsyncIterator[AgentEvent]) -> AsyncIterator[AgentEvent]:
    """A pipeline's events but its final `pipeline` event (the state is printed instead)."""
    async for event in events:
        if event.kind != "pipeline":
            yield event


async def _answer(args: argparse.Namespace) -> int:
    try:
        value = _json_arg(args.value, "VALUE")
    except CliError:
        if args.value.startswith("@") or args.value == "-":
            raise
        value = args.value
    client = await _client(args)
    await _expect(client, args.task_id, "task")
    try:
        await client.get_task(args.task_id).answer(args.question_id, value)
    except ValueError as exc:
        raise CliError(f"answer refused: {exc}") from None
    print(f"answered {args.question_id} of {args.task_id}")
    return 0


def _key_id(args: argparse.Namespace) -> str:
    key_id: str = args.key_id or f"key{uuid.uuid4().hex[:8]}"
    if not re.fullmatch(r"[A-Za-z0-9_]+", key_id):
        raise CliError(f"--key-id {key_id!r}: use letters, digits and _ only")
    return key_id


def _encryption_key(args: argparse.Namespace) -> int:
    key_id = _key_id(args)
    print("# workers and clients (keep the key secret; add older ids to rotate):")
    print(f"export {ENV_PREFIX}PAYLOAD_ENCRYPTION_KEY_ID={key_id}")
    print(f"export {SECRET_ENV_PREFIX}{PAYLOAD_KEY_SECRET}{key_id}={generate_payload_key()}")
    return 0


async def _codec_server(args: argparse.Namespace) -> int:
    try:
        require_sdk()
    except ImportError as exc:
        raise CliError(str(exc)) from None

    from a2a_temporal.codec_server import create_codec_app

    settings = _settings(args)
    codec = payload_encryption(settings, SecretResolver(None, settings.secrets_dir))
    if codec is None:
        raise CliError(f"payload encryption is off: set {ENV_PREFIX}PAYLOAD_ENCRYPTION_KEY_ID")
    if not settings.codec_server_token:
        raise CliError(f"set {ENV_PREFIX}CODEC_SERVER_TOKEN: the server hands out plaintext")
    app = create_codec_app(codec, token=settings.codec_server_token, ui_origin=args.ui_origin)
    return await _serve_app(app, args.host, args.port)


def _identity_key(args: argparse.Namespace) -> int:
    key_id = _key_id(args)
    private, public = generate_key()
    issuers = json.dumps({key_id: public})
    print("# clients and the gateway (keep the private key secret):")
    print(f"export {ENV_PREFIX}IDENTITY_KEY_ID={key_id}")
    print(f"export {ENV_PREFIX}IDENTITY_SIGNING_KEY={private}")
    print("# workers (add to the keys they already trust to rotate):")
    print(f"export {ENV_PREFIX}IDENTITY_ISSUERS='{issuers}'")
    return 0


def _schema(args: argparse.Namespace) -> int:
    print(json.dumps(SCHEMAS[args.name].model_json_schema(), indent=2))
    return 0


async def _agents(args: argparse.Namespace) -> int:
    client = await _client(args)
    registry = client.router.registry
    if args.action == "register":
        if not args.target or not args.target.startswith(("http://", "https://")):
            raise CliError("agents register needs the agent's URL (http:// or https://)")
        try:
            require_sdk()
        except ImportError as exc:
            raise CliError(str(exc)) from None
        from a2a_temporal.protocol.convert import our_card
        from a2a_temporal.protocol.remote import RemoteAgents, RemoteError

        try:
            async with RemoteAgents().client(args.target) as (_, remote_card):
                registered = await registry.register_remote(
                    args.target, our_card(remote_card, args.name)
                )
        except (RemoteError, InfrastructureError) as exc:
            raise CliError(f"cannot read the agent card at {args.target}: {exc}") from None
        print(f"registered {registered.card.name} -> {args.target}")
        return 0
    if args.action == "forget":
        if not args.target:
            raise CliError("agents forget needs the agent's name")
        removed = await registry.forget(args.target)
        if not removed:
            raise CliError(f"no agent {args.target!r} is registered")
        print(f"forgot {args.target} ({removed} entries)")
        return 0
    cards = await client.discovery.find(tag=args.tag, skill=args.skill)
    entries = {e.card.name: e for e in await registry.entries(fresh=True)}
    if args.json:
        print(json.dumps([card.model_dump(mode="json") for card in cards], indent=2))
        return 0
    for card in cards:
        entry = entries.get(card.name)
        where = (entry.remote_url if entry and entry.remote_url else None) or card.task_queue
        skills = ",".join(skill.name for skill in card.skills)
        print(f"{card.name:<20} {where or '-':<28} skills={skills} tags={','.join(card.tags)}")
    return 0


async def _serve(args: argparse.Namespace) -> int:
    try:
        require_sdk()
    except ImportError as exc:
        raise CliError(str(exc)) from None

    from a2a_temporal.protocol.gateway import create_gateway_app

    client = await _client(args)
    return await _serve_app(create_gateway_app(client), args.host, args.port)


async def _serve_app(app: Any, host: str, port: int) -> int:
    """Serve an ASGI app with uvicorn until SIGINT or SIGTERM."""
    import uvicorn

    configure_logging()
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="info"))
    stop = stop_on_signals()
    serving = asyncio.create_task(server.serve())
    await asyncio.wait([serving, asyncio.create_task(stop.wait())], return_when="FIRST_COMPLETED")
    server.should_exit = True
    await serving
    return 0


async def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "dev":
        await _dev(args)
    elif args.command == "worker":
        await _worker(args)
    elif args.command == "run":
        return await _run(args)
    elif args.command == "events":
        return await _events(args)
    elif args.command == "cancel":
        return await _on_task(args, _cancel)
    elif args.command == "result":
        return await _on_task(args, _result)
    elif args.command == "artifacts":
        return await _artifacts(args)
    elif args.command == "answer":
        return await _answer(args)
    elif args.command == "pipeline":
        return await _pipeline(args)
    elif args.command == "schema":
        return _schema(args)
    elif args.command == "identity-key":
        return _identity_key(args)
    elif args.command == "encryption-key":
        return _encryption_key(args)
    elif args.command == "codec-server":
        return await _codec_server(args)
    elif args.command == "serve":
        return await _serve(args)
    elif args.command == "agents":
        return await _agents(args)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the process exit code."""
    args = _parser().parse_args(argv)
    try:
        return asyncio.run(_dispatch(args))
    except (CliError, UnknownTask) as exc:
        print(f"a2a-temporal: error: {_one_line(str(exc))}", file=sys.stderr)
        return 2
    except RPCError as exc:
        print(f"a2a-temporal: error: Temporal said: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        if os.environ.get(DEBUG_ENV):
            raise
        print(
            f"a2a-temporal: error: {_one_line(describe_exception(exc))} "
            f"(set {DEBUG_ENV}=1 for a traceback)",
            file=sys.stderr,
        )
        return 2


def _one_line(text: str) -> str:
    return " ".join(text.split())


def run() -> NoReturn:
    """Console entry point: `main`, then `exit_process` with its code."""
    exit_process(main())


if __name__ == "__main__":
    run()
