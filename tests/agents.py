"""Agents used by the tests."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from a2a_temporal import (
    A2AAgent,
    CancelledByCaller,
    InfrastructureError,
    NoAuth,
    RunContext,
    ScopedAuth,
    skill,
)


class Text(BaseModel):
    text: str


class Count(BaseModel):
    n: int = Field(ge=0, le=1000)


class Words(BaseModel):
    words: list[str]
    count: int


class Delay(BaseModel):
    seconds: float


class Splitter(A2AAgent):
    """Splits text into words."""

    name = "splitter"
    tags = ("text",)
    capabilities = ("tokenize",)

    @skill(description="Split text on whitespace.", tags=("nlp",))
    async def split(self, ctx: RunContext[NoAuth], args: Text) -> Words:
        await ctx.emit_progress("splitting", fraction=0.5)
        words = args.text.split()
        return Words(words=words, count=len(words))

    @skill
    async def upper(self, ctx: RunContext[NoAuth], args: Text) -> str:
        """Upper-case the text."""
        return args.text.upper()


class Analyst(A2AAgent):
    """Counts words through the splitter."""

    name = "analyst"
    tags = ("text", "report")

    @skill
    async def report(self, ctx: RunContext[NoAuth], args: Text) -> dict[str, object]:
        """Split the text through the splitter, upper-case it too, write a report."""
        split, upper = await asyncio.gather(
            ctx.call("splitter", "split", args={"text": args.text}),
            ctx.call("splitter", "upper", args=args),
        )
        assert split.ok and upper.ok
        report = f"{split.output['count']} words: {upper.output}"
        ref = await ctx.write_artifact("report.txt", report.encode(), "text/plain")
        return {"report": report, "artifact": ref.uri, "children": [split.task_id, upper.task_id]}

    @skill
    async def nested(self, ctx: RunContext[NoAuth], args: Count) -> int:
        """Call itself recursively n levels deep."""
        if args.n == 0:
            return 0
        child = await ctx.call("analyst", "nested", args=Count(n=args.n - 1))
        return int(child.output) + 1


class Slow(A2AAgent):
    """Sleeps, for cancellation and timeouts."""

    name = "slow"

    @skill(retries=0)
    async def sleep(self, ctx: RunContext[NoAuth], args: Delay) -> str:
        """Sleep for the given time."""
        await ctx.emit_progress("sleeping")
        await asyncio.sleep(args.seconds)
        return "woke"

    @skill(retries=0)
    async def poll(self, ctx: RunContext[NoAuth], args: Delay) -> str:
        """Loop calling check_cancelled."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + args.seconds
        while loop.time() < deadline:
            await ctx.check_cancelled()
            await asyncio.sleep(0.01)
        return "done"

    @skill(retries=0)
    async def delegate(self, ctx: RunContext[NoAuth], args: Delay) -> str:
        """Call slow.sleep and wait for it."""
        result = await ctx.call("slow", "sleep", args=args)
        return result.status


class Flaky(A2AAgent):
    """Fails a set number of times before it succeeds."""

    name = "flaky"

    def __init__(self, failures: int = 1) -> None:
        self.failures = failures
        self.attempts = 0

    @skill(retries=2)
    async def work(self, ctx: RunContext[NoAuth]) -> int:
        """Fail `failures` times, then return the attempt count."""
        self.attempts += 1
        if self.attempts <= self.failures:
            raise ValueError(f"boom {self.attempts}")
        return self.attempts

    @skill(retries=1)
    async def ramble(self, ctx: RunContext[NoAuth]) -> str:
        """Write different text on each attempt (like an LLM); the first attempt fails."""
        self.attempts += 1
        await ctx.emit_progress("writing")
        text = "the draft" if self.attempts == 1 else "the final text"
        for word in text.split(" "):
            await ctx.emit_text_delta(word + " ")
        if self.attempts == 1:
            raise ValueError("connection reset")
        return text

    @skill(retries=0, timeout=0.2)
    async def hang(self, ctx: RunContext[NoAuth]) -> None:
        """Outlive the skill timeout."""
        await asyncio.sleep(5)


