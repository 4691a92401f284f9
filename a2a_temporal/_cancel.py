"""Run a skill handler so that its caller's cancel surfaces as `CancelledByCaller` at any await.

Only the cancel that the caller asked for is translated: the cancellations
asyncio itself uses inside a skill (`asyncio.timeout`, `wait_for`, task groups,
`shield`) reach the skill as plain `CancelledError`, exactly as they would
outside this runtime.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Generator
from typing import Any, Generic, TypeVar

from a2a_temporal.errors import CancelledByCaller

__all__ = ["SkillTask"]

_T = TypeVar("_T")


class SkillTask(Generic[_T]):
    """A skill handler running in its own asyncio task.

    Args:
        coro: The handler's coroutine.
        name: Name of the asyncio task (the task id).
    """

    def __init__(self, coro: Coroutine[Any, Any, _T], name: str) -> None:
        self.caller_reason: str | None = None
        self.task: asyncio.Task[_T] = asyncio.create_task(_Translating(coro, self), name=name)

    def cancel_by_caller(self, reason: str) -> None:
        """Cancel the handler because its caller asked to; it sees `CancelledByCaller(reason)`."""
        if self.caller_reason is None:
            self.caller_reason = reason
        self.task.cancel(reason)

    def cancel(self, reason: str) -> None:
        """Cancel the handler for another reason (a stale attempt, a timeout)."""
        self.task.cancel(reason)

    async def settle(self) -> None:
        """Wait until the handler has ended, whatever its outcome."""
        await asyncio.wait({self.task})


class _Translating(Coroutine[Any, Any, _T]):
    """Delegates to a coroutine; once the caller cancelled, a thrown `CancelledError` is translated.

    asyncio cancels a task by throwing `CancelledError` into its coroutine; this
    wrapper is the task's coroutine, so after `cancel_by_caller` the handler
    sees `CancelledByCaller` wherever it is awaiting.
    """

    def __init__(self, inner: Coroutine[Any, Any, _T], owner: SkillTask[_T]) -> None:
        self._inner = inner
        self._owner = owner

    def send(self, value: Any) -> Any:
        return self._inner.send(value)

    def throw(self, typ: Any, val: Any = None, tb: Any = None) -> Any:
        exc = typ if isinstance(typ, BaseException) else (val if val is not None else typ())
        reason = self._owner.caller_reason
        if (
            reason is not None
            and isinstance(exc, asyncio.CancelledError)
            and not isinstance(exc, CancelledByCaller)
        ):
            exc = CancelledByCaller(reason)
        return self._inner.throw(exc)

    def close(self) -> None:
        self._inner.close()

    def __await__(self) -> Generator[Any, None, _T]:
        raise TypeError("run this wrapper with asyncio.create_task, do not await it")
