"""Durable steps, usage and budgets: the parts both run contexts share.

A step is named by its name and occurrence (`plan#0`, `plan#1`, ...), taken
when `ctx.step` is entered, so steps started together under `asyncio.gather`
keep their names whatever order they finish in. Its args are digested, so a
re-run that reaches the same step with other args is told apart (an arg that
is not data, such as `ctx` or a client, counts by its type). Usage is
what a task spent (tokens, dollars, model calls), its subtree's included in
`CallResult.usage`; a `Budget` bounds it across the subtree.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import json
import re
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter
from pydantic_core import to_jsonable_python

from a2a_temporal.core.types import Budget, Usage
from a2a_temporal.errors import BudgetExceeded, OutputNotSerializable

__all__ = [
    "StepEntry",
    "StepLedger",
    "UsageMeter",
    "current_step_key",
    "decode_step_value",
    "encode_step_value",
    "running_step",
]

_STEP_KEY: contextvars.ContextVar[str | None] = contextvars.ContextVar("a2a_step_key", default=None)
_STEP_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


@dataclass(frozen=True)
class StepEntry:
    """A step as `ctx.step` entered it."""

    key: str
    seq: int
    digest: str


class StepLedger:
    """Hands out step names (name and occurrence) and order, and digests args."""

    def __init__(self) -> None:
        self._occurrences: dict[str, int] = {}
        self._next_seq = 0

    def enter(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> StepEntry:
        """Name the next occurrence of step `name` (synchronously: order of entry counts).

        Raises:
            ValueError: `name` is not a short word (letters, digits, `.`, `_`, `-`).
            RuntimeError: A step's function is running in this task already (steps do not nest).
        """
        if not isinstance(name, str) or not _STEP_NAME.fullmatch(name):
            raise ValueError(
                f"step name {name!r}: use 1 to 100 letters, digits, '.', '_' or '-', "
                "starting with a letter or digit"
            )
        if _STEP_KEY.get() is not None:
            raise RuntimeError(
                f"step {name!r} starts inside step {_STEP_KEY.get()!r}: steps do not nest "
                "(a re-run would not meet the inner ones); make them steps of the skill"
            )
        occurrence = self._occurrences.get(name, 0)
        self._occurrences[name] = occurrence + 1
        seq, self._next_seq = self._next_seq, self._next_seq + 1
        data = to_jsonable_python(_sets_sorted([name, args, kwargs]), fallback=_by_type)
        digest = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]
        return StepEntry(key=f"{name}#{occurrence}", seq=seq, digest=digest)


def _sets_sorted(value: Any) -> Any:
    """`value` with each set as a sorted list (a set's order differs from process to process)."""
    if isinstance(value, set | frozenset):
        members = [_sets_sorted(member) for member in value]
        return sorted(members, key=lambda m: json.dumps(to_jsonable_python(m, fallback=_by_type)))
    if isinstance(value, dict):
        return {key: _sets_sorted(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_sets_sorted(item) for item in value]
    return value


def _by_type(value: Any) -> str:
    """What stands for an arg that is not data (a context, a client) in a step's digest."""
    return f"<{type(value).__qualname__}>"


def encode_step_value(key: str, value: Any) -> Any:
    """`value` as JSON-compatible data, or `OutputNotSerializable` naming the step."""
    try:
        return to_jsonable_python(value)
    except Exception as exc:
        raise OutputNotSerializable(
            f"step {key!r} returned a {type(value).__name__}, which cannot be recorded as "
            f"JSON ({exc}); return JSON-compatible data or a pydantic model"
        ) from None


def decode_step_value(fn: Callable[..., Any], data: Any) -> Any:
    """A recorded value as `fn` returned it: validated against its return annotation."""
    try:
        returns = typing.get_type_hints(fn).get("return")
    except Exception:
        returns = None
    if returns is None or returns is Any:
        return data
    if typing.get_origin(returns) in (typing.Awaitable, typing.Coroutine):
        returns = typing.get_args(returns)[-1]
    return TypeAdapter(returns).validate_python(data)


def current_step_key() -> str | None:
    """The idempotency key of the step running now, or None outside a step."""
    return _STEP_KEY.get()


class _StepUsage:
    """The usage recorded while one step's function runs (it goes with the step's record)."""

    def __init__(self) -> None:
        self.usage = Usage()


_STEP_USAGE: contextvars.ContextVar[_StepUsage | None] = contextvars.ContextVar(
    "a2a_step_usage", default=None
)


class UsageMeter:
    """`ctx.usage`: what this task spent, and the budget it may not exceed.

    Args:
        budget: The task's budget (its subtree included), or None.
        before: What the task's skill spent before this run (the run counts its calls itself).
        on_record: Gets each record made outside a step (a step's go with its record).
        observe: Gets every record and its model (for metrics).
    """

    def __init__(
        self,
        budget: Budget | None = None,
        before: Usage | None = None,
        on_record: Callable[[Usage], None] | None = None,
        observe: Callable[[Usage, str | None], None] | None = None,
    ) -> None:
        self.budget = budget
        self.before = before or Usage()
        self.own = Usage()
        self._calls: dict[str, Usage] = {}
        self._on_record = on_record
        self._observe = observe

    @property
    def total(self) -> Usage:
        """What the task spent so far: before this run, in it, and by the calls that ended."""
        return sum(self._calls.values(), self.before + self.own)

    def record(
        self,
        input_tokens: int = 0,
        output_tokens: int = 0,
        cost_usd: float = 0.0,
        model: str | None = None,
    ) -> None:
        """Add one model (or tool) call's usage; `BudgetExceeded` once it is over the budget.

        `model` names the model, for the worker's metrics.
        """
        usage = Usage(
            input_tokens=input_tokens, output_tokens=output_tokens, cost_usd=cost_usd, calls=1
        )
        self.own = self.own + usage
        if self._observe is not None:
            self._observe(usage, model)
        step = _STEP_USAGE.get()
        if step is not None:
            step.usage = step.usage + usage
        elif self._on_record is not None:
            self._on_record(usage)
        if self.budget is not None and self.budget.exceeded(self.total):
            raise self.exceeded()

    def add_call(self, task_id: str, usage: Usage) -> None:
        """Count what the ended call `task_id` (and its subtree) spent; once, however often met."""
        self._calls[task_id] = usage

    def check(self) -> None:
        """`BudgetExceeded` when nothing of the budget is left (before a step or a call)."""
        if self.budget is not None and self.budget.spent(self.total):
            raise self.exceeded()

    def exceeded(self) -> BudgetExceeded:
        """The error saying how much of what budget was spent."""
        assert self.budget is not None
        return BudgetExceeded(f"budget exceeded: {self.budget.describe(self.total)}")

    def left(self) -> Budget | None:
        """What is left of the budget now (None: unbounded)."""
        return None if self.budget is None else self.budget.remaining(self.total)

    def for_call(self, asked: Budget | None) -> Budget | None:
        """A call's budget: what it asks for, at most what is left of this one."""
        left = self.left()
        return asked if left is None else left.within(asked)


@contextlib.contextmanager
def running_step(idempotency_key: str) -> Iterator[_StepUsage]:
    """Run a step's function inside: its idempotency key set, its usage collected."""
    key_token = _STEP_KEY.set(idempotency_key)
    usage = _StepUsage()
    usage_token = _STEP_USAGE.set(usage)
    try:
        yield usage
    finally:
        _STEP_USAGE.reset(usage_token)
        _STEP_KEY.reset(key_token)
