"""`docker-compose.yml`, the `Dockerfile` and `.env.example`, checked by reading them.

No Docker engine runs here, so the checks are what `docker compose up` would
trip on first: files it references, variables nothing reads, dependencies on
services that cannot satisfy them, ports that disagree with the commands, and
an image whose build step or entrypoint would fail.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from a2a_temporal.cli.main import _parser
from a2a_temporal.settings import ENV_PREFIX, AgentSettings

REPO = Path(__file__).resolve().parent.parent
COMPOSE: dict[str, Any] = yaml.safe_load((REPO / "docker-compose.yml").read_text())
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
ENV_EXAMPLE = (REPO / ".env.example").read_text()
# Variables the code reads that are not settings.
OTHER_VARIABLES = {"A2A_TEMPORAL_AGENTS", "A2A_TEMPORAL_DEBUG"}
_VARIABLE = re.compile(r"^#?\s*([A-Z][A-Z0-9_]*)=", re.MULTILINE)


def example_variables() -> dict[str, bool]:
    """Every variable `.env.example` names, and whether it is set (not commented out)."""
    return {
        match.group(1): not match.group(0).startswith("#")
        for match in _VARIABLE.finditer(ENV_EXAMPLE)
    }


def image_services() -> dict[str, dict[str, Any]]:
    return {name: spec for name, spec in SERVICES.items() if "build" in spec}


def test_every_variable_the_services_get_is_one_the_code_reads() -> None:
    settings = {ENV_PREFIX + name.upper() for name in AgentSettings.model_fields}
    interpolated = set(re.findall(r"\$\{(\w+)\}", (REPO / "docker-compose.yml").read_text()))
    for name in example_variables():
        if name.startswith(ENV_PREFIX):
            assert name in settings | OTHER_VARIABLES, f".env.example sets {name}: nothing reads it"
        elif not name.startswith("A2A_SECRET_"):
            assert name in interpolated, f".env.example sets {name}: the compose file never uses it"
    for name in interpolated:
        assert example_variables().get(name), f"docker-compose.yml uses ${{{name}}}: not in .env"
    for name in re.findall(r"\b(A2A_TEMPORAL_\w+)", (REPO / "worker.py").read_text()):
        assert name in settings | OTHER_VARIABLES


def test_the_example_environment_parses_as_settings() -> None:
    values = {
        name: value
        for name, value in re.findall(r"^([A-Z][A-Z0-9_]*)=(.*)$", ENV_EXAMPLE, re.MULTILINE)
        if name.startswith(ENV_PREFIX) and name not in OTHER_VARIABLES
    }
    settings = AgentSettings.from_env(values)
    assert settings.temporal_address == "temporal:7233"
    assert settings.s3_endpoint == "http://minio:9000"


def test_referenced_files_exist_and_dependencies_can_be_met() -> None:
    for name, spec in SERVICES.items():
        for env_file in [spec["env_file"]] if isinstance(spec.get("env_file"), str) else []:
            assert env_file == ".env" and (REPO / ".env.example").exists(), name
        if "build" in spec:
            assert (REPO / spec["build"] / "Dockerfile").exists(), name
        for needed, condition in (spec.get("depends_on") or {}).items():
            assert needed in SERVICES, f"{name} depends on {needed}, which is not a service"
            wanted = condition["condition"]
            if wanted == "service_healthy":
                assert "healthcheck" in SERVICES[needed], f"{needed} has no healthcheck"
            if wanted == "service_completed_successfully":
                assert SERVICES[needed].get("restart") == "no", f"{needed} must run once"
    for volume in COMPOSE.get("volumes", {}):
        assert any(
            str(mount).startswith(f"{volume}:")
            for spec in SERVICES.values()
            for mount in spec.get("volumes", [])
        ), f"volume {volume} is not mounted"


def test_published_ports_are_unique_and_match_what_the_commands_listen_on() -> None:
    published: dict[str, str] = {}
    for name, spec in SERVICES.items():
        for mapping in spec.get("ports", []):
            host, _, _ = str(mapping).partition(":")
            assert host not in published, f"{name} and {published[host]} both publish {host}"
            published[host] = name
    gateway = SERVICES["gateway"]
    args = _parser().parse_args(gateway["command"][1:])
    assert args.command == "serve" and args.host == "0.0.0.0"
    assert f"{args.port}:{args.port}" in gateway["ports"]
    assert f":{args.port}/" in " ".join(gateway["healthcheck"]["test"])


def test_the_image_entrypoints_exist() -> None:
    dockerfile = (REPO / "Dockerfile").read_text()
    cmd = re.search(r"^CMD (\[.*\])$", dockerfile, re.MULTILINE)
    assert cmd is not None
    assert yaml.safe_load(cmd.group(1)) == ["python", "worker.py"]
    assert "COPY worker.py" in dockerfile and (REPO / "worker.py").exists()
    scripts = re.search(r"^a2a-temporal = \"(.+)\"$", (REPO / "pyproject.toml").read_text(), re.M)
    assert scripts is not None and scripts.group(1) == "a2a_temporal.cli.main:run"
    for name, spec in image_services().items():
        command = spec.get("command")
        if command:
            assert command[0] == "a2a-temporal", name
            _parser().parse_args(command[1:])


def test_the_image_builds_from_what_the_dockerfile_copies(tmp_path: Path) -> None:
    """The `pip install '.[a2a]'` step, on exactly the files the Dockerfile copies."""
    dockerfile = (REPO / "Dockerfile").read_text()
    context = tmp_path / "app"
    context.mkdir()
    for line in re.findall(r"^COPY (.+)$", dockerfile, re.MULTILINE):
        *sources, destination = shlex.split(line)
        for source in sources:
            target = context / (source if destination.endswith("/") else destination)
            if destination == "./":
                target = context / source
            subprocess.run(["cp", "-r", str(REPO / source), str(target)], check=True)
    wheel = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path), "."],
        cwd=context,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert wheel.returncode == 0, wheel.stderr[-2000:]
    assert list(tmp_path.glob("a2a_temporal-*.whl"))


@pytest.mark.parametrize("signing", [False, True])
def test_the_gateway_of_the_example_environment_says_which_keys_it_needs(signing: bool) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith((ENV_PREFIX, "A2A_SECRET_"))}
    env.update(re.findall(r"^(A2A_TEMPORAL_[A-Z0-9_]+)=(.*)$", ENV_EXAMPLE, re.MULTILINE))
    env["A2A_TEMPORAL_TEMPORAL_ADDRESS"] = "unreachable.invalid:7233"
    if signing:
        keys = subprocess.run(
            [sys.executable, "-m", "a2a_temporal.cli", "identity-key"],
            capture_output=True,
            text=True,
            check=True,
        )
        for line in keys.stdout.splitlines():
            if line.startswith("export "):
                name, _, value = line.removeprefix("export ").partition("=")
                env[name] = shlex.split(value)[0]
    serve = subprocess.run(
        [sys.executable, "-m", "a2a_temporal.cli", "serve"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert serve.returncode == 2
    [line] = serve.stderr.strip().splitlines()
    if signing:
        assert "cannot reach Temporal at unreachable.invalid:7233" in line, line
    else:
        assert f"{ENV_PREFIX}IDENTITY_SIGNING_KEY" in line, line