class Vault(A2AAgent):
    """Needs scopes and secrets."""

    name = "vault"
    auth_model = ScopedAuth
    workspace_access = "write"

    @skill(scopes=("vault:read",))
    async def reveal(self, ctx: RunContext[ScopedAuth], args: Text) -> str:
        """Return the length of a named secret."""
        return f"{ctx.auth.subject}:{len(ctx.secret(args.text))}"

    @skill
    async def admin(self, ctx: RunContext[ScopedAuth]) -> str:
        """Check scopes inside the handler."""
        ctx.require_scopes(["vault:admin", "vault:read"])
        return "ok"

    @skill
    async def store(self, ctx: RunContext[ScopedAuth], args: Text) -> list[str]:
        """Write to the workspace and list it."""
        await ctx.workspace.write("notes/a.txt", args.text.encode())
        return await ctx.workspace.list("notes/")


class Attempts(BaseModel):
    key: str


class Size(BaseModel):
    mib: int = 1


class Stream(BaseModel):
    deltas: int
    word: str = "tok "


class Recorder(A2AAgent):
    """Records what a cancelled handler saw; counts executions per key."""

    name = "recorder"
    seen: list[str] = []  # noqa: RUF012 - shared with the tests on purpose
    hits: dict[str, int] = {}  # noqa: RUF012

    @skill(retries=0)
    async def wait_cancel(self, ctx: RunContext[NoAuth], args: Delay) -> str:
        """Await a long sleep and record the exception a cancel raises there."""
        await ctx.emit_progress("waiting")
        try:
            await asyncio.sleep(args.seconds)
        except asyncio.CancelledError as exc:
            Recorder.seen.append(type(exc).__name__)
            raise
        return "not cancelled"

    @skill(retries=0)
    async def poll_cancel(self, ctx: RunContext[NoAuth], args: Delay) -> str:
        """Poll check_cancelled between short waits; record what a cancel raises."""
        await ctx.emit_progress("polling")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + args.seconds
        try:
            while loop.time() < deadline:
                await ctx.check_cancelled()
                await asyncio.sleep(0.01)
        except CancelledByCaller as exc:
            Recorder.seen.append(type(exc).__name__)
            raise
        return "not cancelled"

    @skill(retries=0)
    async def hit(self, ctx: RunContext[NoAuth], args: Attempts) -> int:
        """Count one execution for `key`."""
        Recorder.hits[args.key] = Recorder.hits.get(args.key, 0) + 1
        return Recorder.hits[args.key]

    @skill(retries=2)
    async def call_then_crash(self, ctx: RunContext[NoAuth], args: Attempts) -> list[int]:
        """Call `hit` twice, fail on the first attempt, then call `hit` a third time."""
        first = await ctx.call("recorder", "hit", args={"key": args.key})
        second = await ctx.call("recorder", "hit", args={"key": args.key})
        attempt_key = f"{args.key}:attempts"
        Recorder.hits[attempt_key] = Recorder.hits.get(attempt_key, 0) + 1
        if Recorder.hits[attempt_key] == 1:
            raise RuntimeError("crash after two calls")
        third = await ctx.call("recorder", "hit", args={"key": args.key})
        return [first.output, second.output, third.output]

    @skill(retries=1)
    async def change_path(self, ctx: RunContext[NoAuth], args: Attempts) -> str:
        """Call a different skill on the retry than on the first attempt."""
        attempt_key = f"{args.key}:path"
        Recorder.hits[attempt_key] = Recorder.hits.get(attempt_key, 0) + 1
        if Recorder.hits[attempt_key] == 1:
            await ctx.call("recorder", "hit", args={"key": args.key})
            raise RuntimeError("first attempt fails")
        await ctx.call("splitter", "upper", args={"text": "other"})
        return "unreachable"


