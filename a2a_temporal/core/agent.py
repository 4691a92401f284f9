"""Agents, their skills and the cards that describe them."""

from __future__ import annotations

import dataclasses
import inspect
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypeVar, get_type_hints, overload

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError
from pydantic_core import PydanticSerializationError, to_json, to_jsonable_python

from a2a_temporal.core.auth import NoAuth, missing_scopes
from a2a_temporal.core.describe import describe_validation_error
from a2a_temporal.core.types import Budget, DivergencePolicy
from a2a_temporal.errors import MissingScopes, OutputNotSerializable, SkillRejected

if TYPE_CHECKING:
    from a2a_temporal.core.context import RunContext

__all__ = [
    "MAX_OUTPUT_BYTES",
    "A2AAgent",
    "AgentCard",
    "PreparedCall",
    "SkillCard",
    "SkillSpec",
    "WorkspaceAccess",
    "skill",
]

WorkspaceAccess = Literal["none", "read", "write"]
MAX_OUTPUT_BYTES = 50 * 2**20  # the payload store's limit for one payload
SkillHandler = Callable[..., Awaitable[Any]]
_F = TypeVar("_F", bound=SkillHandler)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
_SPEC_ATTR = "__a2a_skill__"


class SkillCard(BaseModel):
    """Public description of one skill."""

    model_config = ConfigDict(frozen=True)

    name: str
    description: str = ""
    tags: tuple[str, ...] = ()
    scopes: tuple[str, ...] = ()
    input_schema: dict[str, Any]
    output_schema: dict[str, Any]


class AgentCard(BaseModel):
    """Public description of an agent: metadata, skills and where it runs."""

    model_config = ConfigDict(frozen=True)

    name: str
    description: str = ""
    tags: tuple[str, ...] = ()
    capabilities: tuple[str, ...] = ()
    workspace_access: WorkspaceAccess = "none"
    skills: tuple[SkillCard, ...] = ()
    task_queue: str | None = None

    def skill(self, name: str) -> SkillCard | None:
        """Return the card of skill `name`, or None."""
        return next((s for s in self.skills if s.name == name), None)


@dataclass(frozen=True)
class SkillSpec:
    """What `@skill` records about a handler.

    Attributes:
        name: Skill name, unique within its agent.
        description: One line for the agent card.
        tags: Free-form labels for discovery.
        scopes: Scopes a caller must hold; checked before the handler runs.
        retries: Extra attempts after a failure (on Temporal, activity retries).
        timeout: Bound on one attempt of the handler, or None.
        on_divergence: What a re-run whose `ctx.call`s differ from an earlier
            attempt's does: `fail` the task, or `supersede` the earlier calls.
        input_model: Pydantic model the args are validated against, or None.
        output_schema: JSON schema of the return value.
        handler: The undecorated coroutine function.
        budget: What one task of this skill may spend, its calls included, or None.
    """

    name: str
    description: str
    tags: tuple[str, ...]
    scopes: tuple[str, ...]
    retries: int
    timeout: timedelta | None
    on_divergence: DivergencePolicy
    input_model: type[BaseModel] | None
    output_schema: dict[str, Any]
    handler: SkillHandler
    budget: Budget | None = None

    def card(self) -> SkillCard:
        """Describe this skill for an agent card."""
        schema = self.input_model.model_json_schema() if self.input_model else _EMPTY_OBJECT
        return SkillCard(
            name=self.name,
            description=self.description,
            tags=self.tags,
            scopes=self.scopes,
            input_schema=schema,
            output_schema=self.output_schema,
        )

    def parse_args(self, args: BaseModel | Mapping[str, Any] | None) -> BaseModel | None:
        """Validate call arguments against the input model.

        Raises:
            SkillRejected: With every invalid field named.
        """
        if self.input_model is None:
            if args:
                raise SkillRejected(f"skill {self.name!r} takes no args, got {_keys(args)}")
            return None
        if isinstance(args, self.input_model):
            return args
        raw = args.model_dump() if isinstance(args, BaseModel) else dict(args or {})
        try:
            return self.input_model.model_validate(raw)
        except ValidationError as exc:
            raise SkillRejected(
                f"invalid args for {self.name!r}: {describe_validation_error(exc)}"
            ) from None

    async def invoke(self, agent: A2AAgent, ctx: RunContext[Any], args: BaseModel | None) -> Any:
        """Run the handler and return its output as JSON-compatible data."""
        if self.input_model is None:
            result = await self.handler(agent, ctx)
        else:
            result = await self.handler(agent, ctx, args)
        try:
            output = to_jsonable_python(result)
            size = len(to_json(output))
        except PydanticSerializationError as exc:
            raise OutputNotSerializable(
                f"skill {self.name!r} returned a {type(result).__name__}, which cannot be "
                f"turned into JSON: {exc}"
            ) from None
        if size > MAX_OUTPUT_BYTES:
            raise OutputNotSerializable(
                f"skill {self.name!r} returned {size / 2**20:.1f} MiB of JSON, over the "
                f"{MAX_OUTPUT_BYTES // 2**20} MiB a result may hold; write it with "
                "ctx.write_artifact and return its name"
            )
        return output


