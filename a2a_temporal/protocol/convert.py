"""Our agents, tasks and events in the Agent2Agent protocol's terms (the a2a-sdk's types).

Pure: no I/O. `TaskFold` replays a task's event stream into what an A2A
client sees of it (status, messages, the streamed text, file artifacts) and
turns each event into the A2A update a streaming client receives.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from a2a.types import a2a_pb2 as pb
from google.protobuf import json_format, struct_pb2

from a2a_temporal.core.agent import AgentCard, SkillCard
from a2a_temporal.core.types import ArtifactRef, CallResult, MessageReply, RunStatus
from a2a_temporal.protocol.numbers import restore_numbers
from a2a_temporal.temporal.models import EventRecord

__all__ = [
    "FINAL",
    "SCHEMA_EXTENSION",
    "STATES",
    "TEXT_ARTIFACT",
    "TaskFold",
    "a2a_card",
    "agent_message",
    "data_part",
    "final_message",
    "from_value",
    "message_input",
    "our_card",
    "reply_message",
    "result_artifact",
    "state_of",
    "status_of",
    "text_part",
]

SCHEMA_EXTENSION = "https://github.com/a2a-temporal/extensions/skill-schemas/v1"
TEXT_ARTIFACT = "text"
RESULT_ARTIFACT = "result"
STATES: dict[str, pb.TaskState] = {
    "resolving": pb.TaskState.TASK_STATE_SUBMITTED,
    "running": pb.TaskState.TASK_STATE_WORKING,
    "input-required": pb.TaskState.TASK_STATE_INPUT_REQUIRED,
    "completed": pb.TaskState.TASK_STATE_COMPLETED,
    "failed": pb.TaskState.TASK_STATE_FAILED,
    "canceled": pb.TaskState.TASK_STATE_CANCELED,
    "rejected": pb.TaskState.TASK_STATE_REJECTED,
}
FINAL = ("completed", "failed", "canceled", "rejected")
_STATUS_OF = {value: key for key, value in STATES.items() if key != "resolving"}


def state_of(status: str) -> pb.TaskState:
    """The A2A task state of one of our statuses."""
    return STATES.get(status, pb.TaskState.TASK_STATE_WORKING)


def status_of(state: pb.TaskState) -> RunStatus | None:
    """Our status for an A2A task state (None for states we never take)."""
    return _STATUS_OF.get(state)  # type: ignore[return-value]


def to_value(data: Any) -> struct_pb2.Value:
    """A JSON value as a protobuf `Value`."""
    value = struct_pb2.Value()
    json_format.ParseDict(data, value)
    return value


def from_value(value: struct_pb2.Value, schema: Mapping[str, Any] | None = None) -> Any:
    """A protobuf `Value` as plain JSON data, integers restored (see `numbers`)."""
    return restore_numbers(json_format.MessageToDict(value), schema)


def text_part(text: str) -> pb.Part:
    """A text part."""
    return pb.Part(text=text)


def data_part(data: Any) -> pb.Part:
    """A structured-data part."""
    return pb.Part(data=to_value(data), media_type="application/json")


def agent_message(
    task_id: str,
    context_id: str,
    parts: list[pb.Part],
    *,
    message_id: str,
    metadata: Mapping[str, Any] | None = None,
) -> pb.Message:
    """A message from the agent in a task (ids derive from the event it stands for)."""
    message = pb.Message(
        message_id=message_id,
        task_id=task_id,
        context_id=context_id,
        role=pb.Role.ROLE_AGENT,
        parts=parts,
    )
    if metadata:
        message.metadata.update(dict(metadata))
    return message


def final_message(task_id: str, context_id: str, result: CallResult) -> pb.Message:
    """The agent's last message of an ended task: its error, else its status."""
    text = result.error or result.status
    return agent_message(task_id, context_id, [text_part(text)], message_id=f"{task_id}/final")


def message_input(message: pb.Message, schema: Mapping[str, Any] | None = None) -> tuple[Any, str]:
    """What a client's message says: the first data part's data (or None), and its text.

    `schema` (of the data) says which integral numbers stay floats.
    """
    data: Any = None
    texts = []
    for part in message.parts:
        if part.HasField("data") and data is None:
            data = from_value(part.data, schema)
        elif part.HasField("text"):
            texts.append(part.text)
    return data, "\n".join(texts)


