"""Durable multi-agent work on Temporal: the public API.

Names are imported on first use: Temporal's workflow sandbox re-imports this
package for every workflow run, and its workflow code needs only the pure
modules, not the clients, activities and S3 code behind these names.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from a2a_temporal.agent import (
        A2AAgent,
        AgentCard,
        SkillCard,
        skill,
    )
    from a2a_temporal.auth import NoAuth, ScopedAuth
    from a2a_temporal.client import A2AClient, InMemoryA2AClient
    from a2a_temporal.context import LocalRunContext, RunContext
    from a2a_temporal.discovery import DiscoveryClient, InMemoryDiscoveryClient, UnknownAgent
    from a2a_temporal.errors import (
        CancelledByCaller,
        InfrastructureError,
        MissingScopes,
        MissingSecrets,
        OutputNotSerializable,
        SandboxUnavailable,
        SkillRejected,
    )
    from a2a_temporal.microsandbox_sandbox import MicrosandboxSandbox
    from a2a_temporal.pipeline import (
        Pipeline,
        PipelineError,
        PipelineState,
        Step,
        StepState,
    )
    from a2a_temporal.plugin import AgentPlugin
    from a2a_temporal.process_sandbox import ProcessSandbox
    from a2a_temporal.sandbox import (
        SandboxBackend,
        SandboxClient,
        SandboxResult,
        SandboxSession,
        SandboxSpec,
    )
    from a2a_temporal.settings import AgentSettings
    from a2a_temporal.temporal_client import (
        PipelineHandle,
        TaskHandle,
        TaskIdInUse,
        TemporalA2AClient,
        UnknownTask,
    )
    from a2a_temporal.temporal_context import TemporalRunContext
    from a2a_temporal.types import AgentEvent, ArtifactRef, CallResult
    from a2a_temporal.workspace import InMemoryWorkspace, WorkspaceClient

_EXPORTS = {
    "A2AAgent": "a2a_temporal.agent",
    "AgentCard": "a2a_temporal.agent",
    "SkillCard": "a2a_temporal.agent",
    "skill": "a2a_temporal.agent",
    "NoAuth": "a2a_temporal.auth",
    "ScopedAuth": "a2a_temporal.auth",
    "A2AClient": "a2a_temporal.client",
    "InMemoryA2AClient": "a2a_temporal.client",
    "LocalRunContext": "a2a_temporal.context",
    "RunContext": "a2a_temporal.context",
    "DiscoveryClient": "a2a_temporal.discovery",
    "InMemoryDiscoveryClient": "a2a_temporal.discovery",
    "UnknownAgent": "a2a_temporal.discovery",
    "CancelledByCaller": "a2a_temporal.errors",
    "InfrastructureError": "a2a_temporal.errors",
    "MissingScopes": "a2a_temporal.errors",
    "MissingSecrets": "a2a_temporal.errors",
    "OutputNotSerializable": "a2a_temporal.errors",
    "SandboxUnavailable": "a2a_temporal.errors",
    "SkillRejected": "a2a_temporal.errors",
    "MicrosandboxSandbox": "a2a_temporal.microsandbox_sandbox",
    "Pipeline": "a2a_temporal.pipeline",
    "PipelineError": "a2a_temporal.pipeline",
    "PipelineState": "a2a_temporal.pipeline",
    "Step": "a2a_temporal.pipeline",
    "StepState": "a2a_temporal.pipeline",
    "AgentPlugin": "a2a_temporal.plugin",
    "ProcessSandbox": "a2a_temporal.process_sandbox",
    "SandboxBackend": "a2a_temporal.sandbox",
    "SandboxClient": "a2a_temporal.sandbox",
    "SandboxResult": "a2a_temporal.sandbox",
    "SandboxSession": "a2a_temporal.sandbox",
    "SandboxSpec": "a2a_temporal.sandbox",
    "AgentSettings": "a2a_temporal.settings",
    "PipelineHandle": "a2a_temporal.temporal_client",
    "TaskHandle": "a2a_temporal.temporal_client",
    "TaskIdInUse": "a2a_temporal.temporal_client",
    "TemporalA2AClient": "a2a_temporal.temporal_client",
    "UnknownTask": "a2a_temporal.temporal_client",
    "TemporalRunContext": "a2a_temporal.temporal_context",
    "AgentEvent": "a2a_temporal.types",
    "ArtifactRef": "a2a_temporal.types",
    "CallResult": "a2a_temporal.types",
    "InMemoryWorkspace": "a2a_temporal.workspace",
    "WorkspaceClient": "a2a_temporal.workspace",
}

__all__ = [
    "A2AAgent",
    "A2AClient",
    "AgentCard",
    "AgentEvent",
    "AgentPlugin",
    "AgentSettings",
    "ArtifactRef",
    "CallResult",
    "CancelledByCaller",
    "DiscoveryClient",
    "InMemoryA2AClient",
    "InMemoryDiscoveryClient",
    "InMemoryWorkspace",
    "InfrastructureError",
    "LocalRunContext",
    "MicrosandboxSandbox",
    "MissingScopes",
    "MissingSecrets",
    "NoAuth",
    "OutputNotSerializable",
    "Pipeline",
    "PipelineError",
    "PipelineHandle",
    "PipelineState",
    "ProcessSandbox",
    "RunContext",
    "SandboxBackend",
    "SandboxClient",
    "SandboxResult",
    "SandboxSession",
    "SandboxSpec",
    "SandboxUnavailable",
    "ScopedAuth",
    "SkillCard",
    "SkillRejected",
    "Step",
    "StepState",
    "TaskHandle",
    "TaskIdInUse",
    "TemporalA2AClient",
    "TemporalRunContext",
    "UnknownAgent",
    "UnknownTask",
    "WorkspaceClient",
    "skill",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'a2a_temporal' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return list(__all__)
