"""Durable multi-agent work on Temporal: the public API."""

from a2a_temporal.agent import A2AAgent, AgentCard, SkillCard, skill
from a2a_temporal.auth import NoAuth, ScopedAuth
from a2a_temporal.client import A2AClient, InMemoryA2AClient
from a2a_temporal.context import LocalRunContext, RunContext
from a2a_temporal.discovery import DiscoveryClient, InMemoryDiscoveryClient, UnknownAgent
from a2a_temporal.errors import CancelledByCaller, MissingScopes, SandboxUnavailable, SkillRejected
from a2a_temporal.pipeline import Pipeline, PipelineError, PipelineState, Step, StepState
from a2a_temporal.plugin import AgentPlugin
from a2a_temporal.sandbox import SandboxClient, SandboxResult
from a2a_temporal.settings import AgentSettings
from a2a_temporal.temporal_client import (
    PipelineHandle,
    TaskHandle,
    TemporalA2AClient,
    UnknownTask,
)
from a2a_temporal.temporal_context import TemporalRunContext
from a2a_temporal.types import AgentEvent, ArtifactRef, CallResult
from a2a_temporal.workspace import InMemoryWorkspace, WorkspaceClient

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
    "LocalRunContext",
    "MissingScopes",
    "NoAuth",
    "Pipeline",
    "PipelineError",
    "PipelineHandle",
    "PipelineState",
    "RunContext",
    "SandboxClient",
    "SandboxResult",
    "SandboxUnavailable",
    "ScopedAuth",
    "SkillCard",
    "SkillRejected",
    "Step",
    "StepState",
    "TaskHandle",
    "TemporalA2AClient",
    "TemporalRunContext",
    "UnknownAgent",
    "UnknownTask",
    "WorkspaceClient",
    "skill",
]