class Writer(A2AAgent):
    """Writes artifacts and streams text."""

    name = "writer"
    attempts: dict[str, int] = {}  # noqa: RUF012

    @skill(retries=2)
    async def flaky_write(self, ctx: RunContext[NoAuth], args: Attempts) -> str:
        """Write report.txt, fail the first attempt, write it again."""
        await ctx.write_artifact("out/report.txt", b"final bytes", "text/plain")
        Writer.attempts[args.key] = Writer.attempts.get(args.key, 0) + 1
        if Writer.attempts[args.key] == 1:
            await ctx.write_artifact("partial.txt", b"from attempt 1", "text/plain")
            raise RuntimeError("first attempt fails after writing")
        return "written"

    @skill(retries=0)
    async def bad_name(self, ctx: RunContext[NoAuth], args: Text) -> str:
        """Try to write an artifact with the given name."""
        await ctx.write_artifact(args.text, b"x")
        return "written"

    @skill(retries=0)
    async def big(self, ctx: RunContext[NoAuth], args: Size) -> int:
        """Stream `mib` MiB of generated bytes into one artifact."""

        def chunks() -> Iterator[bytes]:
            for i in range(args.mib * 4):
                yield bytes([i % 251]) * (256 * 1024)

        ref = await ctx.write_artifact_stream("big.bin", chunks())
        return int(ref.size_bytes)

    @skill(retries=0)
    async def stream(self, ctx: RunContext[NoAuth], args: Stream) -> int:
        """Emit `deltas` text deltas with a progress event every 100."""
        for i in range(args.deltas):
            if i % 100 == 0:
                await ctx.emit_progress(f"{i} of {args.deltas}")
            await ctx.emit_text_delta(args.word)
        return args.deltas

    @skill(retries=0)
    async def blob(self, ctx: RunContext[NoAuth], args: Size) -> str:
        """Return a string of `mib` * 300 KiB (over Temporal's payload inline limit)."""
        return "x" * (300 * 1024 * args.mib)

    @skill(retries=0)
    async def use_secret(self, ctx: RunContext[NoAuth], args: Text) -> int:
        """Read secret `text`, emit and store only derived facts, return its length."""
        value = ctx.secret(args.text)
        await ctx.emit_progress(f"secret has {len(value)} characters")
        await ctx.write_artifact("facts.txt", str(len(value)).encode())
        return len(value)


class Dir(BaseModel):
    path: str


class Crasher(A2AAgent):
    """Makes three calls; on its first run it parks after two so the test can kill the worker."""

    name = "crasher"

    @skill(retries=3)
    async def three_calls(self, ctx: RunContext[NoAuth], args: Dir) -> list[str]:
        """Call `crasher.hit` three times; park between the second and third call once."""
        work = Path(args.path)
        first = await ctx.call("crasher", "hit", args=args)
        await ctx.emit_progress("called 1")
        second = await ctx.call("crasher", "hit", args=args)
        await ctx.emit_progress("called 2")
        if not (work / "killed").exists():
            (work / "parked").write_text(ctx.task_id)
            await asyncio.sleep(120)
        third = await ctx.call("crasher", "hit", args=args)
        await ctx.emit_progress("called 3")
        return [first.output, second.output, third.output]

    @skill(retries=3)
    async def park(self, ctx: RunContext[NoAuth], args: Dir) -> str:
        """Park until the test has killed the first worker, then finish."""
        work = Path(args.path)
        if not (work / "killed").exists():
            (work / "parked").write_text(ctx.task_id)
            await asyncio.sleep(120)
        return "resumed"

    @skill(retries=0)
    async def hit(self, ctx: RunContext[NoAuth], args: Dir) -> str:
        """Append this task's id to hits.log (one line per execution)."""
        with (Path(args.path) / "hits.log").open("a") as log:
            log.write(ctx.task_id + "\n")
        return ctx.task_id

    @skill(retries=0)
    async def park_once(self, ctx: RunContext[NoAuth], args: Dir) -> str:
        """Like `park`, but the skill itself may not be retried."""
        work = Path(args.path)
        if not (work / "killed").exists():
            (work / "parked").write_text(ctx.task_id)
            await asyncio.sleep(120)
        return "resumed"

    @skill(retries=0)
    async def drone(self, ctx: RunContext[NoAuth], args: Dir) -> int:
        """Tick (a progress event and a line in ticks-<pid>) until told to stop."""
        work = Path(args.path)
        pid = os.getpid()
        try:
            for tick in range(100_000):
                if (work / "enough").exists():
                    return pid
                with (work / f"ticks-{pid}").open("a") as log:
                    log.write(f"{tick}\n")
                await ctx.emit_progress(f"{pid} tick {tick}")
                await asyncio.sleep(0.05)
        finally:
            (work / f"stopped-{pid}").write_text("stopped")
        return pid


