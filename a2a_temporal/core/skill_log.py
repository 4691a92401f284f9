"""`ctx.log`: a skill's logger, its lines bound to the task, secret values redacted.

A thin wrapper over a structlog logger: every line carries the task's fields
(task id, agent, skill and, on Temporal, workflow id, run id and attempt), and
its message and values pass through the context's secret redaction whatever
logging configuration the process has.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import structlog

__all__ = ["SkillLogger"]

_PLAIN = (bool, int, float, type(None))


class SkillLogger:
    """Logs lines bound to one task; `bind` adds fields of the skill's own.

    Args:
        fields: The task's fields, on every line.
        redact: Replaces secret values in a text by their names.
    """

    def __init__(self, fields: Mapping[str, Any], redact: Callable[[str], str]) -> None:
        self._fields = dict(fields)
        self._redact = redact
        self._logger = structlog.get_logger("a2a_temporal.skill")

    def bind(self, **fields: Any) -> SkillLogger:
        """A logger whose lines carry `fields` too."""
        return SkillLogger({**self._fields, **fields}, self._redact)

    def debug(self, event: str, **fields: Any) -> None:
        """Log at debug level."""
        self._emit("debug", event, fields)

    def info(self, event: str, **fields: Any) -> None:
        """Log at info level."""
        self._emit("info", event, fields)

    def warning(self, event: str, **fields: Any) -> None:
        """Log at warning level."""
        self._emit("warning", event, fields)

    def error(self, event: str, **fields: Any) -> None:
        """Log at error level."""
        self._emit("error", event, fields)

    def _emit(self, level: str, event: str, fields: Mapping[str, Any]) -> None:
        values = {**self._fields, **{name: self._clean(v) for name, v in fields.items()}}
        getattr(self._logger, level)(self._redact(str(event)), **values)

    def _clean(self, value: Any) -> Any:
        """A value fit to log: numbers as they are, anything else as redacted text."""
        if isinstance(value, _PLAIN):
            return value
        if isinstance(value, str):
            return self._redact(value)
        try:
            text = json.dumps(value, default=str)
        except ValueError:
            text = str(value)
        return self._redact(text)