_EMPTY_OBJECT: dict[str, Any] = {"type": "object", "properties": {}}


def _keys(args: BaseModel | Mapping[str, Any]) -> list[str]:
    data = args.model_dump() if isinstance(args, BaseModel) else args
    return sorted(data)


@overload
def skill(fn: _F, /) -> _F: ...
@overload
def skill(
    *,
    name: str | None = None,
    description: str | None = None,
    tags: tuple[str, ...] = (),
    scopes: tuple[str, ...] = (),
    retries: int = 2,
    timeout: timedelta | float | None = None,
    on_divergence: DivergencePolicy = "fail",
    budget: Budget | None = None,
) -> Callable[[_F], _F]: ...
def skill(
    fn: _F | None = None,
    /,
    *,
    name: str | None = None,
    description: str | None = None,
    tags: tuple[str, ...] = (),
    scopes: tuple[str, ...] = (),
    retries: int = 2,
    timeout: timedelta | float | None = None,
    on_divergence: DivergencePolicy = "fail",
    budget: Budget | None = None,
) -> _F | Callable[[_F], _F]:
    """Mark an `async def f(self, ctx, args: Model)` method as a skill.

    Args:
        fn: The method, when used as a bare `@skill`.
        name: Skill name; defaults to the method name.
        description: Defaults to the first line of the docstring.
        tags: Labels for discovery.
        scopes: Scopes the caller must hold.
        retries: Extra attempts after a failure.
        timeout: Bound on one attempt, in seconds or as a timedelta.
        on_divergence: When a re-run (a retry, or a resume after a question)
            makes other `ctx.call`s than the earlier attempt at some position:
            `fail` (the default, right for deterministic code) fails the task
            with `CallMismatch`; `supersede` (for LLM agents, whose re-runs
            legitimately choose other tools) cancels the earlier calls from
            that position on and starts the new ones. The same for `ctx.step`s.
        budget: At most this much for one task of this skill, its calls included
            (a caller's smaller budget wins); `BudgetExceeded` past it.
    """
    if on_divergence not in ("fail", "supersede"):
        raise ValueError(f"on_divergence must be 'fail' or 'supersede', got {on_divergence!r}")

    def decorate(handler: _F) -> _F:
        spec = _build_spec(
            handler, name, description, tags, scopes, retries, timeout, on_divergence
        )
        setattr(handler, _SPEC_ATTR, dataclasses.replace(spec, budget=budget))
        return handler

    return decorate(fn) if fn is not None else decorate


def _build_spec(
    handler: SkillHandler,
    name: str | None,
    description: str | None,
    tags: tuple[str, ...],
    scopes: tuple[str, ...],
    retries: int,
    timeout: timedelta | float | None,
    on_divergence: DivergencePolicy,
) -> SkillSpec:
    if not inspect.iscoroutinefunction(handler):
        raise TypeError(f"skill {handler.__qualname__} must be an async def")
    skill_name = name or handler.__name__
    _check_name("skill", skill_name)
    if retries < 0:
        raise ValueError(f"skill {skill_name!r}: retries must be >= 0, got {retries}")
    if isinstance(timeout, int | float):
        timeout = timedelta(seconds=timeout)
    if timeout is not None and timeout <= timedelta(0):
        raise ValueError(f"skill {skill_name!r}: timeout must be positive")
    hints = get_type_hints(handler)
    params = list(inspect.signature(handler).parameters)
    if len(params) not in (2, 3):
        raise TypeError(
            f"skill {handler.__qualname__} must take (self, ctx) or (self, ctx, args: Model)"
        )
    input_model: type[BaseModel] | None = None
    if len(params) == 3:
        annotation = hints.get(params[2])
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            raise TypeError(
                f"skill {handler.__qualname__}: args must be annotated with a pydantic model"
            )
        input_model = annotation
    doc = inspect.getdoc(handler) or ""
    return SkillSpec(
        name=skill_name,
        description=description if description is not None else doc.split("\n", 1)[0],
        tags=tuple(tags),
        scopes=tuple(scopes),
        retries=retries,
        timeout=timeout,
        on_divergence=on_divergence,
        input_model=input_model,
        output_schema=_output_schema(hints.get("return", Any)),
        handler=handler,
    )


def _output_schema(annotation: Any) -> dict[str, Any]:
    if annotation is None or annotation is type(None):
        return {"type": "null"}
    try:
        return TypeAdapter(annotation).json_schema()
    except Exception:  # an annotation pydantic cannot describe: say nothing about it
        return {}


