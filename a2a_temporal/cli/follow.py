"""Printing a task's or a pipeline's events for the command line, questions included."""

from __future__ import annotations

import asyncio
import json
import shlex
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from a2a_temporal.core.types import AgentEvent

__all__ = ["Answerer", "print_events", "print_step_event"]

Answerer = Callable[[str, str, Any], Awaitable[None]]


async def print_events(
    events: AsyncIterator[AgentEvent],
    *,
    limit: int | None = None,
    answer: Answerer | None = None,
) -> None:
    """Print events as they come (text deltas run on); stop after `limit` if given.

    A question is shown with the command that answers it; with `answer` and a
    terminal on stdin, it is also asked right here.
    """
    mid_line = False
    printed = 0
    async for event in events:
        if event.kind == "text_delta":
            print(event.payload.get("text", ""), end="", flush=True)
            mid_line = True
        else:
            if mid_line:
                print()
                mid_line = False
            if event.kind == "question":
                await _show_question(event.payload, answer)
            elif event.kind == "step":
                print_step_event(event.payload)
            else:
                print(f"[{event.kind}] {json.dumps(event.payload, default=str)}", flush=True)
        printed += 1
        if limit is not None and printed >= limit:
            break
    if mid_line:
        print(flush=True)


def print_step_event(payload: dict[str, Any]) -> None:
    """One line per step status change of a pipeline."""
    items = f" {payload['items_done']}/{payload['items_total']}" if "items_total" in payload else ""
    error = f" error: {payload['error']}" if "error" in payload else ""
    print(f"[step] {payload['step']} {payload['status']}{items}{error}", flush=True)


async def _show_question(payload: dict[str, Any], answer: Answerer | None) -> None:
    task_id, question_id = str(payload.get("task_id", "")), str(payload.get("id", ""))
    print(f"[question] {task_id} {question_id}: {payload.get('prompt', '')}", flush=True)
    if payload.get("json_schema"):
        print(f"  expects JSON matching: {json.dumps(payload['json_schema'])}", flush=True)
    example = "'{...}'" if payload.get("json_schema") else "'your answer'"
    print(
        f"  answer with: a2a-temporal answer {shlex.quote(task_id)} {question_id} {example}",
        flush=True,
    )
    if answer is None or not sys.stdin.isatty():
        return
    while True:
        text = await asyncio.to_thread(input, f"  answer {question_id}> ")
        try:
            value: Any = json.loads(text)
        except json.JSONDecodeError:
            value = text
        try:
            await answer(task_id, question_id, value)
        except ValueError as exc:
            print(f"  refused: {exc}", flush=True)
            if "no longer open" in str(exc) or "closed" in str(exc):
                return
            continue
        return
