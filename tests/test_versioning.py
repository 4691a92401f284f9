"""Worker versioning on the dev server: where a task goes on after a deploy, by its behaviour.

Workers run through `run_worker` (what `a2a-temporal worker` runs) with
`deployment_name` and `build_id` set; versions are made current and watched
with the `temporal` commands docs/deploy.md gives, run as written there.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from temporalio.api.enums.v1 import EventType, VersioningBehavior
from temporalio.client import WorkflowHistory

from a2a_temporal import A2AAgent, NoAuth, RunContext, skill
from a2a_temporal.settings import AgentSettings
from a2a_temporal.testing import DevStack, find_temporal_cli
from a2a_temporal.worker.run import run_worker
from a2a_temporal.worker.versioning import deployment_config
from tests.agents import Text
from tests.doc_snippets import REPO, snippets
from tests.test_human_input import first_question, wait_parked

_LIMIT = 60.0


class Release(A2AAgent):
    """Says which build ran it: the build that resumes a parked skill is the one that answers."""

    name = "release-pinned"

    def __init__(self, build: str) -> None:
        self.build = build

    @skill(retries=0)
    async def ship(self, ctx: RunContext[NoAuth], args: Text) -> str:
        """Ask before shipping; answer with the build that ran the skill to its end."""
        answer = await ctx.ask(f"ship {args.text}?")
        return f"{self.build}: {answer}"

    @skill(retries=0)
    async def build_id(self, ctx: RunContext[NoAuth]) -> str:
        """The build this skill ran on."""
        return self.build


class UpgradingRelease(Release):
    name = "release-auto-upgrade"  # its own registry entry: the tests share one stack


class LateRelease(Release):
    name = "release-versioned-later"


def documented(subcommand: str, build: str) -> str:
    """The docs/deploy.md line running `temporal worker deployment SUBCOMMAND` for `$build`."""
    [line] = [
        line
        for block in snippets(REPO / "docs" / "deploy.md")
        if block.language == "bash"
        for line in block.code.replace("\\\n", " ").splitlines()
        if line.startswith(f"temporal worker deployment {subcommand} ") and f'"${build}"' in line
    ]
    return line


async def temporal(stack: DevStack, deployment: str, subcommand: str, **build: str) -> str:
    """Run the documented command with `build` (`NEW_BUILD="v2"`) set; its output.

    Raises:
        AssertionError: The command failed (the output says why).
    """
    [(variable, build_id)] = build.items()
    env = {
        **os.environ,
        "PATH": f"{Path(find_temporal_cli()).parent}{os.pathsep}{os.environ['PATH']}",
        "TEMPORAL_ADDRESS": stack.temporal_address,
        "TEMPORAL_NAMESPACE": stack.namespace,
        "A2A_TEMPORAL_DEPLOYMENT_NAME": deployment,
        variable: build_id,
    }
    argv = ["bash", "-euo", "pipefail", "-c", documented(subcommand, variable)]
    process = await asyncio.create_subprocess_exec(
        *argv, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    out, _ = await asyncio.wait_for(process.communicate(), _LIMIT)
    assert process.returncode == 0, out.decode()
    return out.decode()


async def wait_polled(stack: DevStack, deployment: str, build: str, queue: str) -> None:
    """Wait until the new version lists `queue` for workflows and activities (its workers poll)."""
    async with asyncio.timeout(_LIMIT):
        while True:
            with contextlib.suppress(AssertionError):  # the version appears with its first poll
                shown = json.loads(
                    await temporal(stack, deployment, "describe-version", NEW_BUILD=build)
                )
                polled = {(q["name"], q["type"]) for q in shown["taskQueuesInfos"] or []}
                if {(queue, "workflow"), (queue, "activity")} <= polled:
                    return
            await asyncio.sleep(0.2)


async def wait_drainage(stack: DevStack, deployment: str, build: str, status: str) -> None:
    """Wait until the old version's drainage status is `status`."""
    async with asyncio.timeout(_LIMIT):
        while True:
            shown = json.loads(
                await temporal(stack, deployment, "describe-version", OLD_BUILD=build)
            )
            if shown["drainageInfo"]["drainageStatus"] == status:
                return
            await asyncio.sleep(0.2)


