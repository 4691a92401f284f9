"""A sandboxed command's output, kept up to a limit and, when streamed, sent as few events.

Output is whatever the sandboxed code writes, so it cannot be trusted to be
polite: a megabyte of newlines is a million lines. Streamed output is
therefore coalesced: stdout goes out as `text_delta` events of at most
`CHUNK_BYTES`, stderr as `progress` events carrying the lines written since
the last one (at most `CHUNK_BYTES` of them, newest kept), each at most every
`INTERVAL` seconds, and at most `MAX_EVENTS` per command. Past that one
`progress` event says the live view stopped; the result still holds the
output up to the limit.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Literal, Protocol

__all__ = ["CHUNK_BYTES", "INTERVAL", "MAX_EVENTS", "LiveOutput", "OutputHost"]

CHUNK_BYTES = 16 * 1024
INTERVAL = 0.25
MAX_EVENTS = 400


class OutputHost(Protocol):
    """Where streamed output goes (a run's context)."""

    async def emit_text_delta(self, text: str) -> None:
        """Send a piece of live stdout."""

    async def emit_progress(self, message: str) -> None:
        """Send lines of live stderr."""


class LiveOutput:
    """Keeps each stream up to `limit` bytes; with a `host`, sends them live, coalesced.

    Use `async with output.streaming():` around the command so output held
    back for coalescing is sent within `INTERVAL` even when the command falls
    silent, and the rest when it ends.
    """

    def __init__(self, limit: int, host: OutputHost | None) -> None:
        self.stdout = bytearray()
        self.stderr = bytearray()
        self.truncated = False
        self._limit = limit
        self._host = host
        self._text = codecs.getincrementaldecoder("utf-8")("replace")
        self._lines = codecs.getincrementaldecoder("utf-8")("replace")
        self._pending_text = ""
        self._pending_lines = ""
        self._events = 0
        self._stopped = False
        self._last_sent = 0.0
        self._lock = asyncio.Lock()

    async def feed(self, stream: Literal["stdout", "stderr"], chunk: bytes) -> None:
        """Take a chunk the command wrote (past the limit it is dropped, marked truncated)."""
        kept = self.stdout if stream == "stdout" else self.stderr
        room = max(0, self._limit - len(kept))
        if len(chunk) > room:
            self.truncated = True
            chunk = chunk[:room]
        if not chunk:
            return
        kept += chunk
        if self._host is None or self._stopped:
            return
        if stream == "stdout":
            self._pending_text += self._text.decode(chunk)
        else:
            self._pending_lines += self._lines.decode(chunk)
        if len(self._pending_text) >= CHUNK_BYTES or time.monotonic() - self._last_sent >= INTERVAL:
            await self._send(final=False)

    @contextlib.asynccontextmanager
    async def streaming(self) -> AsyncIterator[None]:
        """Send held-back output every `INTERVAL` while the body runs, and the rest after."""
        if self._host is None:
            yield
            return
        ticker = asyncio.create_task(self._tick())
        try:
            yield
        finally:
            ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ticker
        self._pending_text += self._text.decode(b"", final=True)
        self._pending_lines += self._lines.decode(b"", final=True)
        await self._send(final=True)

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(INTERVAL)
            await self._send(final=False)

    async def _send(self, *, final: bool) -> None:
        async with self._lock:
            assert self._host is not None
            self._last_sent = time.monotonic()
            while self._pending_text and not self._stopped:
                piece, self._pending_text = (
                    self._pending_text[:CHUNK_BYTES],
                    self._pending_text[CHUNK_BYTES:],
                )
                if await self._count():
                    await self._host.emit_text_delta(piece)
            if not self._pending_lines or self._stopped:
                return
            complete, _, partial = self._pending_lines.rpartition("\n")
            if final and partial:
                complete, partial = f"{complete}\n{partial}" if complete else partial, ""
            self._pending_lines = partial
            lines = [line for line in complete.split("\n") if line]
            if lines and await self._count():
                await self._host.emit_progress(_newest(lines))

    async def _count(self) -> bool:
        """Count one more event; past the cap, say once that the live view stopped."""
        assert self._host is not None
        self._events += 1
        if self._events <= MAX_EVENTS:
            return True
        self._stopped = True
        self._pending_text = self._pending_lines = ""
        await self._host.emit_progress(
            f"[live output stopped after {MAX_EVENTS} events; the result keeps the output "
            f"up to {self._limit} bytes per stream]"
        )
        return False


def _newest(lines: list[str]) -> str:
    """The lines as one message of at most `CHUNK_BYTES` characters, the newest kept."""
    text = "\n".join(lines)
    if len(text) <= CHUNK_BYTES:
        return text
    dropped = text[: len(text) - CHUNK_BYTES].count("\n") + 1
    return f"[{dropped} earlier lines not shown]\n" + text[-CHUNK_BYTES:].split("\n", 1)[-1]
