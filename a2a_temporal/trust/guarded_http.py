"""HTTP clients that send requests only where an `OutboundPolicy` allows, checked at connect.

`guarded_client` resolves each request's host name itself, checks every
address it resolves to, and connects to a checked address (keeping the name
for `Host` and TLS), so a name re-pointed after the first check gains
nothing. Redirects are not followed and proxies from the environment are not
used (a proxy would resolve the name where it cannot be checked).
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from a2a_temporal.trust.outbound import OutboundPolicy, parse_address

__all__ = ["Resolver", "guarded_client", "system_resolver"]

Resolver = Callable[[str, int], Awaitable[list[str]]]


async def system_resolver(host: str, port: int) -> list[str]:
    """The addresses `host` resolves to, by the system's resolver."""
    found = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in found]


class _GuardedTransport(httpx.AsyncBaseTransport):
    """Resolves each request's host, checks every address, connects to a checked one."""

    def __init__(self, policy: OutboundPolicy, resolve: Resolver, what: str) -> None:
        self._policy = policy
        self._resolve = resolve
        self._what = what
        self._inner = httpx.AsyncHTTPTransport(trust_env=False)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        self._policy.check_url(url, what=self._what)
        host = request.url.host
        if parse_address(host) is None:
            port = request.url.port or (443 if request.url.scheme == "https" else 80)
            try:
                addresses = await self._resolve(host, port)
            except OSError as exc:
                raise httpx.ConnectError(
                    f"{host} did not resolve: {exc}", request=request
                ) from None
            if not addresses:
                raise httpx.ConnectError(f"{host} resolved to nothing", request=request)
            self._policy.check_resolved(host, addresses, what=self._what)
            request.url = request.url.copy_with(host=addresses[0])
            request.extensions = {**request.extensions, "sni_hostname": host}
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


def guarded_client(
    policy: OutboundPolicy,
    *,
    what: str = "URL",
    resolve: Resolver | None = None,
    **options: Any,
) -> httpx.AsyncClient:
    """An `httpx.AsyncClient` whose every request `policy` allows, checked at connect time.

    Refusals raise `OutboundRefused` from the request. `options` go to the client
    (headers, timeout); redirects are not followed and proxies are not used.
    """
    transport = _GuardedTransport(policy, resolve or system_resolver, what)
    return httpx.AsyncClient(
        transport=transport, follow_redirects=False, trust_env=False, **options
    )
