"""`deploy/kubernetes/`, validated offline against a pinned Kubernetes version's schemas.

No cluster runs here: `kubernetes-validate` checks every object strictly
(unknown fields are errors), and the rest is what the product needs of the
manifests: variables it reads, probes on the ports it serves, grace periods
longer than its own, commands its CLI knows.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import kubernetes_validate  # type: ignore[import-untyped]
import pytest
import yaml

from a2a_temporal.cli.main import _parser
from a2a_temporal.settings import ENV_PREFIX, AgentSettings

KUBERNETES_VERSION = "1.30.0"
MANIFESTS = sorted(
    (Path(__file__).resolve().parent.parent / "deploy" / "kubernetes").glob("*.yaml")
)
OBJECTS: list[dict[str, Any]] = [
    doc for path in MANIFESTS for doc in yaml.safe_load_all(path.read_text()) if doc
]
OTHER_VARIABLES = {"A2A_TEMPORAL_AGENTS"}


def of_kind(kind: str) -> list[dict[str, Any]]:
    return [o for o in OBJECTS if o["kind"] == kind]


def config() -> dict[str, str]:
    [config_map] = of_kind("ConfigMap")
    data: dict[str, str] = config_map["data"]
    return data


def settings_of(container: dict[str, Any]) -> AgentSettings:
    """The settings a container gets from the ConfigMap and its literal `env`."""
    values = {**config(), **{e["name"]: e["value"] for e in container["env"] if "value" in e}}
    return AgentSettings.from_env({k: v for k, v in values.items() if k not in OTHER_VARIABLES})


@pytest.mark.parametrize("obj", OBJECTS, ids=lambda o: f"{o['kind']}/{o['metadata']['name']}")
def test_every_object_is_valid_for_the_pinned_kubernetes(obj: dict[str, Any]) -> None:
    kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)


def test_every_variable_is_one_the_code_reads() -> None:
    known = {ENV_PREFIX + name.upper() for name in AgentSettings.model_fields} | OTHER_VARIABLES
    names = set(config())
    for deployment in of_kind("Deployment"):
        for container in deployment["spec"]["template"]["spec"]["containers"]:
            names |= {e["name"] for e in container.get("env", [])}
    assert names - known == set()


def test_probes_commands_grace_periods_and_secrets_fit_the_processes() -> None:
    health_port = int(config()[f"{ENV_PREFIX}HEALTH_PORT"])
    for deployment in of_kind("Deployment"):
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        [container] = pod["containers"]
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        command = container["command"]
        settings = settings_of(container)
        if command[:2] == ["python", "worker.py"] or command[1:2] == ["serve"]:
            scraped = deployment["spec"]["template"]["metadata"]["annotations"]
            assert ports["metrics"] == settings.metrics_port == int(scraped["prometheus.io/port"])
        if command[:2] == ["python", "worker.py"]:
            assert ports["health"] == health_port
            grace = settings.worker_shutdown_grace
            assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
            assert container["livenessProbe"]["httpGet"]["path"] == "/livez"
        else:
            args = _parser().parse_args(command[1:])
            assert ports["http"] == args.port, deployment["metadata"]["name"]
            grace = settings.gateway_shutdown_grace if args.command == "serve" else timedelta()
        period = timedelta(seconds=pod.get("terminationGracePeriodSeconds", 30))
        assert period > grace, f"{deployment['metadata']['name']}: SIGKILL before the drain ends"
        mounts = {m["mountPath"] for m in container.get("volumeMounts", [])}
        if settings.secrets_dir is not None and command[:2] == ["python", "worker.py"]:
            assert str(settings.secrets_dir) in mounts


def test_services_and_the_autoscaler_point_at_what_exists() -> None:
    deployments = {d["metadata"]["name"]: d for d in of_kind("Deployment")}
    for service in of_kind("Service"):
        selected = [
            d
            for d in deployments.values()
            if service["spec"]["selector"].items()
            <= d["spec"]["template"]["metadata"]["labels"].items()
        ]
        assert len(selected) == 1, service["metadata"]["name"]
        [container] = selected[0]["spec"]["template"]["spec"]["containers"]
        names = {p["name"] for p in container["ports"]}
        assert {p["targetPort"] for p in service["spec"]["ports"]} <= names
    for autoscaler in of_kind("HorizontalPodAutoscaler"):
        assert autoscaler["spec"]["scaleTargetRef"]["name"] in deployments
