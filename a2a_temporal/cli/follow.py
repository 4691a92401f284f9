"""Printing a task's or a pipeline's events for the command line, questions included."""

from __future__ import annotations

import asyncio
import json
import shlex
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TextIO

from a2a_temporal.core.types import AgentEvent

__all__ = ["Answerer", "answer_value", "print_events", "print_step_event", "show_question"]

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
                await show_question(event.payload, answer)
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


def answer_value(text: str) -> Any:
    """An answer as typed: JSON when it parses, else plain text, unless it looks like JSON.

    Raises:
        ValueError: It starts like JSON (`{`, `[` or `"`) but does not parse.
    """
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        if text.lstrip().startswith(("{", "[", '"')):
            raise ValueError(
                f"{text[:40]!r} looks like JSON but does not parse ({exc}); to send it as "
                "text, quote it as a JSON string"
            ) from None
        return text
    except RecursionError:
        raise ValueError("the answer is nested too deeply to parse") from None


async def show_question(
    payload: dict[str, Any], answer: Answerer | None, out: TextIO | None = None
) -> None:
    """Print a question and the command that answers it; ask it here when `answer` is given."""
    out = out or sys.stdout
    task_id, question_id = str(payload.get("task_id", "")), str(payload.get("id", ""))
    print(f"[question] {task_id} {question_id}: {payload.get('prompt', '')}", file=out, flush=True)
    if payload.get("json_schema"):
        schema = json.dumps(payload["json_schema"])
        print(f"  expects JSON matching: {schema}", file=out, flush=True)
    example = "'{...}'" if payload.get("json_schema") else "'your answer'"
    print(
        f"  answer with: a2a-temporal answer {shlex.quote(task_id)} {question_id} {example}",
        file=out,
        flush=True,
    )
    if answer is None or not sys.stdin.isatty():
        return
    while True:
        text = await asyncio.to_thread(input, f"  answer {question_id}> ")
        try:
            value = answer_value(text)
        except ValueError as exc:
            print(f"  {exc}", flush=True)
            continue
        try:
            await answer(task_id, question_id, value)
        except ValueError as exc:
            print(f"  refused: {exc}", flush=True)
            if "no longer open" in str(exc) or "closed" in str(exc):
                return
            continue
        return