CRASH_AGENTS = [Crasher()]


class Nosy(A2AAgent):
    """Touches the workspace without declaring access."""

    name = "nosy"

    @skill(retries=0)
    async def peek(self, ctx: RunContext[NoAuth]) -> list[str]:
        """List the workspace."""
        return await ctx.workspace.list()


class Numbers(BaseModel):
    values: list[int]


class Items(BaseModel):
    items: list[Any]


class Value(BaseModel):
    value: int
    label: str = ""
    meet: int = 1


class Mathy(A2AAgent):
    """Small steps for pipelines; records how many tasks of a kind run at once.

    `square` with `meet=n` waits until `n` squares of its label have run at the
    same time: if the runtime did not run them in parallel, the step times out
    instead of passing by luck.
    """

    name = "mathy"
    runs: dict[str, int] = {}  # noqa: RUF012 - read by the tests
    active: dict[str, int] = {}  # noqa: RUF012
    peak: dict[str, int] = {}  # noqa: RUF012

    async def _meet(self, key: str, meet: int = 1) -> None:
        Mathy.active[key] = Mathy.active.get(key, 0) + 1
        Mathy.peak[key] = max(Mathy.peak.get(key, 0), Mathy.active[key])
        try:
            async with asyncio.timeout(60):
                while Mathy.peak[key] < meet:
                    await asyncio.sleep(0.01)
        finally:
            Mathy.active[key] -= 1
            Mathy.runs[key] = Mathy.runs.get(key, 0) + 1

    @skill(retries=0)
    async def numbers(self, ctx: RunContext[NoAuth], args: Count) -> Numbers:
        """Return 0..n-1."""
        await self._meet("numbers")
        return Numbers(values=list(range(args.n)))

    @skill(retries=0)
    async def data(self, ctx: RunContext[NoAuth], args: Items) -> list[Any]:
        """Return the items given (a list for a `map`)."""
        return args.items

    @skill(retries=0)
    async def square(self, ctx: RunContext[NoAuth], args: Value) -> int:
        """Square a value, once `meet` squares of its label run at the same time."""
        await self._meet(f"square{args.label}", args.meet)
        return args.value * args.value

    @skill(retries=0)
    async def total(self, ctx: RunContext[NoAuth], args: Numbers) -> int:
        """Sum the values."""
        await self._meet("total")
        return sum(args.values)

    @skill(retries=0)
    async def fail(self, ctx: RunContext[NoAuth], args: Value) -> int:
        """Always fail."""
        raise ValueError(f"no good: {args.value}")

    @skill(retries=0)
    async def slow(self, ctx: RunContext[NoAuth], args: Delay) -> str:
        """Sleep."""
        await asyncio.sleep(args.seconds)
        return "slept"


class Order(BaseModel):
    item: str
    qty: int = Field(gt=0)


class Approver(A2AAgent):
    """Asks a human before it goes on."""

    name = "approver"
    seen: list[str] = []  # noqa: RUF012 - read by the tests

    @skill(retries=0)
    async def review(self, ctx: RunContext[NoAuth], args: Text) -> str:
        """Ask for approval of `text`."""
        await ctx.emit_progress("before asking")
        answer = await ctx.ask(f"approve {args.text}?")
        await ctx.emit_progress(f"answer was {answer}")
        return answer

    @skill(retries=0)
    async def order(self, ctx: RunContext[NoAuth]) -> dict[str, object]:
        """Collect an order."""
        order = await ctx.collect(Order, "what should I order?")
        return order.model_dump()

    @skill(retries=0)
    async def impatient(self, ctx: RunContext[NoAuth]) -> str:
        """Ask with a short timeout."""
        return await ctx.ask("quick?", timeout=1)

    @skill(retries=0)
    async def guarded(self, ctx: RunContext[NoAuth]) -> str:
        """Ask; record how a cancel reaches the waiting skill."""
        try:
            return await ctx.ask("may I?")
        except asyncio.CancelledError as exc:
            Approver.seen.append(type(exc).__name__)
            raise


