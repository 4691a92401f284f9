"""The A2A request handler of one agent: A2A methods answered from our workflows.

Sending a message starts a task (or answers an open question of one);
`GetTask`, `ListTasks` and subscriptions read the task from Temporal; push
notification configs are the task's webhooks (its `a2a.push` update).
"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import AsyncGenerator, AsyncIterator
from typing import TYPE_CHECKING

from a2a.server.context import ServerCallContext
from a2a.server.request_handlers.request_handler import RequestHandler
from a2a.types import a2a_pb2 as pb
from a2a.utils.errors import (
    ExtendedAgentCardNotConfiguredError,
    InvalidParamsError,
    InvalidRequestError,
    TaskNotCancelableError,
    TaskNotFoundError,
    UnsupportedOperationError,
)
from a2a.utils.task import apply_history_length, validate_history_length, validate_page_size
from google.protobuf.json_format import MessageToDict
from pydantic import BaseModel, TypeAdapter

from a2a_temporal.core.agent import AgentCard, SkillCard
from a2a_temporal.core.auth import ScopedAuth
from a2a_temporal.core.names import is_descendant
from a2a_temporal.core.types import ArtifactRef
from a2a_temporal.errors import OutboundRefused
from a2a_temporal.protocol.convert import (
    FINAL,
    TaskFold,
    a2a_card,
    reply_message,
    status_of,
)
from a2a_temporal.protocol.message_args import MESSAGE_ID_FIELD, answer_of, args_of
from a2a_temporal.protocol.tasks import TaskInfo
from a2a_temporal.settings import GatewayIdentity
from a2a_temporal.temporal.models import PushChange, PushTarget
from a2a_temporal.temporal.sealed import SEALED_MIME_TYPE, SealedValues
from a2a_temporal.temporal.wire import (
    PUSH_QUERY,
    PUSH_UPDATE,
    SEARCH_AGENT,
    SEARCH_SUBJECT,
    SKILL_RUN_WORKFLOW,
)
from a2a_temporal.trust.outbound import OutboundPolicy

if TYPE_CHECKING:
    from a2a_temporal.protocol.gateway import Gateway

__all__ = ["ADMIN_SCOPE", "CALLER_KEY", "MESSAGE_ID_FIELD", "AgentRequestHandler"]

Event = pb.Task | pb.Message | pb.TaskStatusUpdateEvent | pb.TaskArtifactUpdateEvent
CALLER_KEY = "a2a_temporal.identity"
ADMIN_SCOPE = "tasks:admin"
_PAGE_SIZE = 50
_CANCEL_WAIT = 30.0
_TARGETS = TypeAdapter(list[PushTarget])


class _EndedTargets(BaseModel):
    """The webhooks of an ended task, kept in the bucket (sealed like payloads)."""

    targets: list[PushTarget]


class AgentRequestHandler(RequestHandler):
    """The A2A request handler of one agent, on top of Temporal."""

    def __init__(self, gateway: Gateway, agent: str) -> None:
        self._gateway = gateway
        self._agent = agent
        self._reader = gateway.reader
        self._client = gateway.client
        self._outbound = gateway.settings.outbound()
        self._sealed = SealedValues(gateway.client.temporal.data_converter)
        self._url = ""

    def a2a_card(self, card: AgentCard, url: str) -> pb.AgentCard:
        """The agent's A2A card, served at `url`."""
        self._url = url
        secured = not self._gateway.settings.gateway_allow_anonymous
        return a2a_card(card, url, secured=secured, default_skill=_default_skill(card))

    def _caller(self, context: ServerCallContext) -> GatewayIdentity:
        identity: GatewayIdentity | None = context.state.get(CALLER_KEY)
        if identity is None:  # every request passes `GatewayGuard`, which sets it
            raise InvalidRequestError(message="authentication required")
        return identity

    async def _task_info(self, task_id: str, caller: GatewayIdentity) -> TaskInfo:
        """The task, if it is this agent's and the caller's (else not found, as if absent)."""
        info = await self._reader.info(task_id)
        if (
            info is None
            or info.agent != self._agent
            or (info.subject != caller.subject and ADMIN_SCOPE not in caller.scopes)
        ):
            raise TaskNotFoundError(message=f"no task {task_id!r} of agent {self._agent!r}")
        return info

    # -- sending messages -------------------------------------------------------------

    async def on_message_send(
        self, params: pb.SendMessageRequest, context: ServerCallContext
    ) -> pb.Task | pb.Message:
        """Start a task (or answer its question) and wait for a final or interrupted state."""
        info, asked = await self._send(params, context)
        settled = None
        if not params.configuration.return_immediately:
            settled = await self._reader.settle(info.task_id, asked)
            if settled is None:  # it ended before it could answer: read it as ended
                info = dataclasses.replace(info, closed=True)
            state = settled.state if settled is not None else await self._reader.state(info)
            result = state.result
            reply = reply_message(result, info.context_id) if result is not None else None
            if reply is not None:
                return reply
        task = await self._reader.task(info, settled=settled)
        return apply_history_length(task, params.configuration)

    async def on_message_send_stream(
        self, params: pb.SendMessageRequest, context: ServerCallContext
    ) -> AsyncGenerator[Event]:
        """Start a task (or answer its question) and stream it until it ends or asks."""
        info, _asked = await self._send(params, context)
        fold = await self._reader.fold(info)
        yield await self._reader.task(info, fold)
        async for event in self._follow(info, fold):
            yield event

    async def _send(
        self, params: pb.SendMessageRequest, context: ServerCallContext
    ) -> tuple[TaskInfo, int]:
        """Start a task or answer its question; the task and how many questions it had asked."""
        identity = self._caller(context)
        message = params.message
        if not params.HasField("message") or not message.message_id or not message.parts:
            raise InvalidParamsError(message="send a message with a messageId and a part")
        if message.task_id:
            return await self._answer(message, identity)
        card = await self._gateway.card(self._agent)
        if card is None:
            raise InvalidRequestError(message=f"agent {self._agent!r} is no longer registered")
        skill = _skill_of(card, params)
        missing = sorted(set(skill.scopes) - set(identity.scopes))
        if missing:
            raise InvalidRequestError(
                message=f"the caller lacks scopes {', '.join(missing)} for skill {skill.name!r}"
            )
        args = args_of(skill, message)
        task_id = f"{self._agent}.{skill.name}.{uuid.uuid4()}"
        context_id = message.context_id or str(uuid.uuid4())
        push = _push_targets(params.configuration, self._outbound)
        await self._client.start(
            self._agent,
            skill.name,
            args=args,
            auth=ScopedAuth(subject=identity.subject, scopes=identity.scopes),
            task_id=task_id,
            caller=f"a2a:{identity.subject}",
            context_id=context_id,
            push=push,
        )
        return TaskInfo(task_id, self._agent, skill.name, context_id, "resolving", closed=False), 0

    async def _answer(self, message: pb.Message, identity: GatewayIdentity) -> tuple[TaskInfo, int]:
        info = await self._task_info(message.task_id, identity)
        fold = await self._reader.fold(info)
        question = fold.open_question
        if info.closed or question is None:
            raise UnsupportedOperationError(
                message=f"task {info.task_id!r} is {info.status}, not waiting for input"
            )
        value = answer_of(message, question.get("json_schema"))
        asker = str(question.get("task_id") or info.task_id)
        if asker != info.task_id and not is_descendant(asker, info.task_id):
            raise InvalidParamsError(message=f"task {info.task_id!r} has no such question")
        try:
            await self._client.get_task(asker).answer(
                str(question["id"]), value, message=MessageToDict(message)
            )
        except ValueError as exc:
            raise InvalidParamsError(message=f"answer refused: {exc}") from None
        return info, fold.asked

    # -- reading tasks ----------------------------------------------------------------

    async def on_get_task(
        self, params: pb.GetTaskRequest, context: ServerCallContext
    ) -> pb.Task | None:
        """The task, built from Temporal."""
        caller = self._caller(context)
        validate_history_length(params)
        task = await self._reader.task(await self._task_info(params.id, caller))
        return apply_history_length(task, params)

    async def on_list_tasks(
        self, params: pb.ListTasksRequest, context: ServerCallContext
    ) -> pb.ListTasksResponse:
        """The caller's tasks of this agent, from Temporal's visibility (newest first).

        Callers with the `tasks:admin` scope see every caller's tasks. Each task
        is built from the listing itself (ids, agent, skill, status, an ended
        task's final message); only a request for history (`historyLength` > 0)
        or artifacts (`includeArtifacts`) reads every listed task in full.
        """
        caller = self._caller(context)
        validate_history_length(params)
        size = params.page_size or _PAGE_SIZE
        if params.HasField("page_size"):
            validate_page_size(size)
        query = [
            f'WorkflowType = "{SKILL_RUN_WORKFLOW}"',
            'ExecutionStatus != "ContinuedAsNew"',  # a task is listed once, as its newest run
            f'{SEARCH_AGENT.name} = "{_quoted(self._agent)}"',
        ]
        if ADMIN_SCOPE not in caller.scopes:
            query.append(f'{SEARCH_SUBJECT.name} = "{_quoted(caller.subject)}"')
        if params.context_id:
            query.append(f'A2AContext = "{_quoted(params.context_id)}"')
        if params.status:
            status = status_of(params.status)
            if status is None:
                return pb.ListTasksResponse(page_size=size)
            query.append(f'A2AStatus = "{status}"')
        try:
            token = bytes.fromhex(params.page_token) if params.page_token else None
        except ValueError:
            raise InvalidParamsError(message="pageToken is not one this gateway gave") from None
        listing = self._client.temporal.list_workflows(
            " AND ".join(query), page_size=size, next_page_token=token
        )
        await listing.fetch_next_page()
        full = params.include_artifacts or params.history_length > 0
        tasks = await self._reader.listed_tasks(listing.current_page or [], full=full)
        response = pb.ListTasksResponse(page_size=size)
        for task in tasks:
            if not params.include_artifacts:
                task.ClearField("artifacts")
            response.tasks.append(apply_history_length(task, params))
        if listing.next_page_token:
            response.next_page_token = listing.next_page_token.hex()
        return response

    async def on_subscribe_to_task(
        self, params: pb.SubscribeToTaskRequest, context: ServerCallContext
    ) -> AsyncGenerator[Event]:
        """The task as it is now, then its updates until it ends or asks.

        A client that lost its stream subscribes again and loses nothing: the
        task it gets first holds everything up to that point.
        """
        caller = self._caller(context)
        info = await self._task_info(params.id, caller)
        if info.closed:
            raise UnsupportedOperationError(
                message=f"task {info.task_id!r} has ended ({info.status}): GetTask returns it"
            )
        fold = await self._reader.fold(info)
        yield await self._reader.task(info, fold)
        async for event in self._follow(info, fold):
            yield event

    async def _follow(self, info: TaskInfo, fold: TaskFold) -> AsyncIterator[Event]:
        """Updates from where `fold` stopped until the task ends or asks for input."""
        async for offset, record in self._reader.records(info.task_id, fold.offset, follow=True):
            for update in fold.apply(offset, record):
                if isinstance(update, ArtifactRef):
                    artifact = await self._reader.artifacts.artifact(info.task_id, update)
                    if artifact is None:
                        continue
                    yield pb.TaskArtifactUpdateEvent(
                        task_id=info.task_id,
                        context_id=info.context_id,
                        artifact=artifact,
                        last_chunk=True,
                    )
                else:
                    yield update
            if record.kind == "question":
                return
        result = await self._client.get_task(info.task_id).result()
        for update in fold.final(result):
            yield update

    async def on_cancel_task(
        self, params: pb.CancelTaskRequest, context: ServerCallContext
    ) -> pb.Task | None:
        """Cancel the task and its callees; returns it once it is canceled."""
        caller = self._caller(context)
        info = await self._task_info(params.id, caller)
        if info.closed or info.status in FINAL:
            raise TaskNotCancelableError(message=f"task {info.task_id!r} has already ended")
        handle = self._client.get_task(info.task_id)
        await handle.cancel()
        await asyncio.wait_for(handle.result(), _CANCEL_WAIT)
        return await self._reader.task(await self._task_info(params.id, caller))

    # -- push notifications -----------------------------------------------------------

    async def on_create_task_push_notification_config(
        self, params: pb.TaskPushNotificationConfig, context: ServerCallContext
    ) -> pb.TaskPushNotificationConfig:
        """Store a webhook with the task (durably, in its workflow)."""
        caller = self._caller(context)
        info = await self._task_info(params.task_id, caller)
        target = _push_target(params, self._outbound)
        await self._push(info, PushChange(put=target))
        return _push_config(info.task_id, target)

    async def on_get_task_push_notification_config(
        self, params: pb.GetTaskPushNotificationConfigRequest, context: ServerCallContext
    ) -> pb.TaskPushNotificationConfig:
        """One of the task's webhooks."""
        targets = await self._targets(params.task_id, self._caller(context))
        found = next((t for t in targets if t.id == params.id), None)
        if found is None:
            raise InvalidParamsError(message=f"no push notification config {params.id!r}")
        return _push_config(params.task_id, found)

    async def on_list_task_push_notification_configs(
        self, params: pb.ListTaskPushNotificationConfigsRequest, context: ServerCallContext
    ) -> pb.ListTaskPushNotificationConfigsResponse:
        """The task's webhooks."""
        targets = await self._targets(params.task_id, self._caller(context))
        return pb.ListTaskPushNotificationConfigsResponse(
            configs=[_push_config(params.task_id, t) for t in targets]
        )

    async def on_delete_task_push_notification_config(
        self, params: pb.DeleteTaskPushNotificationConfigRequest, context: ServerCallContext
    ) -> None:
        """Forget one of the task's webhooks."""
        caller = self._caller(context)
        info = await self._task_info(params.task_id, caller)
        await self._push(info, PushChange(delete=params.id))

    async def _targets(self, task_id: str, caller: GatewayIdentity) -> list[PushTarget]:
        info = await self._task_info(task_id, caller)
        return await self._current_targets(info.task_id, ended=info.closed)

    async def _current_targets(self, task_id: str, *, ended: bool) -> list[PushTarget]:
        """The task's webhooks: kept by its workflow, or in the bucket once it has ended."""
        key = _ended_push_key(task_id)
        if ended and await self._client.store.exists(key):
            data = await self._client.store.get(key)
            if data.startswith(b"["):  # kept in plain JSON by earlier versions
                return _TARGETS.validate_json(data)
            return (await self._sealed.load(data, _EndedTargets)).targets
        handle = self._client.temporal.get_workflow_handle(task_id)
        targets: list[PushTarget] = await handle.query(PUSH_QUERY, result_type=list[PushTarget])
        return targets

    async def _push(self, info: TaskInfo, change: PushChange) -> None:
        """Change the task's webhooks: in its workflow while it runs, else in the bucket.

        A webhook added to an ended task is kept (get, list, delete) but never
        called: the task's state will not change again.
        """
        problem = change.problem()
        if problem is not None:
            raise InvalidParamsError(message=f"push notification config refused: {problem}")
        task_id = info.task_id
        if not info.closed:
            handle = self._client.temporal.get_workflow_handle(task_id)
            try:
                await handle.execute_update(PUSH_UPDATE, change, result_type=list[PushTarget])
                return
            except Exception as exc:  # refused, or the task ended meanwhile
                state = await self._reader.state(info)
                if state.result is None:
                    raise InvalidParamsError(
                        message=f"push notification config refused: {exc}"
                    ) from None
        targets = await self._current_targets(task_id, ended=True)
        data = await self._sealed.dump(_EndedTargets(targets=change.applied(targets)))
        await self._client.store.put_bytes(_ended_push_key(task_id), data, SEALED_MIME_TYPE)

    async def on_get_extended_agent_card(
        self, params: pb.GetExtendedAgentCardRequest, context: ServerCallContext
    ) -> pb.AgentCard:
        """Refused: the public card already says everything (no extended card is declared)."""
        self._caller(context)
        raise ExtendedAgentCardNotConfiguredError(
            message=f"agent {self._agent!r} has no extended card: its public card is complete"
        )