def a2a_card(
    card: AgentCard, url: str, *, secured: bool, default_skill: str | None
) -> pb.AgentCard:
    """The A2A agent card of one of our agents, served at `url`."""
    schemas = {
        skill.name: {"input": skill.input_schema, "output": skill.output_schema}
        for skill in card.skills
    }
    extension = pb.AgentExtension(
        uri=SCHEMA_EXTENSION,
        description="JSON Schemas of each skill's input (a data part) and output",
    )
    extension.params.update({"skills": schemas, "default_skill": default_skill or ""})
    result = pb.AgentCard(
        name=card.name,
        description=card.description or card.name,
        version="1.0.0",
        capabilities=pb.AgentCapabilities(
            streaming=True, push_notifications=True, extensions=[extension]
        ),
        default_input_modes=["application/json", "text/plain"],
        default_output_modes=["application/json", "text/plain"],
        skills=[_skill(skill) for skill in card.skills],
        supported_interfaces=[
            pb.AgentInterface(url=url, protocol_binding="JSONRPC", protocol_version="1.0"),
            pb.AgentInterface(url=url, protocol_binding="JSONRPC", protocol_version="0.3"),
            pb.AgentInterface(url=url, protocol_binding="HTTP+JSON", protocol_version="1.0"),
        ],
    )
    if secured:
        result.security_schemes["bearer"].http_auth_security_scheme.scheme = "bearer"
        api_key = result.security_schemes["apiKey"].api_key_security_scheme
        api_key.location = "header"
        api_key.name = "X-API-Key"
        for scheme in ("bearer", "apiKey"):
            result.security_requirements.add().schemes[scheme].list.extend([])
    return result


def our_card(card: pb.AgentCard, name: str | None = None) -> AgentCard:
    """A remote agent's A2A card in our terms (its skills take unknown args)."""
    slug = name or re.sub(r"[^A-Za-z0-9_-]+", "-", card.name).strip("-").lower() or "remote"
    return AgentCard(
        name=slug,
        description=card.description,
        tags=tuple(sorted({tag for skill in card.skills for tag in skill.tags})),
        capabilities=("a2a", "streaming") if card.capabilities.streaming else ("a2a",),
        skills=tuple(
            SkillCard(
                name=skill.id,
                description=skill.description,
                tags=tuple(skill.tags),
                input_schema={"type": "object"},
                output_schema={},
            )
            for skill in card.skills
        ),
    )


def _skill(skill: SkillCard) -> pb.AgentSkill:
    description = skill.description or skill.name
    if skill.scopes:
        description += f" (needs scopes: {', '.join(skill.scopes)})"
    return pb.AgentSkill(
        id=skill.name,
        name=skill.name,
        description=description,
        tags=list(skill.tags) or [skill.name],
        input_modes=["application/json", "text/plain"],
        output_modes=["application/json", "text/plain"],
    )


def reply_message(result: CallResult, context_id: str) -> pb.Message | None:
    """A completed task whose skill returned a `MessageReply`, as the agent's Message."""
    reply = MessageReply.of(result.output) if result.status == "completed" else None
    if reply is None:
        return None
    parts = [text_part(reply.text)]
    if reply.data is not None:
        parts.append(data_part(reply.data))
    return pb.Message(
        message_id=f"{result.task_id}/reply",
        context_id=context_id,
        role=pb.Role.ROLE_AGENT,
        parts=parts,
    )


def result_artifact(result: CallResult) -> pb.Artifact | None:
    """A completed task's output: a data part for JSON values, a text part for strings."""
    if result.status != "completed" or result.output is None:
        return None
    part = text_part(result.output) if isinstance(result.output, str) else data_part(result.output)
    return pb.Artifact(artifact_id=RESULT_ARTIFACT, name=RESULT_ARTIFACT, parts=[part])