class Rounds(BaseModel):
    rounds: int
    deltas: int = 20


class Chatty(A2AAgent):
    """Streams text and asks a question per round (parking in between)."""

    name = "chatty"

    @skill(retries=0)
    async def converse(self, ctx: RunContext[NoAuth], args: Rounds) -> list[str]:
        """Each round: stream deltas, report progress, ask and wait for an answer."""
        answers = []
        for round_no in range(args.rounds):
            for i in range(args.deltas):
                await ctx.emit_text_delta(f"r{round_no}.{i} ")
            await ctx.emit_progress(f"round {round_no} written")
            answers.append(await ctx.ask(f"go on after round {round_no}?"))
        return answers

    @skill(retries=0, timeout=60)
    async def trickle(self, ctx: RunContext[NoAuth], args: Rounds) -> int:
        """Emit `deltas` text deltas a few milliseconds apart (many small batches)."""
        for i in range(args.deltas):
            await ctx.emit_text_delta(f"{i} ")
            await asyncio.sleep(0.005)
        return args.deltas


class Unreliable(A2AAgent):
    """Fails in ways that are the runtime's fault, not the skill's."""

    name = "unreliable"
    attempts: dict[str, int] = {}  # noqa: RUF012 - read by the tests

    @skill(retries=0)
    async def infra_once(self, ctx: RunContext[NoAuth], args: Attempts) -> int:
        """Raise `InfrastructureError` on the first attempt only."""
        Unreliable.attempts[args.key] = Unreliable.attempts.get(args.key, 0) + 1
        if Unreliable.attempts[args.key] == 1:
            raise InfrastructureError("the object store went away")
        return Unreliable.attempts[args.key]

    @skill(retries=0)
    async def infra_always(self, ctx: RunContext[NoAuth], args: Attempts) -> int:
        """Always raise `InfrastructureError`."""
        Unreliable.attempts[args.key] = Unreliable.attempts.get(args.key, 0) + 1
        raise InfrastructureError("the object store is down")

    @skill(retries=0)
    async def raise_once(self, ctx: RunContext[NoAuth], args: Attempts) -> int:
        """Raise `ValueError` (the skill's own failure) once."""
        Unreliable.attempts[args.key] = Unreliable.attempts.get(args.key, 0) + 1
        raise ValueError("the skill's own bug")

    @skill(retries=0)
    async def store(self, ctx: RunContext[NoAuth], args: Attempts) -> int:
        """Write an artifact (through the worker's S3 endpoint)."""
        Unreliable.attempts[args.key] = Unreliable.attempts.get(args.key, 0) + 1
        await ctx.write_artifact("note.txt", args.key.encode(), "text/plain")
        return Unreliable.attempts[args.key]


class BadStr(Exception):
    """An exception whose message cannot be rendered."""

    def __str__(self) -> str:
        raise ValueError("no message for you")


class Broken(A2AAgent):
    """Fails in ways that are hard to report."""

    name = "broken"
    attempts: dict[str, int] = {}  # noqa: RUF012 - read by the tests

    def _count(self, key: str) -> None:
        Broken.attempts[key] = Broken.attempts.get(key, 0) + 1

    @skill(retries=1)
    async def bad_str(self, ctx: RunContext[NoAuth], args: Attempts) -> str:
        """Raise an exception whose `__str__` raises."""
        self._count(args.key)
        raise BadStr()

    @skill(retries=0)
    async def huge_message(self, ctx: RunContext[NoAuth], args: Attempts) -> str:
        """Raise with a 5 MB message."""
        self._count(args.key)
        raise ValueError("x" * 5_000_000)

    @skill(retries=2)
    async def unserialisable(self, ctx: RunContext[NoAuth], args: Attempts) -> object:
        """Return something that is not JSON (not worth retrying)."""
        self._count(args.key)
        return object()


