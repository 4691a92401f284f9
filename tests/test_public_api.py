import asyncio

import a2a_temporal

PUBLIC = [
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


def test_the_public_api_is_exactly_the_deliberate_list() -> None:
    assert a2a_temporal.__all__ == PUBLIC, "a change to the public API must be deliberate"


def test_every_public_error_is_exported_and_lives_in_errors() -> None:
    import a2a_temporal.errors

    assert set(a2a_temporal.errors.__all__) <= set(a2a_temporal.__all__)
    for name in a2a_temporal.errors.__all__:
        assert getattr(a2a_temporal, name).__module__ == "a2a_temporal.errors"


def test_all_is_sorted_and_importable() -> None:
    names = a2a_temporal.__all__
    assert names == sorted(names)
    for name in names:
        assert getattr(a2a_temporal, name) is not None


def test_seed_contract_names_are_public() -> None:
    seed = {
        "RunContext",
        "LocalRunContext",
        "ArtifactRef",
        "AgentEvent",
        "CancelledByCaller",
        "MissingScopes",
        "A2AAgent",
        "skill",
        "NoAuth",
        "ScopedAuth",
        "A2AClient",
        "CallResult",
        "InMemoryA2AClient",
        "DiscoveryClient",
        "AgentCard",
        "WorkspaceClient",
        "SandboxClient",
        "SandboxUnavailable",
    }
    assert seed <= set(a2a_temporal.__all__)


def test_run_context_abstract_surface() -> None:
    abstract = a2a_temporal.RunContext.__abstractmethods__
    assert {
        "emit_event",
        "write_artifact",
        "check_cancelled",
        "secret",
        "sandbox",
        "discover",
        "_a2a_client",
    } <= abstract


def test_contract_exception_types() -> None:
    assert issubclass(a2a_temporal.MissingScopes, PermissionError)
    missing = a2a_temporal.MissingScopes(("a", "b"))
    assert missing.missing == ("a", "b")
    assert str(missing) == "missing scopes: a, b"
    assert issubclass(a2a_temporal.CancelledByCaller, asyncio.CancelledError)


def test_exports_are_the_lazy_table() -> None:
    assert set(a2a_temporal.__all__) == set(a2a_temporal._EXPORTS)
