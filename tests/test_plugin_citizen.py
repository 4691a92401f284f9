"""AgentPlugin on a user's worker: keeps their converter, leaves their workflows and
activities alone, and installs as one top-level package."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import sysconfig
import textwrap
import uuid
import zipfile
from pathlib import Path

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.converter import DataConverter
from temporalio.worker import Worker

from a2a_temporal import AgentPlugin, TemporalA2AClient
from a2a_temporal.testing import DevStack
from tests.agents import Splitter
from tests.user_project import WRAPPED, UserCodec, UserValidates

REPO = Path(__file__).resolve().parent.parent


async def test_the_plugin_composes_with_the_users_worker(stack: DevStack) -> None:
    queue = f"citizen-{uuid.uuid4().hex[:8]}"
    plugin = AgentPlugin([Splitter()], stack.settings(task_queue=queue))
    client = await Client.connect(
        stack.temporal_address,
        data_converter=DataConverter(payload_codec=UserCodec()),
        plugins=[plugin],
    )
    async with Worker(client, task_queue=queue, workflows=[UserValidates]) as worker:
        a2a = TemporalA2AClient(client)
        result = await a2a.call("splitter", "upper", args={"text": "kept"})
        started = (await a2a.temporal.get_workflow_handle(result.task_id).fetch_history()).events[0]
        user = await client.start_workflow(
            UserValidates.run, "not a number", id=f"user-{uuid.uuid4()}", task_queue=queue
        )
        async with asyncio.timeout(30):
            while not any(
                e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED
                for e in (await user.fetch_history()).events
            ):
                await asyncio.sleep(0.1)
        user_status = (await user.describe()).status
        await user.terminate("test done")
        throttle = worker.config()["max_heartbeat_throttle_interval"]
    assert (result.status, result.output) == ("completed", "KEPT")
    payload = started.workflow_execution_started_event_attributes.input.payloads[0]
    assert payload.metadata["encoding"] == WRAPPED, "the user's codec still encodes"
    assert user_status == WorkflowExecutionStatus.RUNNING, "their workflow task failed, not it"
    assert throttle.total_seconds() == 60, "the worker's heartbeat throttle is left alone"


def test_the_wheel_adds_one_top_level_package_next_to_a_users_workflows(
    stack: DevStack, tmp_path: Path
) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path), str(REPO)],
        check=True,
    )
    [wheel] = tmp_path.glob("a2a_temporal-*.whl")
    tops = {name.split("/")[0] for name in zipfile.ZipFile(wheel).namelist()}
    assert {top for top in tops if not top.endswith(".dist-info")} == {"a2a_temporal"}
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    Path(site, "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "-q",
            "--no-deps",
            str(wheel),
        ],
        check=True,
    )
    project = tmp_path / "project"
    (project / "workflows").mkdir(parents=True)
    (project / "workflows" / "__init__.py").write_text('OWNER = "the user"\n')
    (project / "run.py").write_text(
        textwrap.dedent(
            """
            import asyncio, json, os, sys
            import workflows
            import a2a_temporal
            from pydantic import BaseModel
            from temporalio.client import Client
            from temporalio.worker import Worker
            from a2a_temporal import A2AAgent, AgentPlugin, AgentSettings, NoAuth, RunContext
            from a2a_temporal import TemporalA2AClient, skill

            class Text(BaseModel):
                text: str

            class Shouter(A2AAgent):
                name = "shouter"

                @skill
                async def shout(self, ctx: RunContext[NoAuth], args: Text) -> str:
                    return args.text.upper() + "!"

            async def main():
                settings = AgentSettings.from_env()
                plugin = AgentPlugin([Shouter()], settings)
                client = await Client.connect(settings.temporal_address, plugins=[plugin])
                async with Worker(client, task_queue=settings.task_queue):
                    result = await TemporalA2AClient(client).call(
                        "shouter", "shout", args={"text": "installed"}
                    )
                print(json.dumps({
                    "workflows": workflows.OWNER,
                    "library": a2a_temporal.__file__,
                    "status": result.status,
                    "output": result.output,
                }))

            asyncio.run(main())
            sys.stdout.flush()
            os._exit(0)  # skip interpreter teardown (see a2a_temporal.worker.run.exit_process)
            """
        )
    )
    env = {**stack.environment(task_queue=f"wheel-{uuid.uuid4().hex[:8]}"), "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [str(python), "run.py"],
        cwd=project,
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["workflows"] == "the user"
    assert report["library"].startswith(str(venv))
    assert (report["status"], report["output"]) == ("completed", "INSTALLED!")
