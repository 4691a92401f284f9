"""What a client's message gives a skill: its args, or the answer to its open question.

A data part is taken as it is; a text-only message fills a schema's one text
field. A schema that declares `a2a_message_id` also gets the message's id.
"""

from __future__ import annotations

import json
from typing import Any

from a2a.types import a2a_pb2 as pb
from a2a.utils.errors import InvalidParamsError

from a2a_temporal.core.agent import SkillCard
from a2a_temporal.protocol.convert import message_input

__all__ = ["MESSAGE_ID_FIELD", "answer_of", "args_of"]

MESSAGE_ID_FIELD = "a2a_message_id"


def args_of(skill: SkillCard, message: pb.Message) -> dict[str, Any]:
    """A skill's args from a message: its data part, or its text for a one-text-field skill.

    A skill whose input declares `a2a_message_id` also gets the message's id there.
    """
    data, text = message_input(message, skill.input_schema)
    if data is not None and not isinstance(data, dict):
        raise InvalidParamsError(message="the data part must hold a JSON object of args")
    return _object_of(skill.input_schema, message, data, text, f"skill {skill.name!r}")


def answer_of(message: pb.Message, schema: dict[str, Any] | None) -> Any:
    """An answer from a message: its data part, else its text (JSON when a schema is expected).

    For a question whose schema is an object, a text answer fills its one text
    field, and a declared `a2a_message_id` gets the message's id, as for args.
    """
    data, text = message_input(message, schema)
    if schema is None:
        return text if data is None else data
    if data is None:
        data = _json_or_text(text)
    if not schema.get("properties") or not isinstance(data, dict | str):
        return data
    fields = data if isinstance(data, dict) else None
    return _object_of(schema, message, fields, text, "the question")


def _object_of(
    schema: dict[str, Any], message: pb.Message, data: dict[str, Any] | None, text: str, what: str
) -> dict[str, Any]:
    """An object for `schema`: `data`, or `text` in its one text field; the message id stamped."""
    properties = dict(schema.get("properties", {}))
    stamped = properties.pop(MESSAGE_ID_FIELD, None) is not None
    extra = {MESSAGE_ID_FIELD: message.message_id} if stamped else {}
    if data is not None:
        return {**extra, **data}
    if not properties:
        return extra
    texts = [name for name, spec in properties.items() if spec.get("type") == "string"]
    required = set(schema.get("required", [])) - {MESSAGE_ID_FIELD}
    if len(texts) == 1 and required <= {texts[0]}:
        return {**extra, texts[0]: text}
    raise InvalidParamsError(
        message=f"{what} takes structured input: send a data part with an object "
        f"matching its schema {schema}"
    )


def _json_or_text(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text
