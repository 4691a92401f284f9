"""A worker's liveness and readiness over HTTP, for Kubernetes probes (`health_port`).

- `GET /livez`: 200 while the process serves requests (it stays 200 while
  draining, so a stopping worker is not killed before its grace period).
- `GET /readyz`: 200 when the worker polls its task queue and Temporal and S3
  answer; 503 with the reasons otherwise, and 503 from the moment it drains.

A few lines of HTTP/1.1 on asyncio: a worker needs no web framework for two
fixed answers.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Self

__all__ = ["HealthServer"]

_MAX_REQUEST = 8192  # the request head's bound, enforced while reading
_READ_TIMEOUT = 5.0


class HealthServer:
    """Serves `/livez` and `/readyz` on `port` until closed.

    Args:
        port: Where to listen (all interfaces: probes come from the kubelet).
        unready: Returns why the worker is not ready (empty when it is).
        host: The interface to listen on.
    """

    def __init__(
        self, port: int, unready: Callable[[], Awaitable[list[str]]], host: str = "0.0.0.0"
    ) -> None:
        self.port = port
        self.host = host
        self.draining = False
        self._unready = unready
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> Self:
        self._server = await asyncio.start_server(
            self._answer, self.host, self.port, limit=_MAX_REQUEST
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(_READ_TIMEOUT):
                head = await reader.readuntil(b"\r\n\r\n")
            status, body = await self._route(head)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError):
            status, body = 400, "bad request"
        except ConnectionError:
            return
        payload = (body + "\n").encode()
        writer.write(
            f"HTTP/1.1 {status} {'OK' if status == 200 else 'Error'}\r\n"
            f"Content-Type: text/plain; charset=utf-8\r\nContent-Length: {len(payload)}\r\n"
            "Connection: close\r\n\r\n".encode()
            + payload
        )
        with contextlib.suppress(ConnectionError):
            await writer.drain()
        writer.close()

    async def _route(self, head: bytes) -> tuple[int, str]:
        method, _, rest = head.decode("latin-1").partition(" ")
        path = rest.split(" ", 1)[0].split("?", 1)[0]
        if method != "GET":
            return 405, "only GET"
        if path == "/livez":
            return 200, "live"
        if path == "/readyz":
            if self.draining:
                return 503, "draining: the worker is stopping"
            reasons = await self._unready()
            return (503, "; ".join(reasons)) if reasons else (200, "ready")
        return 404, "not found: /livez, /readyz"