class Choice(BaseModel):
    path: str


class Chooser(A2AAgent):
    """Picks its callee from a counter, like an LLM choosing other tools on a re-run."""

    name = "chooser"
    attempts: dict[str, int] = {}  # noqa: RUF012 - read by the tests

    async def _choose(self, ctx: RunContext[NoAuth], args: Choice) -> str:
        Chooser.attempts[args.path] = Chooser.attempts.get(args.path, 0) + 1
        if Chooser.attempts[args.path] == 1:
            lingering = asyncio.ensure_future(ctx.call("chooser", "linger", args=args))
            while not (Path(args.path) / "lingering").exists():
                await asyncio.sleep(0.02)
            lingering.cancel()
            raise RuntimeError("the first attempt changes its mind")
        other = await ctx.call("splitter", "upper", args={"text": "second thoughts"})
        return str(other.output)

    @skill(retries=1)
    async def pick(self, ctx: RunContext[NoAuth], args: Choice) -> str:
        """Deterministic-code policy: a different call on the re-run fails the task."""
        return await self._choose(ctx, args)

    @skill(retries=1, on_divergence="supersede")
    async def pick_freely(self, ctx: RunContext[NoAuth], args: Choice) -> str:
        """LLM policy: the re-run's different call supersedes the earlier one."""
        return await self._choose(ctx, args)

    @skill(retries=0)
    async def linger(self, ctx: RunContext[NoAuth], args: Choice) -> str:
        """Say it started, then wait a long time, recording a cancel."""
        work = Path(args.path)
        (work / "lingering").write_text(ctx.task_id)
        try:
            await asyncio.sleep(120)
        except asyncio.CancelledError as exc:
            (work / "linger-cancelled").write_text(type(exc).__name__)
            raise
        return "lingered"


class Laps(BaseModel):
    laps: int
    questions: int


class Marathon(A2AAgent):
    """Asks many questions and makes a call per lap, parking between laps."""

    name = "marathon"

    @skill(retries=0)
    async def run(self, ctx: RunContext[NoAuth], args: Laps) -> dict[str, list[str]]:
        """Each lap: one call, then `questions` questions at once; park until they are answered."""
        calls: list[str] = []
        answers: list[str] = []
        for lap in range(args.laps):
            called = await ctx.call("splitter", "upper", args={"text": f"lap {lap}"})
            calls.append(str(called.output))
            await ctx.emit_progress(f"lap {lap}")
            asked = [ctx.ask(f"lap {lap} question {i}?") for i in range(args.questions)]
            got = await asyncio.gather(*asked, return_exceptions=True)
            stop = next((item for item in got if isinstance(item, BaseException)), None)
            if stop is not None:
                raise stop
            answers.extend(str(item) for item in got)
        return {"calls": calls, "answers": answers}


class Chronicler(A2AAgent):
    """Logs through `ctx.log` (a secret among its values), calls the splitter, fails once."""

    name = "chronicler"
    secrets = ("CHRONICLE_TOKEN",)

    def __init__(self) -> None:
        self.attempts = 0

    @skill(retries=1)
    async def chronicle(self, ctx: RunContext[NoAuth], args: Text) -> int:
        """Log, call, and raise on the first attempt."""
        self.attempts += 1
        ctx.log.info("chronicle started", token=ctx.secret("CHRONICLE_TOKEN"), seen=self.attempts)
        split = await ctx.call("splitter", "split", args={"text": args.text})
        if self.attempts == 1:
            raise ValueError(f"first attempt fails near {ctx.secret('CHRONICLE_TOKEN')}")
        return int(split.output["count"])


LOG_AGENTS = [Chronicler(), Splitter()]