@contextlib.asynccontextmanager
async def versioned_worker(
    stack: DevStack, agent: Release, settings: dict[str, Any]
) -> AsyncIterator[None]:
    """`run_worker` as version `agent.build`; in the block its version polls the queue."""
    stop = asyncio.Event()
    worker = asyncio.create_task(
        run_worker([agent], stack.settings(build_id=agent.build, **settings), stop)
    )
    polled = asyncio.create_task(
        wait_polled(stack, settings["deployment_name"], agent.build, settings["task_queue"])
    )
    try:
        await asyncio.wait([worker, polled], return_when=asyncio.FIRST_COMPLETED)
        assert not worker.done(), f"the worker stopped before it polled: {worker.exception()!r}"
        await polled
        yield
    finally:
        polled.cancel()
        stop.set()
        await worker


def completions(hist: WorkflowHistory) -> list[tuple[str, int]]:
    """Build id and versioning behaviour of each workflow task completion, in order."""
    return [
        (
            event.workflow_task_completed_event_attributes.deployment_version.build_id,
            event.workflow_task_completed_event_attributes.versioning_behavior,
        )
        for event in hist.events
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED
    ]


BEHAVIORS = {
    "pinned": VersioningBehavior.VERSIONING_BEHAVIOR_PINNED,
    "auto-upgrade": VersioningBehavior.VERSIONING_BEHAVIOR_AUTO_UPGRADE,
}


@pytest.mark.parametrize(
    ("agent_class", "behavior", "finished_by"),
    [(Release, "pinned", "v1"), (UpgradingRelease, "auto-upgrade", "v2")],
    ids=["pinned", "auto-upgrade"],
)
async def test_a_task_parked_over_a_deploy_resumes_on_the_version_its_behaviour_says(
    stack: DevStack, agent_class: type[Release], behavior: str, finished_by: str
) -> None:
    unique = uuid.uuid4().hex[:8]
    deployment, queue = f"agents-{unique}", f"q-{unique}"
    settings = {
        "task_queue": queue,
        "deployment_name": deployment,
        "versioning_behavior": behavior,
        "input_park_after": "PT0.3S",
        "worker_shutdown_grace": "PT1S",
    }
    client = await stack.client(task_queue=queue)
    async with versioned_worker(stack, agent_class("v1"), settings):
        await temporal(stack, deployment, "set-current-version", NEW_BUILD="v1")
        handle = await client.start(agent_class.name, "ship", args={"text": "it"})
        question = await first_question(handle)
        await wait_parked(client, handle.task_id)
        async with versioned_worker(stack, agent_class("v2"), settings):
            await temporal(stack, deployment, "set-current-version", NEW_BUILD="v2")
            later = await client.call(agent_class.name, "build_id")
            if behavior == "pinned":
                await wait_drainage(stack, deployment, "v1", "draining")
            await handle.answer(str(question["id"]), "yes")
            result = await handle.result(timeout=_LIMIT)
            await wait_drainage(stack, deployment, "v1", "drained")
    temporal_handle = client.temporal.get_workflow_handle(handle.task_id)
    versions = completions(await temporal_handle.fetch_history())
    info = (await temporal_handle.describe()).raw_description.workflow_execution_info
    later_hist = await client.temporal.get_workflow_handle(later.task_id).fetch_history()

    expected = BEHAVIORS[behavior]
    assert (later.status, later.output) == ("completed", "v2"), "new tasks go to the current one"
    assert set(completions(later_hist)) == {("v2", expected)}
    assert (result.status, result.output) == ("completed", f"{finished_by}: yes")
    assert {b for _, b in versions} == {expected}
    assert (versions[0][0], versions[-1][0]) == ("v1", finished_by)
    if behavior == "pinned":
        assert {build for build, _ in versions} == {"v1"}, "no workflow task ran on v2"
    versioning = info.versioning_info
    assert (versioning.behavior, versioning.deployment_version.build_id) == (expected, finished_by)


