from datetime import timedelta

import pytest
from pydantic import BaseModel

from a2a_temporal import A2AAgent, NoAuth, RunContext, SkillRejected, skill
from tests.agents import Analyst, Flaky, Splitter, Vault


def test_card_carries_metadata_and_schemas() -> None:
    card = Splitter.card(task_queue="q")
    assert card.name == "splitter"
    assert card.description == "Splits text into words."
    assert card.tags == ("text",)
    assert card.capabilities == ("tokenize",)
    assert card.task_queue == "q"
    split = card.skill("split")
    assert split is not None
    assert split.description == "Split text on whitespace."
    assert split.tags == ("nlp",)
    assert split.input_schema["required"] == ["text"]
    assert set(split.output_schema["properties"]) == {"words", "count"}
    upper = card.skill("upper")
    assert upper is not None
    assert upper.description == "Upper-case the text."
    assert upper.output_schema == {"type": "string"}
    assert card.skill("nope") is None


def test_skill_options_are_recorded() -> None:
    assert Vault.skills["reveal"].scopes == ("vault:read",)
    assert Flaky.skills["hang"].timeout == timedelta(seconds=0.2)
    assert Flaky.skills["work"].retries == 2
    assert Flaky.skills["work"].input_model is None
    assert Vault.card().workspace_access == "write"


def test_unknown_skill_lists_the_existing_ones() -> None:
    with pytest.raises(SkillRejected, match=r"has no skill 'x' \(skills: nested, report\)"):
        Analyst().get_skill("x")


def test_prepare_validates_args_and_names_fields() -> None:
    agent = Analyst()
    with pytest.raises(SkillRejected, match=r"invalid args for 'nested': n: Input should be"):
        agent.prepare("nested", {"n": "many"}, None)
    with pytest.raises(SkillRejected, match=r"n: Field required"):
        agent.prepare("nested", {}, None)
    assert agent.prepare("nested", {"n": 2}, None).args.n == 2  # type: ignore[union-attr]
    with pytest.raises(SkillRejected, match="takes no args"):
        Flaky().prepare("work", {"x": 1}, None)


def test_bad_skill_definitions_fail_at_class_creation() -> None:
    with pytest.raises(TypeError, match="must be an async def"):

        class _Sync(A2AAgent):
            @skill  # type: ignore[type-var]
            def f(self, ctx: RunContext[NoAuth]) -> None:
                pass

    with pytest.raises(TypeError, match="pydantic model"):

        class _NoModel(A2AAgent):
            @skill
            async def f(self, ctx: RunContext[NoAuth], args: int) -> None:
                pass

    with pytest.raises(ValueError, match="agent name 'bad name'"):

        class _BadName(A2AAgent):
            name = "bad name"

    with pytest.raises(ValueError, match="retries must be >= 0"):
        skill(retries=-1)(Splitter.split)


def test_agent_name_defaults_to_class_name() -> None:
    class Helper(A2AAgent):
        class Args(BaseModel):
            x: int

        @skill(name="do-it")
        async def run(self, ctx: RunContext[NoAuth], args: Args) -> int:
            return args.x

    assert Helper.name == "Helper"
    assert list(Helper.skills) == ["do-it"]


def test_declarations_that_can_never_work_are_refused_at_class_definition() -> None:
    with pytest.raises(TypeError, match="auth_model NoAuth has no `scopes` field") as info:

        class Locked(A2AAgent):
            name = "locked"

            @skill(scopes=("admin",))
            async def open(self, ctx: RunContext[NoAuth]) -> str:
                return "never"

    assert "agent 'locked': skill 'open' requires scopes admin" in str(info.value)
    with pytest.raises(TypeError, match="declares skill 'go' twice"):

        class Twice(A2AAgent):
            @skill(name="go")
            async def first(self, ctx: RunContext[NoAuth]) -> str:
                return "1"

            @skill(name="go")
            async def second(self, ctx: RunContext[NoAuth]) -> str:
                return "2"

    with pytest.raises(TypeError, match="args must be annotated with a pydantic model"):

        class Loose(A2AAgent):
            @skill
            async def go(self, ctx: RunContext[NoAuth], args: dict) -> str:  # type: ignore[type-arg]
                return "x"

    with pytest.raises(TypeError, match="workspace_access must be 'none', 'read' or 'write'"):

        class Sloppy(A2AAgent):
            workspace_access = "rw"  # type: ignore[assignment]

    with pytest.raises(TypeError, match="auth_model must be a pydantic model class"):

        class Odd(A2AAgent):
            auth_model = dict  # type: ignore[assignment]


def test_an_identity_that_does_not_fit_is_rejected_saying_so() -> None:
    with pytest.raises(
        SkillRejected, match="does not fit agent 'vault' \\(auth model ScopedAuth\\)"
    ):
        Vault().prepare("reveal", {"text": "K"}, {"scopes": ["vault:read"]})
