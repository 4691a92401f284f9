"""Agents whose skills make durable steps, record usage and spend budgets."""

from __future__ import annotations

import asyncio
import json

import httpx
from pydantic import BaseModel

from a2a_temporal import A2AAgent, Budget, NoAuth, RunContext, skill


class Plan(BaseModel):
    calls: int = 3
    ask: bool = False
    stream: bool = False


class Spend(BaseModel):
    tokens: int
    depth: int = 0
    child_budget: int | None = None


class Pick(BaseModel):
    choice: str


class Note(BaseModel):
    """A pydantic step result: it comes back as this model on a re-run."""

    text: str
    words: int


async def complete(ctx: RunContext[NoAuth], prompt: str, *, stream: bool = False) -> str:
    """One chat completion from the endpoint in the secrets; its usage recorded."""
    base = ctx.secret("OPENAI_BASE_URL").rstrip("/")
    headers = {"Authorization": f"Bearer {ctx.secret('OPENAI_API_KEY')}"}
    body = {
        "model": "scripted-1",
        "stream": True,
        "messages": [{"role": "user", "content": prompt}],
    }
    text = ""
    async with (
        httpx.AsyncClient(timeout=30) as http,
        http.stream("POST", f"{base}/chat/completions", json=body, headers=headers) as response,
    ):
        response.raise_for_status()
        async for line in response.aiter_lines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            piece = json.loads(line[6:])["choices"][0]["delta"].get("content", "")
            if piece and stream:
                await ctx.emit_text_delta(piece)
            text += piece
    ctx.usage.record(
        input_tokens=len(prompt.split()), output_tokens=len(text.split()), cost_usd=0.001
    )
    return text


class Thinker(A2AAgent):
    """Asks a model several times (each call a step), then maybe a human."""

    name = "thinker"
    secrets = ("OPENAI_BASE_URL", "OPENAI_API_KEY")

    @skill(retries=1)
    async def think(self, ctx: RunContext[NoAuth], args: Plan) -> dict[str, object]:
        """Make `calls` model calls as steps; ask a question after them when `ask`."""
        answers = []
        for i in range(args.calls):
            answers.append(
                await ctx.step("model", complete, ctx, f"question {i}", stream=args.stream)
            )
        reply = await ctx.ask("go on?") if args.ask else None
        return {"answers": answers, "reply": reply, "usage": ctx.usage.total.model_dump()}

    @skill(retries=0)
    async def gathered(self, ctx: RunContext[NoAuth], args: Plan) -> list[str]:
        """Steps started together keep their names, whatever order they finish in."""

        async def slow_echo(i: int) -> str:
            await asyncio.sleep(0.01 * (args.calls - i))
            return f"answer {i} for {ctx.step_key}"

        return list(
            await asyncio.gather(*(ctx.step("echo", slow_echo, i) for i in range(args.calls)))
        )


class Chooser(A2AAgent):
    """Makes a step whose args differ between its first run and its retry."""

    name = "chooser"
    runs: dict[str, int] = {}  # noqa: RUF012 - per task, read by the tests

    async def _run(self, ctx: RunContext[NoAuth], args: Pick) -> str:
        run = self.runs[ctx.task_id] = self.runs.get(ctx.task_id, 0) + 1
        choice = args.choice if run == 1 else f"{args.choice}-changed"
        picked = await ctx.step("pick", _echo, choice)
        note = await ctx.step("note", _note, picked)
        if run == 1:
            raise ConnectionError("first run fails after its steps")
        return f"{picked} / {note.text} ({note.words})"

    @skill(retries=1)
    async def strict(self, ctx: RunContext[NoAuth], args: Pick) -> str:
        """On divergence: fail (the default)."""
        return await self._run(ctx, args)

    @skill(retries=1, on_divergence="supersede")
    async def relaxed(self, ctx: RunContext[NoAuth], args: Pick) -> str:
        """On divergence: run the step again and say it was superseded."""
        return await self._run(ctx, args)

    @skill(retries=1)
    async def steady(self, ctx: RunContext[NoAuth], args: Pick) -> str:
        """The same steps on the retry: recorded values come back, typed."""
        run = self.runs[ctx.task_id] = self.runs.get(ctx.task_id, 0) + 1
        note = await ctx.step("note", _note, args.choice)
        big = await ctx.step("big", _big, 100 * 1024)
        if run == 1:
            raise ConnectionError("first run fails after its steps")
        return f"{type(note).__name__} {note.text} {len(big)}"


async def _echo(value: str) -> str:
    return value


def _note(text: str) -> Note:
    return Note(text=text.upper(), words=len(text.split()))


def _big(size: int) -> str:
    return "x" * size


class Spender(A2AAgent):
    """Spends tokens, then calls itself one level down (with a budget, if given)."""

    name = "spender"

    @skill(retries=0, budget=Budget(tokens=1000))
    async def spend(self, ctx: RunContext[NoAuth], args: Spend) -> dict[str, object]:
        """Record `tokens` in a step, then call the next level."""

        def bill() -> int:
            ctx.usage.record(input_tokens=args.tokens, model="scripted-1")
            return args.tokens

        await ctx.step("bill", bill)
        child = None
        if args.depth > 0:
            budget = Budget(tokens=args.child_budget) if args.child_budget is not None else None
            result = await ctx.call(
                "spender",
                "spend",
                args=Spend(tokens=args.tokens, depth=args.depth - 1),
                budget=budget,
            )
            child = {
                "status": result.status,
                "error": result.error,
                "usage": result.usage.model_dump(),
                "output": result.output,
            }
        left = ctx.usage.left()
        return {"child": child, "left": left.model_dump() if left else None}


STEP_AGENTS = [Thinker(), Chooser(), Spender()]


class Topic(BaseModel):
    word: str


class Researcher(A2AAgent):
    """A pydantic-ai agent with a tool, made durable: a re-run sends no model request again."""

    name = "researcher"
    secrets = ("OPENAI_BASE_URL", "OPENAI_API_KEY")

    def __init__(self) -> None:
        self.runs: dict[str, int] = {}
        self.lookups = 0

    @skill(retries=1)
    async def research(self, ctx: RunContext[NoAuth], args: Topic) -> str:
        """Ask the model, which asks the tool; the first run fails after the answer."""
        from pydantic_ai import Agent
        from pydantic_ai.models.openai import OpenAIChatModel
        from pydantic_ai.providers.openai import OpenAIProvider

        from a2a_temporal.core.durable_model import durable

        provider = OpenAIProvider(
            base_url=ctx.secret("OPENAI_BASE_URL"), api_key=ctx.secret("OPENAI_API_KEY")
        )
        agent: Agent[None, str] = Agent(OpenAIChatModel("scripted-1", provider=provider))

        @agent.tool_plain
        async def lookup(word: str) -> str:
            """Look a word up."""
            return str(await ctx.step("lookup", self._lookup, word))

        with durable(ctx, agent):
            result = await agent.run(args.word)
        run = self.runs[ctx.task_id] = self.runs.get(ctx.task_id, 0) + 1
        if run == 1:
            raise ConnectionError("the first run fails after the agent answered")
        return result.output

    async def _lookup(self, word: str) -> str:
        self.lookups += 1
        return f"{word}-is-a-word"
