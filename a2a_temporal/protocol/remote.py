"""Remote A2A agents as callees: send a message, follow the remote task, read its outcome.

`RemoteConnector` speaks the protocol through the official a2a-sdk client (its
JSON-RPC or HTTP+JSON transport, streaming when the card allows).
`HttpA2AClient` is the `A2AClient` over it, for in-process use; on Temporal the
built-in `a2a-remote` agent follows the remote task crash-safely.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from a2a.client import A2ACardResolver, ClientConfig, create_client
from a2a.client.client import Client
from a2a.types import a2a_pb2 as pb
from a2a.utils.errors import A2AError
from google.protobuf import json_format
from pydantic import BaseModel

from a2a_temporal.core.client import A2AClient
from a2a_temporal.core.context import seconds
from a2a_temporal.core.discovery import DiscoveryClient, InMemoryDiscoveryClient
from a2a_temporal.core.names import new_task_id
from a2a_temporal.core.types import Budget, CallResult, TaskStatus, Usage
from a2a_temporal.errors import InfrastructureError, OutboundRefused, RemoteError
from a2a_temporal.protocol.convert import from_value
from a2a_temporal.temporal.tracing import TRACE_CONTEXT
from a2a_temporal.trust.guarded_http import guarded_client
from a2a_temporal.trust.outbound import OutboundPolicy

__all__ = [
    "HttpA2AClient",
    "RemoteConnector",
    "RemoteOutcome",
    "credential_secret",
    "is_url",
]

_CARD_TTL = 300.0
_POLL_FIRST = 0.2
_POLL_MOST = 5.0
_RETRY_AFTER_MOST = 60.0
_RETRIED_STATUSES = (429, 502, 503, 504)
_ENDED = (
    pb.TaskState.TASK_STATE_COMPLETED,
    pb.TaskState.TASK_STATE_FAILED,
    pb.TaskState.TASK_STATE_CANCELED,
    pb.TaskState.TASK_STATE_REJECTED,
)
_INTERRUPTED = (pb.TaskState.TASK_STATE_INPUT_REQUIRED, pb.TaskState.TASK_STATE_AUTH_REQUIRED)


def is_url(target: str) -> bool:
    """Whether a call target is a remote A2A agent's URL (not an agent name)."""
    return target.startswith(("http://", "https://"))


def credential_secret(url: str) -> str:
    """The secret holding the outbound credential for `url`'s host: `A2A_REMOTE_<HOST>`.

    Its value is sent as `Authorization` (a bare token becomes `Bearer <token>`).
    """
    host = urlsplit(url).netloc
    return "A2A_REMOTE_" + re.sub(r"[^A-Za-z0-9]", "_", host).upper()


@dataclass(frozen=True)
class RemoteOutcome:
    """How a remote task ended, in our terms."""

    status: TaskStatus
    output: Any
    error: str | None
    remote_task_id: str | None
    state: str


