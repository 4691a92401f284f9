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
        self.translate_next = False
        self.task: asyncio.Task[_T] = asyncio.create_task(_Translating(coro, self), name=name)

    def cancel_by_caller(self, reason: str) -> None:
        """Cancel the handler because its caller asked to; it sees `CancelledByCaller(reason)`.

        Only the first request counts: a handler that cleans up after the cancel
        (telling a remote agent, say) is not interrupted again.
        """
        if self.caller_reason is not None:
            return
        self.caller_reason = reason
        self.translate_next = True
        self.task.cancel(reason)

    def cancel(self, reason: str) -> None:
        """Cancel the handler for another reason (a stale attempt, a timeout)."""
        self.task.cancel(reason)

    async def settle(self) -> None:
        """Wait until the handler has ended, whatever its outcome."""
        await asyncio.wait({self.task})


class _Translating(Coroutine[Any, Any, _T]):
    """Delegates to a coroutine; the `CancelledError` the caller's cancel throws is translated.

    asyncio cancels a task by throwing `CancelledError` into its coroutine; this
    wrapper is the task's coroutine, so after `cancel_by_caller` the handler
    sees `CancelledByCaller` wherever it is awaiting. Only that one is: a
    library that cancels inside the task later (anyio's cancel scopes, a
    timeout in clean-up code) sees its own `CancelledError`.
    """

    def __init__(self, inner: Coroutine[Any, Any, _T], owner: SkillTask[_T]) -> None:
        self._inner = inner
        self._owner = owner

    def send(self, value: Any) -> Any:
        return self._inner.send(value)

    def throw(self, typ: Any, val: Any = None, tb: Any = None) -> Any:
        exc = typ if isinstance(typ, BaseException) else (val if val is not None else typ())
        owner = self._owner
        if owner.translate_next and isinstance(exc, asyncio.CancelledError):
            owner.translate_next = False
            if not isinstance(exc, CancelledByCaller):
                exc = CancelledByCaller(owner.caller_reason or "cancelled by the caller")
        return self._inner.throw(exc)

    def close(self) -> None:
        self._inner.close()

    def __await__(self) -> Generator[Any, None, _T]:
        raise TypeError("run this wrapper with asyncio.create_task, do not await it")
