"""Where workers and gateways may send requests: push webhooks and remote A2A agents.

URLs come from callers (a push config, a `ctx.call` target), so by default a
request goes only to public addresses over http(s): loopback, link-local
(cloud metadata), private, shared, reserved and multicast ranges are refused.
`outbound_allow` lists the hosts, addresses and networks that are allowed
anyway. A URL is checked when it is given (`OutboundPolicy.check_url`) and
again, with the addresses its name resolves to, when it is used
(`guarded_http.guarded_client`).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from urllib.parse import urlsplit

from a2a_temporal.errors import OutboundRefused

__all__ = ["LOOPBACK_ALLOW", "OutboundPolicy", "parse_address"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

LOOPBACK_ALLOW = ("localhost", "127.0.0.0/8", "::1")
"""What a local dev stack allows: this machine, by name and address."""

_SCHEMES = ("http", "https")
_MAX_URL = 2048
_SETTING = "outbound_allow (A2A_TEMPORAL_OUTBOUND_ALLOW)"


class OutboundPolicy:
    """Which URLs a request may go to.

    Args:
        allow: Host names (`hooks.example.com`; `*.example.com` for its
            subdomains), addresses (`10.0.0.5`) and networks (`10.0.0.0/8`)
            allowed even when private or local.
    """

    def __init__(self, allow: Iterable[str] = ()) -> None:
        self._names: set[str] = set()
        self._suffixes: list[str] = []
        self._networks: list[IPNetwork] = []
        for entry in allow:
            self._add(entry.strip().lower())

    def _add(self, entry: str) -> None:
        try:
            self._networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
            return
        except ValueError:
            pass
        if entry.startswith("*.") and len(entry) > 2:
            self._suffixes.append(entry[1:])
        elif entry and "/" not in entry and "*" not in entry:
            self._names.add(entry.rstrip("."))
        else:
            raise ValueError(f"outbound_allow entry {entry!r} is not a host, address or network")

    def check_url(self, url: str, *, what: str = "URL") -> str:
        """Return `url` when a request may go there (as far as can be told before resolving).

        Raises:
            OutboundRefused: Not http(s), no host, or a local or private
                address (or `localhost`) that is not allowed.
        """
        if len(url) > _MAX_URL:
            raise OutboundRefused(f"{what} is longer than {_MAX_URL} characters")
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018 - raises on a port that is not a number or out of range
        except ValueError as exc:
            raise OutboundRefused(f"{what} {url!r} is not a valid URL: {exc}") from None
        if parts.scheme not in _SCHEMES:
            raise OutboundRefused(f"{what} {url!r} must be http(s), not {parts.scheme or 'none'!r}")
        host = (parts.hostname or "").rstrip(".")
        if not host:
            raise OutboundRefused(f"{what} {url!r} names no host")
        if parts.username is not None or parts.password is not None:
            raise OutboundRefused(f"{what} {url!r} carries credentials in the URL")
        if self._name_allowed(host):
            return url
        address = parse_address(host)
        if address is not None:
            self._check_address(host, address, what)
        elif host == "localhost" or host.endswith(".localhost"):
            raise OutboundRefused(
                f"{what} {url!r} points at this machine; to allow it, add {host!r} to {_SETTING}"
            )
        return url

    def check_resolved(self, host: str, addresses: Iterable[str], *, what: str = "URL") -> None:
        """Refuse unless every address `host` resolved to may be reached.

        Raises:
            OutboundRefused: One of them is local or private and not allowed.
        """
        if self._name_allowed(host):
            return
        for text in addresses:
            address = parse_address(text)
            if address is None:
                raise OutboundRefused(f"{what} host {host!r} resolved to {text!r}, not an address")
            self._check_address(host, address, what)

    def _name_allowed(self, host: str) -> bool:
        host = host.lower()
        return host in self._names or any(host.endswith(suffix) for suffix in self._suffixes)

    def _check_address(self, host: str, address: IPAddress, what: str) -> None:
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        if address.is_global and not address.is_multicast:
            return
        if any(address in network for network in self._networks):
            return
        shown = host if host == str(address) else f"{host} ({address})"
        raise OutboundRefused(
            f"{what} host {shown} is a {_kind(address)} address; requests go only to public "
            f"addresses unless {_SETTING} lists it"
        )


def parse_address(text: str) -> IPAddress | None:
    """`text` as an IP address (brackets and zone dropped), or None when it is a name."""
    try:
        return ipaddress.ip_address(text.strip("[]").split("%", 1)[0])
    except ValueError:
        return None


def _kind(address: IPAddress) -> str:
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_multicast:
        return "multicast"
    if address.is_private:
        return "private"
    return "reserved"