def _check_declarations(agent: type[A2AAgent]) -> None:
    """Refuse, at class definition, declarations that could never work."""
    where = f"agent {agent.name!r}"
    model = agent.auth_model
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        raise TypeError(f"{where}: auth_model must be a pydantic model class, got {model!r}")
    if agent.workspace_access not in ("none", "read", "write"):
        raise TypeError(
            f"{where}: workspace_access must be 'none', 'read' or 'write', "
            f"got {agent.workspace_access!r}"
        )
    for field in ("tags", "capabilities", "secrets"):
        value = getattr(agent, field)
        if not isinstance(value, tuple) or not all(isinstance(v, str) for v in value):
            raise TypeError(f"{where}: {field} must be a tuple of strings, got {value!r}")
    if "scopes" in model.model_fields:
        return
    for spec in agent.skills.values():
        if spec.scopes:
            raise TypeError(
                f"{where}: skill {spec.name!r} requires scopes {', '.join(spec.scopes)}, but "
                f"the agent's auth_model {model.__name__} has no `scopes` field, so no caller "
                "could ever hold them; set auth_model = ScopedAuth (or a model with a "
                "`scopes` field) on the agent class"
            )


def _check_name(what: str, name: str) -> None:
    if not _NAME.match(name):
        raise ValueError(
            f"{what} name {name!r} must start with a letter or digit and contain only "
            "letters, digits, '_' and '-'"
        )


@dataclass(frozen=True)
class PreparedCall:
    """A call that passed every check and is ready to run."""

    agent: A2AAgent
    spec: SkillSpec
    auth: BaseModel
    args: BaseModel | None

    async def invoke(self, ctx: RunContext[Any]) -> Any:
        """Run the skill once in `ctx` and return its JSON-compatible output."""
        return await self.spec.invoke(self.agent, ctx, self.args)


class A2AAgent:
    """Base class for agents: set the class attributes and decorate skills.

    Example:
        class Echo(A2AAgent):
            name = "echo"

            @skill
            async def say(self, ctx: RunContext[NoAuth], args: Text) -> str:
                return args.text
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    tags: ClassVar[tuple[str, ...]] = ()
    capabilities: ClassVar[tuple[str, ...]] = ()
    workspace_access: ClassVar[WorkspaceAccess] = "none"
    auth_model: ClassVar[type[BaseModel]] = NoAuth
    secrets: ClassVar[tuple[str, ...]] = ()
    skills: ClassVar[Mapping[str, SkillSpec]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not cls.__dict__.get("name"):
            cls.name = cls.__name__
        _check_name("agent", cls.name)
        found: dict[str, SkillSpec] = {}
        for klass in reversed(cls.__mro__):
            own: dict[str, str] = {}
            for attr_name, attr in vars(klass).items():
                spec = getattr(attr, _SPEC_ATTR, None)
                if not isinstance(spec, SkillSpec):
                    continue
                if spec.name in own:
                    raise TypeError(
                        f"agent {cls.name!r} declares skill {spec.name!r} twice (methods "
                        f"{own[spec.name]} and {attr_name}); give one of them another name"
                    )
                own[spec.name] = attr_name
                found[spec.name] = spec
        cls.skills = found
        _check_declarations(cls)

    def get_skill(self, name: str) -> SkillSpec:
        """Return the skill called `name`.

        Raises:
            SkillRejected: The agent has no such skill; the message lists those it has.
        """
        spec = self.skills.get(name)
        if spec is None:
            have = ", ".join(sorted(self.skills)) or "none"
            raise SkillRejected(f"agent {self.name!r} has no skill {name!r} (skills: {have})")
        return spec

    def parse_auth(self, auth: BaseModel | Mapping[str, Any] | None) -> BaseModel:
        """Validate a caller identity against this agent's `auth_model`.

        The actor chain (`actors`) is kept only by models with an `actors` field.

        Raises:
            SkillRejected: The identity does not fit the model.
        """
        if isinstance(auth, self.auth_model):
            return auth
        raw = auth.model_dump() if isinstance(auth, BaseModel) else dict(auth or {})
        if self.auth_model is NoAuth:
            return NoAuth()
        if "actors" not in self.auth_model.model_fields:
            raw.pop("actors", None)
        try:
            return self.auth_model.model_validate(raw)
        except ValidationError as exc:
            raise SkillRejected(
                f"the caller's identity does not fit agent {self.name!r} (auth model "
                f"{self.auth_model.__name__}): {describe_validation_error(exc)}"
            ) from None

    def prepare(
        self,
        skill_name: str,
        args: BaseModel | Mapping[str, Any] | None,
        auth: BaseModel | Mapping[str, Any] | None,
    ) -> PreparedCall:
        """Check a call before anything runs: skill, auth, scopes, then args.

        Raises:
            SkillRejected: Unknown skill, bad auth or args (`MissingScopes` for scopes).
        """
        spec = self.get_skill(skill_name)
        parsed_auth = self.parse_auth(auth)
        missing = missing_scopes(parsed_auth, spec.scopes)
        if missing:
            raise MissingScopes(missing)
        return PreparedCall(self, spec, parsed_auth, spec.parse_args(args))

    @classmethod
    def card(cls, task_queue: str | None = None) -> AgentCard:
        """Describe this agent and its skills."""
        return AgentCard(
            name=cls.name,
            description=cls.description or (inspect.getdoc(cls) or "").split("\n", 1)[0],
            tags=tuple(cls.tags),
            capabilities=tuple(cls.capabilities),
            workspace_access=cls.workspace_access,
            skills=tuple(spec.card() for spec in cls.skills.values()),
            task_queue=task_queue,
        )