class RemoteConnector:
    """Sends messages to remote A2A agents and follows their tasks.

    Args:
        credential: Returns the `Authorization` value for a URL, or None.
        outbound: Where requests may go (the agent's URL and the endpoints its
            card names); public addresses only by default.
    """

    def __init__(
        self,
        credential: Callable[[str], str | None] | None = None,
        outbound: OutboundPolicy | None = None,
    ) -> None:
        self._credential = credential or (lambda url: None)
        self._outbound = outbound or OutboundPolicy()
        self._cards: dict[str, tuple[float, pb.AgentCard]] = {}

    @contextlib.asynccontextmanager
    async def client(self, url: str) -> AsyncIterator[tuple[Client, pb.AgentCard]]:
        """An a2a-sdk client for the agent at `url`, and its card (cached five minutes).

        Raises:
            OutboundRefused: `url` (or, when requested, an endpoint its card
                names) is somewhere requests may not go.
        """
        self._outbound.check_url(url, what="remote agent URL")
        headers = {}
        credential = self._credential(url)
        if credential:
            headers["Authorization"] = credential if " " in credential else f"Bearer {credential}"
        TRACE_CONTEXT.inject(headers)  # the calling skill's span, as W3C `traceparent` only
        async with guarded_client(
            self._outbound,
            what="remote agent URL",
            headers=headers,
            timeout=httpx.Timeout(30.0, read=None),
        ) as http:
            card = await self._card(http, url)
            client = await create_client(
                card, ClientConfig(httpx_client=http, streaming=card.capabilities.streaming)
            )
            try:
                yield client, card
            finally:
                await client.close()

    async def _card(self, http: httpx.AsyncClient, url: str) -> pb.AgentCard:
        cached = self._cards.get(url)
        if cached is not None and time.monotonic() - cached[0] < _CARD_TTL:
            return cached[1]
        card: pb.AgentCard = await _retrying(
            lambda: A2ACardResolver(http, url).get_agent_card(), url
        )
        self._cards[url] = (time.monotonic(), card)
        return card

    async def send(
        self,
        client: Client,
        skill: str,
        args: Mapping[str, Any] | None,
        message_id: str,
        *,
        task_id: str | None = None,
        context_id: str | None = None,
        text: str | None = None,
    ) -> pb.Task | pb.Message:
        """Send one message (returning at once with the remote task, or its direct reply)."""
        message = pb.Message(message_id=message_id, role=pb.Role.ROLE_USER)
        if task_id:
            message.task_id = task_id
        if context_id:
            message.context_id = context_id
        if text is not None:
            message.parts.add(text=text)
        if args is not None:
            message.parts.add().data.CopyFrom(_value(dict(args)))
        if skill:
            message.metadata.update({"skill": skill})
        request = pb.SendMessageRequest(
            message=message, configuration=pb.SendMessageConfiguration(return_immediately=True)
        )

        async def first() -> pb.StreamResponse:
            async for response in client.send_message(request):
                return response
            raise RemoteError("the remote agent answered nothing")

        response: pb.StreamResponse = await _retrying(first, "send")
        if response.HasField("message"):
            return _copy_message(response.message)
        if response.HasField("task"):
            return _copy_task(response.task)
        update = response.status_update if response.HasField("status_update") else None
        if update is not None:
            return pb.Task(id=update.task_id, context_id=update.context_id, status=update.status)
        raise RemoteError("the remote agent answered neither a task nor a message")

    async def follow(
        self,
        client: Client,
        card: pb.AgentCard,
        task_id: str,
        on_update: Callable[[pb.StreamResponse], Awaitable[None]] | None = None,
    ) -> pb.Task:
        """Follow a remote task until it ends or needs input; return it then."""
        if card.capabilities.streaming:
            with contextlib.suppress(A2AError, httpx.HTTPError):
                async for response in client.subscribe(pb.SubscribeToTaskRequest(id=task_id)):
                    if on_update is not None:
                        await on_update(response)
                    state = _state_of(response)
                    if state in _ENDED or state in _INTERRUPTED:
                        break
        pause = _POLL_FIRST
        while True:
            task: pb.Task = await _retrying(
                lambda: client.get_task(pb.GetTaskRequest(id=task_id)), task_id
            )
            if task.status.state in _ENDED or task.status.state in _INTERRUPTED:
                return task
            await asyncio.sleep(pause)
            pause = min(pause * 2, _POLL_MOST)

    async def cancel(self, client: Client, task_id: str) -> None:
        """Ask the remote agent to cancel its task (best effort)."""
        with contextlib.suppress(A2AError, httpx.HTTPError, RemoteError):
            await client.cancel_task(pb.CancelTaskRequest(id=task_id))


def reported_usage(reply: pb.Task | pb.Message) -> Usage:
    """The usage a remote task reports in its metadata (`usage`), else one call."""
    if isinstance(reply, pb.Task):
        try:
            reported = json_format.MessageToDict(reply.metadata).get("usage")
            if isinstance(reported, dict):
                return Usage.model_validate(reported)
        except ValueError:
            pass  # a report that is not a Usage counts as none
    return Usage(calls=1)


def outcome(reply: pb.Task | pb.Message) -> RemoteOutcome:
    """A remote task (or a direct reply) in our terms.

    The output is what a caller would read: the data part of the remote's
    artifacts when there is one, else their text joined, else the text of its
    last message.
    """
    if isinstance(reply, pb.Message):
        data, text = _read(reply.parts)
        return RemoteOutcome("completed", data if data is not None else text, None, None, "message")
    state = pb.TaskState.Name(reply.status.state).removeprefix("TASK_STATE_").lower()
    message = _text(reply.status.message.parts) if reply.status.HasField("message") else ""
    if reply.status.state == pb.TaskState.TASK_STATE_COMPLETED:
        data, text = _read([part for artifact in reply.artifacts for part in artifact.parts])
        output = data if data is not None else (text or message)
        return RemoteOutcome("completed", output, None, reply.id, state)
    status: TaskStatus = "failed"
    if reply.status.state == pb.TaskState.TASK_STATE_CANCELED:
        status = "canceled"
    elif reply.status.state in (
        pb.TaskState.TASK_STATE_REJECTED,
        pb.TaskState.TASK_STATE_AUTH_REQUIRED,
    ):
        status = "rejected"
    error = f"remote task {state}" + (f": {message}" if message else "")
    return RemoteOutcome(status, None, error, reply.id, state)


