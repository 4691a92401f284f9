"""Integers that survive the A2A wire.

A2A v1.0 carries data parts, metadata and card extensions as protobuf
`Struct`s, whose only number is a double: `8` leaves as `8.0`. JSON has one
number type, so the gateway writes integral numbers as integers in every JSON
body and SSE event it sends (`IntegralNumbers`), and data that arrives is
restored with the skill's JSON Schema (`restore_numbers`): an integral number
becomes an `int` unless the schema says `number` for it.

Pure functions and one ASGI middleware; no I/O of its own.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["IntegralNumbers", "restore_numbers"]

_MAX_DEPTH = 64


def restore_numbers(value: Any, schema: Mapping[str, Any] | None = None) -> Any:
    """`value` with integral floats as ints, except where `schema` types them `number`."""
    root = schema or {}
    return _restore(value, root, root, 0)


def _restore(value: Any, node: Mapping[str, Any], root: Mapping[str, Any], depth: int) -> Any:
    if isinstance(value, float):
        keep = not math.isfinite(value) or not value.is_integer()
        return value if keep or _only_number(node, root) else int(value)
    if depth > _MAX_DEPTH:
        return value
    node = _resolved(node, root)
    if isinstance(value, dict):
        properties = node.get("properties") or {}
        extra = node.get("additionalProperties")
        return {
            key: _restore(item, properties.get(key, extra if isinstance(extra, dict) else {}),
                          root, depth + 1)
            for key, item in value.items()
        }  # fmt: skip
    if isinstance(value, list):
        prefix = node.get("prefixItems") or []
        items = node.get("items")
        return [
            _restore(item, prefix[i] if i < len(prefix) else items if isinstance(items, dict)
                     else {}, root, depth + 1)
            for i, item in enumerate(value)
        ]  # fmt: skip
    return value


def _resolved(node: Mapping[str, Any], root: Mapping[str, Any]) -> Mapping[str, Any]:
    """The node a local `$ref` (`#/$defs/Name`) points to, merged with the node's own keys."""
    for _ in range(_MAX_DEPTH):
        ref = node.get("$ref")
        if not isinstance(ref, str) or not ref.startswith("#/"):
            break
        target: Any = root
        for part in ref[2:].split("/"):
            target = target.get(part, {}) if isinstance(target, Mapping) else {}
        node = {**(target if isinstance(target, Mapping) else {}),
                **{k: v for k, v in node.items() if k != "$ref"}}  # fmt: skip
    return node


def _only_number(node: Mapping[str, Any], root: Mapping[str, Any]) -> bool:
    """Whether the schema types the value `number` and never `integer`."""
    types = _types(_resolved(node, root), root, 0)
    return "number" in types and "integer" not in types


def _types(node: Mapping[str, Any], root: Mapping[str, Any], depth: int) -> set[str]:
    found: set[str] = set()
    declared = node.get("type")
    if isinstance(declared, str):
        found.add(declared)
    elif isinstance(declared, list):
        found.update(t for t in declared if isinstance(t, str))
    if depth < _MAX_DEPTH:
        for keyword in ("anyOf", "oneOf", "allOf"):
            for branch in node.get(keyword) or ():
                if isinstance(branch, Mapping):
                    found |= _types(_resolved(branch, root), root, depth + 1)
    return found


class IntegralNumbers:
    """Rewrites the JSON bodies and SSE events an app sends: integral numbers as integers."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one request."""
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        kind = ""
        start: Message | None = None
        body: list[bytes] = []
        pending = b""

        async def rewrite(message: Message) -> None:
            nonlocal kind, start, pending
            if message["type"] == "http.response.start":
                content_type = MutableHeaders(scope=message).get("content-type", "")
                kind = "json" if "json" in content_type else "sse" if "event-stream" in (
                    content_type) else ""  # fmt: skip
                if kind == "json":
                    start = message  # sent with the body, whose length changes
                    return
                await send(message)
                return
            if message["type"] != "http.response.body" or not kind:
                await send(message)
                return
            chunk = message.get("body", b"")
            more = bool(message.get("more_body", False))
            if kind == "json":
                body.append(chunk)
                if more:
                    return
                data = _rewrite_json(b"".join(body))
                assert start is not None
                headers = MutableHeaders(scope=start)
                headers["content-length"] = str(len(data))
                await send(start)
                await send({"type": "http.response.body", "body": data, "more_body": False})
                return
            pending += chunk
            complete, _, pending = pending.rpartition(b"\n")
            out = _rewrite_sse(complete + b"\n") if complete else b""
            if not more and pending:
                out, pending = out + pending, b""
            await send({"type": "http.response.body", "body": out, "more_body": more})

        await self._app(scope, receive, rewrite)


def _rewrite_json(raw: bytes) -> bytes:
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        return raw
    return json.dumps(restore_numbers(value), separators=(",", ":")).encode()


def _rewrite_sse(raw: bytes) -> bytes:
    lines = []
    for line in raw.split(b"\n"):
        if line.startswith(b"data:"):
            line = b"data: " + _rewrite_json(line[5:].strip())
        lines.append(line)
    return b"\n".join(lines)
