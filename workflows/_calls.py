"""The `ctx.call`s of a task: one child task per call number, started once, superseded on demand."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from a2a_temporal.core.auth import delegated_identity
    from a2a_temporal.core.types import CallResult, Usage
    from a2a_temporal.errors import DelegationRefused
    from a2a_temporal.temporal.models import (
        CallRequest,
        CallStarted,
        CarriedRun,
        EventRecord,
        SkillOptions,
        SkillRunInput,
    )
    from a2a_temporal.workflows._tasks import start_task, watch_child


__all__ = ["CallBook"]

Emit = Callable[[EventRecord], None]


class CallBook:
    """What the workflow did for each call number, and the children it is watching.

    Calls numbered below `archived` are in the task's journal (the attempt
    reads them there); the rest are here. A call number seen before gets its
    first answer, so a retried attempt never starts a child twice.
    """

    def __init__(self, carried: CarriedRun, on_ended: Callable[[str, Usage], None]) -> None:
        self._on_ended = on_ended
        self.calls = {call.seq: call for call in carried.calls}
        self.generations = dict(carried.generations)
        self.superseded = list(carried.superseded_calls)
        self.archived = carried.journal.calls if carried.journal else 0
        self._starting: dict[int, asyncio.Task[CallStarted]] = {}
        self._children: dict[str, asyncio.Task[None]] = {}

    def check(self, requests: list[CallRequest], supersedes: bool) -> None:
        """Refuse, before it is recorded, a request for a call only the journal knows."""
        for request in requests:
            if request.seq < self.archived and not (supersedes and request.supersedes):
                raise ApplicationError(
                    f"call #{request.seq} was made before the task continued as new; it is in "
                    "the task's journal, which the attempt reads first (a worker that asks "
                    "again runs older code: upgrade it)",
                    non_retryable=True,
                )

    async def start(
        self,
        requests: list[CallRequest],
        caller: SkillRunInput,
        options: SkillOptions,
        emit: Emit,
    ) -> list[CallStarted]:
        """Start a child per new call (superseding on divergence); return each call's record."""
        supersedes = options.on_divergence == "supersede"
        for request in requests:
            recorded = self.calls.get(request.seq)
            diverged = recorded is not None and recorded.digest != request.digest
            if supersedes and (diverged or request.seq < self.archived):
                self._supersede_from(request.seq, emit)
            if request.seq not in self.calls and request.seq not in self._starting:
                self._starting[request.seq] = asyncio.create_task(
                    self._start_child(request, caller, options)
                )
        started = []
        for request in requests:
            pending = self._starting.get(request.seq)
            if pending is not None:
                self.calls[request.seq] = await pending
                self._starting.pop(request.seq, None)
            started.append(self.calls[request.seq])
        return started

    def in_flight(self) -> bool:
        """Whether a child is being started or still running."""
        return bool(self._starting) or any(not child.done() for child in self._children.values())

    async def cancel_children(self) -> None:
        """Cancel every child still running and wait until they have ended."""
        for child in self._children.values():
            child.cancel()
        await asyncio.gather(*self._children.values(), return_exceptions=True)

    def recorded(self) -> list[CallStarted]:
        """Every call recorded here, in order (the journal takes them when none is in flight)."""
        return [self.calls[seq] for seq in sorted(self.calls)]

    def archived_all(self) -> None:
        """The journal holds every recorded call now: forget them here."""
        if self.calls:
            self.archived = max(self.archived, max(self.calls) + 1)
        self.calls.clear()
        self._children.clear()

    def _child_id(self, seq: int) -> str:
        generation = self.generations.get(seq, 0)
        suffix = f"-r{generation}" if generation else ""
        return f"{workflow.info().workflow_id}/call-{seq}{suffix}"

    def _supersede_from(self, seq: int, emit: Emit) -> None:
        """A re-run departs at call `seq`: its earlier calls from there on are replaced."""
        ids = [self._child_id(number) for number in range(seq, self.archived)]
        for number in range(seq, self.archived):
            self.generations[number] = self.generations.get(number, 0) + 1
        self.archived = min(self.archived, seq)
        for number in sorted(s for s in self.calls if s >= seq):
            call = self.calls.pop(number)
            self.generations[number] = self.generations.get(number, 0) + 1
            child = self._children.pop(call.child_id, None)
            if child is not None and not child.done():
                child.cancel()
            ids.append(call.child_id)
        self.superseded.extend(ids)
        emit(EventRecord(kind="diverged", payload={"superseded_calls": ids, "from_call": seq}))

    async def _start_child(
        self, request: CallRequest, caller: SkillRunInput, options: SkillOptions
    ) -> CallStarted:
        child_id = self._child_id(request.seq)
        started = CallStarted(
            seq=request.seq,
            target=request.target,
            skill=request.skill,
            digest=request.digest,
            child_id=child_id,
        )
        callee_options = request.resolution.options
        if callee_options is None:
            error = request.resolution.error or "cannot resolve the callee"
            rejected = CallResult(task_id=child_id, status="rejected", error=error)
            return started.model_copy(update={"result": rejected})
        try:
            auth = delegated_identity(
                caller.auth, caller.agent, request.scopes, options.max_delegation_depth
            )
        except DelegationRefused as exc:
            rejected = CallResult(task_id=child_id, status="rejected", error=str(exc))
            return started.model_copy(update={"result": rejected})
        task = SkillRunInput(
            agent=request.target,
            skill=request.skill,
            args=request.args,
            auth=auth,
            identity=request.identity,
            caller=workflow.info().workflow_id,
            grant=request.grant,
            options=callee_options,
            budget=request.budget,
        )
        handle = await start_task(task, child_id)
        self._children[child_id] = asyncio.create_task(watch_child(handle, self._on_ended))
        return started
