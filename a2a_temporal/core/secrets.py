"""Secrets resolved on the worker: a mapping, `A2A_SECRET_*` env vars, files in a dir."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from a2a_temporal.errors import MissingSecrets

if TYPE_CHECKING:
    from a2a_temporal.core.agent import A2AAgent

__all__ = [
    "MIN_REDACTED_LENGTH",
    "SECRET_ENV_PREFIX",
    "SecretResolver",
    "redact",
    "require_secrets",
]

SECRET_ENV_PREFIX = "A2A_SECRET_"
MIN_REDACTED_LENGTH = 4


def require_secrets(missing: Mapping[str, list[str]]) -> None:
    """Raise `MissingSecrets` naming each agent's unresolvable secrets, if there are any."""
    if missing:
        needs = "; ".join(f"{agent} needs {', '.join(names)}" for agent, names in missing.items())
        raise MissingSecrets(
            f"cannot host these agents: {needs} (configure each as {SECRET_ENV_PREFIX}<NAME>, "
            "a file in secrets_dir, or in the secrets given to the plugin or client)"
        )


def redact(text: str, secrets: Iterable[tuple[str, str]]) -> str:
    """`text` with every secret value of `MIN_REDACTED_LENGTH`+ characters replaced by its name.

    Longer values go first, so a secret that contains another is replaced whole.
    """
    for name, value in sorted(secrets, key=lambda item: -len(item[1])):
        if len(value) >= MIN_REDACTED_LENGTH and value in text:
            text = text.replace(value, f"[secret {name}]")
    return text


class SecretResolver:
    """Looks a secret up in a mapping, then the environment, then a directory.

    Args:
        mapping: Secrets given directly (highest precedence).
        secrets_dir: Directory whose files are secrets; the file name is the
            secret name and the content (stripped of a trailing newline) its value.
        environ: Environment to read `A2A_SECRET_<NAME>` from.
    """

    def __init__(
        self,
        mapping: Mapping[str, str] | None = None,
        secrets_dir: Path | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self._mapping = dict(mapping or {})
        self._dir = secrets_dir
        self._environ = os.environ if environ is None else environ
        self._resolved: dict[str, str] = {}

    def missing(self, agents: Iterable[A2AAgent]) -> dict[str, list[str]]:
        """The secrets each agent declares that cannot be resolved here, by agent."""
        missing: dict[str, list[str]] = {}
        for agent in agents:
            for name in agent.secrets:
                try:
                    self.resolve(name)
                except KeyError:
                    missing.setdefault(agent.name, []).append(name)
        return missing

    def redact(self, text: str) -> str:
        """`text` with the values of the secrets known here replaced by their names.

        Known: the mapping's, every `A2A_SECRET_*` variable's, and any other
        secret resolved so far.
        """
        from_env = [
            (name.removeprefix(SECRET_ENV_PREFIX), value)
            for name, value in self._environ.items()
            if name.startswith(SECRET_ENV_PREFIX)
        ]
        return redact(text, [*from_env, *self._resolved.items(), *self._mapping.items()])

    def resolve(self, name: str) -> str:
        """Return secret `name`.

        Raises:
            KeyError: Naming the secret and where it was looked for.
        """
        if name in self._mapping:
            return self._mapping[name]
        from_env = self._environ.get(SECRET_ENV_PREFIX + name)
        if from_env is not None:
            return from_env
        if self._dir is not None and name and "/" not in name and not name.startswith("."):
            path = self._dir / name
            if path.is_file():
                value = self._resolved[name] = path.read_text().removesuffix("\n")
                return value
        where = f"the plugin's secrets, ${SECRET_ENV_PREFIX}{name}"
        if self._dir is not None:
            where += f" or {self._dir / name}"
        raise KeyError(f"secret {name!r} is not configured (looked in {where})")
