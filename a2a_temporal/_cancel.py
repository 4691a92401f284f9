"""Run a skill handler so that a caller's cancel surfaces as `CancelledByCaller` at any await."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Generator
from typing import Any, TypeVar

from a2a_temporal.errors import CancelledByCaller

__all__ = ["translate_cancellation"]

_T = TypeVar("_T")


class _TranslatingCoroutine(Coroutine[Any, Any, _T]):
    """Delegates to a coroutine, turning a thrown `CancelledError` into `CancelledByCaller`.

    asyncio cancels a task by throwing `CancelledError` into its coroutine; this
    wrapper is the task's coroutine, so the handler sees `CancelledByCaller`
    wherever it is awaiting, and `except CancelledByCaller` works everywhere.
    """

    def __init__(self, inner: Coroutine[Any, Any, _T], message: Callable[[], str]) -> None:
        self._inner = inner
        self._message = message

    def send(self, value: Any) -> Any:
        return self._inner.send(value)

    def throw(self, typ: Any, val: Any = None, tb: Any = None) -> Any:
        exc = typ if isinstance(typ, BaseException) else (val if val is not None else typ())
        if isinstance(exc, asyncio.CancelledError) and not isinstance(exc, CancelledByCaller):
            exc = CancelledByCaller(str(exc) or self._message())
        return self._inner.throw(exc)

    def close(self) -> None:
        self._inner.close()

    def __await__(self) -> Generator[Any, None, _T]:
        raise TypeError("run this wrapper with asyncio.create_task, do not await it")


def translate_cancellation(
    coro: Coroutine[Any, Any, _T], message: Callable[[], str]
) -> Coroutine[Any, Any, _T]:
    """Wrap `coro` for `asyncio.create_task` so cancelling the task raises `CancelledByCaller`."""
    return _TranslatingCoroutine(coro, message)