def _ended_push_key(task_id: str) -> str:
    return f"push-configs/{task_id}.json"


def _default_skill(card: AgentCard) -> str | None:
    return card.skills[0].name if card.skills else None


def _skill_of(card: AgentCard, params: pb.SendMessageRequest) -> SkillCard:
    """The skill a message asks for: `skill` in its metadata, else the agent's first one."""
    wanted = next(
        (
            str(meta["skill"])
            for meta in (params.message.metadata, params.metadata)
            if "skill" in meta
        ),
        None,
    )
    name = wanted or _default_skill(card)
    skill = card.skill(name) if name else None
    if skill is None:
        have = ", ".join(s.name for s in card.skills) or "none"
        raise InvalidParamsError(
            message=f"agent {card.name!r} has no skill {name!r} (skills: {have}); name one in "
            'the message metadata: {"skill": "<name>"}'
        )
    return skill


def _quoted(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def _push_targets(
    configuration: pb.SendMessageConfiguration, outbound: OutboundPolicy
) -> list[PushTarget]:
    if not configuration.HasField("task_push_notification_config"):
        return []
    return [_push_target(configuration.task_push_notification_config, outbound)]


def _push_target(config: pb.TaskPushNotificationConfig, outbound: OutboundPolicy) -> PushTarget:
    if not config.url:
        raise InvalidParamsError(message="a push notification config needs a url")
    try:
        outbound.check_url(config.url, what="push webhook URL")
    except OutboundRefused as exc:
        raise InvalidParamsError(message=f"push notification config refused: {exc}") from None
    auth = config.authentication if config.HasField("authentication") else None
    return PushTarget(
        id=config.id or str(uuid.uuid4()),
        url=config.url,
        token=config.token or None,
        auth_scheme=auth.scheme if auth else None,
        auth_credentials=auth.credentials if auth else None,
    )


def _push_config(task_id: str, target: PushTarget) -> pb.TaskPushNotificationConfig:
    config = pb.TaskPushNotificationConfig(
        id=target.id, task_id=task_id, url=target.url, token=target.token or ""
    )
    if target.auth_scheme:
        config.authentication.scheme = target.auth_scheme
    return config