@dataclass
class TaskFold:
    """What a task's event stream amounts to, event by event.

    Args:
        task_id: The task.
        context_id: Its A2A context.
    """

    task_id: str
    context_id: str
    text: list[tuple[int, str]] = field(default_factory=list)
    files: dict[str, ArtifactRef] = field(default_factory=dict)
    history: list[pb.Message] = field(default_factory=list)
    status_message: pb.Message | None = None
    open_question: dict[str, Any] | None = None
    asked: int = 0
    offset: int = 0

    @property
    def full_text(self) -> str:
        """The text the skill streamed that still stands."""
        return "".join(chunk for _, chunk in self.text)

    def apply(
        self, offset: int, record: EventRecord
    ) -> list[pb.TaskStatusUpdateEvent | pb.TaskArtifactUpdateEvent | ArtifactRef]:
        """Take one event; return what a streaming client is sent for it.

        A file artifact comes back as its `ArtifactRef`: turning it into an A2A
        part (inline or a link) needs the object store.
        """
        self.offset = offset + 1
        kind, payload = record.kind, record.payload
        if kind == "text_delta":
            first = not self.text
            chunk = str(payload.get("text", ""))
            self.text.append((offset, chunk))
            return [self._text_update(chunk, append=not first)]
        if kind == "diverged" and "superseded_from" in payload:
            cut = int(payload["superseded_from"])
            self.text = [(at, chunk) for at, chunk in self.text if at < cut]
            return [self._text_update(self.full_text, append=False)]
        if kind == "artifact":
            name = payload.get("name")
            if not isinstance(name, str):
                return []  # not an artifact event the runtime wrote: nothing to show
            ref = ArtifactRef(name, "", "", 0)  # the reader finds the bytes by task and name
            self.files[name] = ref
            return [ref]
        if kind == "question":
            self.asked += 1
            return [self._question(payload)]
        if kind == "answer":
            self.open_question = None
            self.history.append(self._answer_message(payload))
            return [self._status("running", f"answered {payload.get('question_id')}")]
        return [self._status("running", _describe(kind, payload), kind=kind, payload=payload)]

    def _text_update(self, text: str, *, append: bool) -> pb.TaskArtifactUpdateEvent:
        return pb.TaskArtifactUpdateEvent(
            task_id=self.task_id,
            context_id=self.context_id,
            artifact=pb.Artifact(
                artifact_id=TEXT_ARTIFACT, name=TEXT_ARTIFACT, parts=[text_part(text)]
            ),
            append=append,
            last_chunk=False,
        )

    def _question(self, payload: dict[str, Any]) -> pb.TaskStatusUpdateEvent:
        self.open_question = payload
        question = {
            "question_id": payload.get("id"),
            "task_id": payload.get("task_id", self.task_id),
            "json_schema": payload.get("json_schema"),
        }
        message = agent_message(
            self.task_id,
            self.context_id,
            [text_part(str(payload.get("prompt", ""))), data_part(question)],
            message_id=self._message_id(),
        )
        self.history.append(message)
        self.status_message = message
        return self._event("input-required", message)

    def _status(
        self, status: str, text: str, *, kind: str | None = None, payload: Any = None
    ) -> pb.TaskStatusUpdateEvent:
        parts = [text_part(text)]
        if kind is not None:
            parts.append(data_part({"kind": kind, "payload": payload}))
        message = agent_message(self.task_id, self.context_id, parts, message_id=self._message_id())
        self.status_message = message
        return self._event(status, message)

    def _event(self, status: str, message: pb.Message) -> pb.TaskStatusUpdateEvent:
        update = pb.TaskStatusUpdateEvent(
            task_id=self.task_id,
            context_id=self.context_id,
            status=pb.TaskStatus(state=state_of(status), message=message),
        )
        update.metadata.update({"offset": self.offset - 1})
        return update

    def final(
        self, result: CallResult
    ) -> list[pb.TaskStatusUpdateEvent | pb.TaskArtifactUpdateEvent]:
        """What a streaming client is sent when the task ends."""
        updates: list[pb.TaskStatusUpdateEvent | pb.TaskArtifactUpdateEvent] = []
        artifact = result_artifact(result)
        if artifact is not None:
            updates.append(
                pb.TaskArtifactUpdateEvent(
                    task_id=self.task_id,
                    context_id=self.context_id,
                    artifact=artifact,
                    last_chunk=True,
                )
            )
        updates.append(
            self._event(result.status, final_message(self.task_id, self.context_id, result))
        )
        return updates

    def _answer_message(self, payload: dict[str, Any]) -> pb.Message:
        """The user's message that answered: as sent when the event kept it, else its value."""
        answer = pb.Message()
        sent = payload.get("message")
        if isinstance(sent, dict):
            try:
                json_format.ParseDict(sent, answer, ignore_unknown_fields=True)
            except json_format.ParseError:
                answer = pb.Message()
        if not answer.parts:
            answer.parts.append(data_part(payload))
        if not answer.message_id:
            answer.message_id = self._message_id()
        answer.task_id, answer.context_id = self.task_id, self.context_id
        answer.role = pb.Role.ROLE_USER
        return answer

    def _message_id(self) -> str:
        """The id of the message that stands for the event being applied."""
        return f"{self.task_id}/{self.offset - 1}"


def _describe(kind: str, payload: dict[str, Any]) -> str:
    if kind == "progress":
        return str(payload.get("message", ""))
    if kind == "error":
        return f"error: {payload.get('message', '')}"
    if kind == "retry":
        return f"retrying (attempt {payload.get('attempt')}): {payload.get('reason', '')}"
    if kind == "diverged":
        return "the re-run replaced earlier calls"
    return kind