async def test_turning_versioning_on_moves_running_unversioned_tasks_to_the_current_version(
    stack: DevStack,
) -> None:
    unique = uuid.uuid4().hex[:8]
    deployment, queue = f"agents-{unique}", f"q-{unique}"
    settings: dict[str, Any] = {"task_queue": queue, "input_park_after": "PT0.3S"}
    async with stack.worker([LateRelease("unversioned")], None, **settings) as unversioned:
        handle = await unversioned.start(LateRelease.name, "ship", args={"text": "it"})
        question = await first_question(handle)
        await wait_parked(unversioned, handle.task_id)
    client = await stack.client(task_queue=queue)
    versioned = {**settings, "deployment_name": deployment, "worker_shutdown_grace": "PT1S"}
    async with versioned_worker(stack, LateRelease("v1"), versioned):
        await temporal(stack, deployment, "set-current-version", NEW_BUILD="v1")
        task = client.get_task(handle.task_id)
        await task.answer(str(question["id"]), "yes")
        result = await task.result(timeout=_LIMIT)
    hist = await client.temporal.get_workflow_handle(handle.task_id).fetch_history()

    assert (result.status, result.output) == ("completed", "v1: yes")
    versions = completions(hist)
    assert versions[0] == ("", VersioningBehavior.VERSIONING_BEHAVIOR_UNSPECIFIED)
    assert versions[-1] == ("v1", BEHAVIORS["pinned"]), "then it follows the setting"


def test_versioning_is_off_by_default_and_maps_the_settings_when_named() -> None:
    assert deployment_config(AgentSettings()) is None
    settings = AgentSettings.from_env(
        {
            "A2A_TEMPORAL_DEPLOYMENT_NAME": "agents",
            "A2A_TEMPORAL_BUILD_ID": "2025-06-01.3",
            "A2A_TEMPORAL_VERSIONING_BEHAVIOR": "auto-upgrade",
        }
    )
    config = deployment_config(settings)
    assert config is not None
    assert (config.version.deployment_name, config.version.build_id) == ("agents", "2025-06-01.3")
    assert config.use_worker_versioning
    assert config.default_versioning_behavior.name == "AUTO_UPGRADE"
    assert deployment_config(settings.model_copy(update={"versioning_behavior": "pinned"}))


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"deployment_name": "agents"}, "build_id: .*set build_id too"),
        ({"build_id": "v1"}, "build_id: .*set deployment_name too"),
        ({"deployment_name": "agents.eu", "build_id": "v1"}, "deployment_name: .*'.' or ':'"),
        ({"deployment_name": "agents:eu", "build_id": "v1"}, "deployment_name: .*'.' or ':'"),
        ({"deployment_name": "__agents", "build_id": "v1"}, "deployment_name: .*'__'"),
        ({"deployment_name": "agents", "build_id": "__v1"}, "build_id: .*'__'"),
        ({"deployment_name": "agents", "build_id": "v 1"}, "build_id: .*whitespace"),
        ({"deployment_name": "agents\n", "build_id": "v1"}, "deployment_name: .*whitespace"),
        ({"deployment_name": "agents", "build_id": "x" * 256}, "build_id: .*255 characters"),
        ({"versioning_behavior": "sticky"}, "versioning_behavior: .*'pinned' or 'auto-upgrade'"),
    ],
)
def test_bad_versioning_settings_are_refused_naming_the_setting(
    values: dict[str, str], message: str
) -> None:
    environ = {f"A2A_TEMPORAL_{name.upper()}": value for name, value in values.items()}
    with pytest.raises(ValueError, match=f"^invalid settings: {message}"):
        AgentSettings.from_env(environ)
