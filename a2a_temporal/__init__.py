"""Durable multi-agent work on Temporal: the public API.

Names are imported on first use: a client that only starts tasks should not
load the worker, the sandbox or the gateway behind other names, and a
workflow sandbox that imports this package pays for nothing it does not use. The
subpackages say what lives where: `core` (runtime-agnostic), `temporal` (the
Temporal runtime), `worker` (`AgentPlugin`), `protocol` (A2A), `trust`,
`sandbox` and `cli`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from a2a_temporal.core.agent import (
        A2AAgent,
        AgentCard,
        SkillCard,
        skill,
    )
    from a2a_temporal.core.auth import NoAuth, ScopedAuth
    from a2a_temporal.core.client import A2AClient, InMemoryA2AClient
    from a2a_temporal.core.context import RunContext
    from a2a_temporal.core.discovery import DiscoveryClient, InMemoryDiscoveryClient
    from a2a_temporal.core.local_context import LocalRunContext
    from a2a_temporal.core.types import (
        AgentEvent,
        ArtifactRef,
        Budget,
        CallResult,
        MessageReply,
        Usage,
    )
    from a2a_temporal.core.workspace import InMemoryWorkspace, WorkspaceClient
    from a2a_temporal.errors import (
        BudgetExceeded,
        CallMismatch,
        CancelledByCaller,
        DelegationRefused,
        GrantRefused,
        IdentityRefused,
        InfrastructureError,
        MissingScopes,
        MissingSecrets,
        OutboundRefused,
        OutputNotSerializable,
        PipelineError,
        RemoteError,
        SandboxUnavailable,
        SkillRejected,
        TaskIdInUse,
        UnknownAgent,
        UnknownTask,
    )
    from a2a_temporal.sandbox.interface import (
        SandboxBackend,
        SandboxClient,
        SandboxResult,
        SandboxSession,
        SandboxSpec,
    )
    from a2a_temporal.sandbox.microsandbox import MicrosandboxSandbox
    from a2a_temporal.sandbox.process import ProcessSandbox
    from a2a_temporal.settings import AgentSettings, GatewayIdentity
    from a2a_temporal.temporal.client import TemporalA2AClient
    from a2a_temporal.temporal.handles import PipelineHandle, TaskHandle
    from a2a_temporal.temporal.models import PushTarget
    from a2a_temporal.temporal.pipeline import (
        Pipeline,
        PipelineState,
        Step,
        StepState,
    )
    from a2a_temporal.testing import DevStack
    from a2a_temporal.worker.plugin import AgentPlugin

_EXPORTS = {
    # Agents, skills and the context they run in
    "A2AAgent": "a2a_temporal.core.agent",
    "AgentCard": "a2a_temporal.core.agent",
    "SkillCard": "a2a_temporal.core.agent",
    "skill": "a2a_temporal.core.agent",
    "NoAuth": "a2a_temporal.core.auth",
    "ScopedAuth": "a2a_temporal.core.auth",
    "RunContext": "a2a_temporal.core.context",
    "LocalRunContext": "a2a_temporal.core.local_context",
    "AgentEvent": "a2a_temporal.core.types",
    "ArtifactRef": "a2a_temporal.core.types",
    "CallResult": "a2a_temporal.core.types",
    "Budget": "a2a_temporal.core.types",
    "Usage": "a2a_temporal.core.types",
    "MessageReply": "a2a_temporal.core.types",
    "InMemoryWorkspace": "a2a_temporal.core.workspace",
    "WorkspaceClient": "a2a_temporal.core.workspace",
    "DiscoveryClient": "a2a_temporal.core.discovery",
    "InMemoryDiscoveryClient": "a2a_temporal.core.discovery",
    # Clients and the plugin
    "A2AClient": "a2a_temporal.core.client",
    "InMemoryA2AClient": "a2a_temporal.core.client",
    "TemporalA2AClient": "a2a_temporal.temporal.client",
    "PipelineHandle": "a2a_temporal.temporal.handles",
    "TaskHandle": "a2a_temporal.temporal.handles",
    "PushTarget": "a2a_temporal.temporal.models",
    "Pipeline": "a2a_temporal.temporal.pipeline",
    "PipelineState": "a2a_temporal.temporal.pipeline",
    "Step": "a2a_temporal.temporal.pipeline",
    "StepState": "a2a_temporal.temporal.pipeline",
    "AgentPlugin": "a2a_temporal.worker.plugin",
    "AgentSettings": "a2a_temporal.settings",
    "GatewayIdentity": "a2a_temporal.settings",
    # Running code
    "SandboxBackend": "a2a_temporal.sandbox.interface",
    "SandboxClient": "a2a_temporal.sandbox.interface",
    "SandboxResult": "a2a_temporal.sandbox.interface",
    "SandboxSession": "a2a_temporal.sandbox.interface",
    "SandboxSpec": "a2a_temporal.sandbox.interface",
    "ProcessSandbox": "a2a_temporal.sandbox.process",
    "MicrosandboxSandbox": "a2a_temporal.sandbox.microsandbox",
    # Errors and testing
    "CallMismatch": "a2a_temporal.errors",
    "BudgetExceeded": "a2a_temporal.errors",
    "CancelledByCaller": "a2a_temporal.errors",
    "DelegationRefused": "a2a_temporal.errors",
    "GrantRefused": "a2a_temporal.errors",
    "IdentityRefused": "a2a_temporal.errors",
    "InfrastructureError": "a2a_temporal.errors",
    "MissingScopes": "a2a_temporal.errors",
    "MissingSecrets": "a2a_temporal.errors",
    "OutboundRefused": "a2a_temporal.errors",
    "OutputNotSerializable": "a2a_temporal.errors",
    "PipelineError": "a2a_temporal.errors",
    "RemoteError": "a2a_temporal.errors",
    "SandboxUnavailable": "a2a_temporal.errors",
    "SkillRejected": "a2a_temporal.errors",
    "TaskIdInUse": "a2a_temporal.errors",
    "UnknownAgent": "a2a_temporal.errors",
    "UnknownTask": "a2a_temporal.errors",
    "DevStack": "a2a_temporal.testing",
}

__all__ = [
    "A2AAgent",
    "A2AClient",
    "AgentCard",
    "AgentEvent",
    "AgentPlugin",
    "AgentSettings",
    "ArtifactRef",
    "Budget",
    "BudgetExceeded",
    "CallMismatch",
    "CallResult",
    "CancelledByCaller",
    "DelegationRefused",
    "DevStack",
    "DiscoveryClient",
    "GatewayIdentity",
    "GrantRefused",
    "IdentityRefused",
    "InMemoryA2AClient",
    "InMemoryDiscoveryClient",
    "InMemoryWorkspace",
    "InfrastructureError",
    "LocalRunContext",
    "MessageReply",
    "MicrosandboxSandbox",
    "MissingScopes",
    "MissingSecrets",
    "NoAuth",
    "OutboundRefused",
    "OutputNotSerializable",
    "Pipeline",
    "PipelineError",
    "PipelineHandle",
    "PipelineState",
    "ProcessSandbox",
    "PushTarget",
    "RemoteError",
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
    "UnknownAgent",
    "UnknownTask",
    "Usage",
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