class HttpA2AClient(A2AClient):
    """Calls remote A2A agents directly (in-process, with no durability).

    Args:
        credential: Returns the `Authorization` value for a URL, or None.
        discovery: What `discovery` returns (nothing by default).
        outbound: Where calls may go; public addresses only by default
            (`OutboundPolicy(LOOPBACK_ALLOW)` for agents on this machine).
    """

    def __init__(
        self,
        credential: Callable[[str], str | None] | None = None,
        discovery: DiscoveryClient | None = None,
        outbound: OutboundPolicy | None = None,
    ) -> None:
        self.remote = RemoteConnector(credential, outbound)
        self._discovery = discovery or InMemoryDiscoveryClient([])

    @property
    def discovery(self) -> DiscoveryClient:
        """The discovery given."""
        return self._discovery

    async def call(
        self,
        target: str,
        skill: str,
        *,
        args: BaseModel | Mapping[str, Any] | None = None,
        grant: Any = None,
        timeout: timedelta | float | None = None,
        auth: BaseModel | Mapping[str, Any] | None = None,
        budget: Budget | None = None,
    ) -> CallResult:
        """Send a message to the agent at `target` and wait for its task to end.

        A remote agent knows nothing of `budget`; its task counts as one call in usage.
        """
        task_id = new_task_id("remote", skill or "default")
        raw = args.model_dump(mode="json") if isinstance(args, BaseModel) else args
        limit = seconds(timeout)
        try:
            async with asyncio.timeout(limit), self.remote.client(target) as (client, card):
                reply = await self.remote.send(client, skill, raw, str(uuid.uuid4()))
                if isinstance(reply, pb.Task) and reply.status.state not in _ENDED:
                    reply = await self.remote.follow(client, card, reply.id)
        except TimeoutError:
            return CallResult(
                task_id=task_id, status="canceled", error=f"timed out after {limit:g}s"
            )
        except OutboundRefused as exc:
            return CallResult(task_id=task_id, status="rejected", error=str(exc))
        except (RemoteError, InfrastructureError, A2AError) as exc:
            return CallResult(
                task_id=task_id, status="failed", error=f"{type(exc).__name__}: {exc}"
            )
        result = outcome(reply)
        return CallResult(
            task_id=result.remote_task_id or task_id,
            status=result.status,
            output=result.output,
            error=result.error,
            usage=reported_usage(reply),
        )


def _copy_message(message: pb.Message) -> pb.Message:
    copy = pb.Message()
    copy.CopyFrom(message)
    return copy


def _copy_task(task: pb.Task) -> pb.Task:
    copy = pb.Task()
    copy.CopyFrom(task)
    return copy


def _state_of(response: pb.StreamResponse) -> int | None:
    if response.HasField("task"):
        return response.task.status.state
    if response.HasField("status_update"):
        return response.status_update.status.state
    return None


def _value(data: Any) -> Any:
    value = pb.Part().data
    json_format.ParseDict(data, value)
    return value


def _read(parts: Any) -> tuple[Any, str]:
    data = next((from_value(p.data) for p in parts if p.HasField("data")), None)
    return data, _text(parts)


def _text(parts: Any) -> str:
    return "".join(p.text for p in parts if p.HasField("text"))


async def _retrying(attempt: Callable[[], Awaitable[Any]], what: str) -> Any:
    """Run a request; retry what HTTP says is worth retrying, else raise a typed error."""
    for _ in range(5):
        try:
            return await attempt()
        except httpx.HTTPStatusError as exc:
            code = exc.response.status_code
            if code not in _RETRIED_STATUSES:
                raise RemoteError(f"{what}: the remote agent answered HTTP {code}") from None
            await asyncio.sleep(_retry_after(exc.response))
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise InfrastructureError(f"{what}: the remote agent is unreachable: {exc}") from None
        except httpx.HTTPError as exc:
            raise InfrastructureError(f"{what}: {type(exc).__name__}: {exc}") from None
        except A2AError as exc:
            cause = exc.__cause__
            if (
                isinstance(cause, httpx.HTTPStatusError)
                and cause.response.status_code in _RETRIED_STATUSES
            ):
                await asyncio.sleep(_retry_after(cause.response))
                continue
            if isinstance(cause, OutboundRefused):
                raise cause from None
            if isinstance(cause, httpx.ConnectError | httpx.ConnectTimeout):
                raise InfrastructureError(f"{what}: the remote agent is unreachable") from None
            raise RemoteError(f"{what}: {exc}") from None
    raise InfrastructureError(f"{what}: the remote agent stayed busy")


def _retry_after(response: httpx.Response) -> float:
    try:
        return min(float(response.headers.get("retry-after", "1")), _RETRY_AFTER_MOST)
    except ValueError:
        return 1.0
