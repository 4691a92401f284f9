"""The calls and questions a skill makes in one event-loop turn, sent to its workflow together.

A skill that gathers 50 calls or 50 questions costs one update (and one long
wait for answers), not 50: a workflow admits only a few updates in flight at
a time, and each costs history events.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from a2a_temporal.temporal._attempt import AttemptLink, AwaitingInput
from a2a_temporal.temporal.models import (
    CallBatch,
    CallRequest,
    CallStarted,
    Parked,
    Question,
    QuestionBatch,
    QuestionState,
)
from a2a_temporal.temporal.wire import ASK_MANY_UPDATE, AWAIT_ANSWERS_UPDATE, CALLS_UPDATE

__all__ = ["CallBatcher", "QuestionBatcher", "TurnBatcher"]

ItemT = TypeVar("ItemT")
ResultT = TypeVar("ResultT")


class TurnBatcher(ABC, Generic[ItemT, ResultT]):
    """Collects what is submitted in one event-loop turn and sends it as one batch."""

    def __init__(self, link: AttemptLink) -> None:
        self._link = link
        self._pending: list[tuple[ItemT, asyncio.Future[ResultT]]] = []
        self._sending: set[asyncio.Task[None]] = set()

    def submit(self, item: ItemT) -> asyncio.Future[ResultT]:
        """Queue `item`; the future resolves when the workflow has answered for it."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[ResultT] = loop.create_future()
        if not self._pending:
            loop.call_soon(self._send_pending)
        self._pending.append((item, future))
        return future

    def _send_pending(self) -> None:
        batch, self._pending = self._pending, []
        task = asyncio.get_running_loop().create_task(self._run(batch))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _run(self, batch: list[tuple[ItemT, asyncio.Future[ResultT]]]) -> None:
        try:
            await self._send(batch)
        except BaseException as exc:
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            if isinstance(exc, asyncio.CancelledError):
                raise

    @abstractmethod
    async def _send(self, batch: list[tuple[ItemT, asyncio.Future[ResultT]]]) -> None:
        """Send the batch and resolve its futures."""

    async def aclose(self) -> None:
        """Stop sending (the attempt is ending)."""
        for task in list(self._sending):
            task.cancel()
        await asyncio.gather(*self._sending, return_exceptions=True)


class CallBatcher(TurnBatcher[CallRequest, CallStarted]):
    """Sends the calls made in one turn as one `calls` update; each learns its child."""

    async def _send(self, batch: list[tuple[CallRequest, asyncio.Future[CallStarted]]]) -> None:
        requests = [request for request, _ in batch]
        started = await self._link.update(
            CALLS_UPDATE,
            CallBatch(token=self._link.token, requests=requests),
            list[CallStarted],
            self._link.update_id("calls", f"{requests[0].seq}-{requests[-1].seq}"),
        )
        by_seq = {item.seq: item for item in started}
        for request, future in batch:
            if not future.done():
                future.set_result(by_seq[request.seq])


class QuestionBatcher(TurnBatcher[Question, QuestionState]):
    """Asks the questions of one turn with one update, then waits for their answers together.

    Each question's future resolves with its state once it is answered or
    timed out, or fails with `AwaitingInput` when a wait ends with none of
    the still-open questions answered (the attempt parks).

    Args:
        link: The attempt's link to its workflow.
        before: Awaited before the questions are announced (sends the events
            the skill emitted before asking, so they come first on the stream).
    """

    def __init__(self, link: AttemptLink, before: Callable[[], Awaitable[None]]) -> None:
        super().__init__(link)
        self._before = before

    async def _send(self, batch: list[tuple[Question, asyncio.Future[QuestionState]]]) -> None:
        await self._before()
        questions = [question for question, _ in batch]
        span = f"{questions[0].id}-{questions[-1].id}"
        token = self._link.token
        states = await self._link.update(
            ASK_MANY_UPDATE,
            QuestionBatch(token=token, questions=questions),
            list[QuestionState],
            self._link.update_id("asks", span),
        )
        waiting = _settle(batch, states)
        rounds = 0
        while waiting:
            states = await self._link.update(
                AWAIT_ANSWERS_UPDATE,
                QuestionBatch(token=token, questions=[question for question, _ in waiting]),
                list[QuestionState],
                self._link.update_id("answers", f"{span}-{rounds}"),
            )
            rounds += 1
            still = _settle(waiting, states)
            if len(still) == len(waiting):
                for question, future in still:
                    future.set_exception(AwaitingInput(Parked(question_id=question.id)))
                return
            waiting = still


def _settle(
    batch: list[tuple[Question, asyncio.Future[QuestionState]]], states: list[QuestionState]
) -> list[tuple[Question, asyncio.Future[QuestionState]]]:
    """Resolve the futures of closed questions; return the ones still open."""
    by_id = {state.id: state for state in states}
    open_ = []
    for question, future in batch:
        state = by_id[question.id]
        if state.answered or state.timed_out:
            if not future.done():
                future.set_result(state)
        else:
            open_.append((question, future))
    return open_
