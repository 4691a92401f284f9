"""Secrets resolved on the worker: a mapping, `A2A_SECRET_*` env vars, files in a dir."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

__all__ = ["SECRET_ENV_PREFIX", "SecretResolver"]

SECRET_ENV_PREFIX = "A2A_SECRET_"


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
                return path.read_text().removesuffix("\n")
        where = f"the plugin's secrets, ${SECRET_ENV_PREFIX}{name}"
        if self._dir is not None:
            where += f" or {self._dir / name}"
        raise KeyError(f"secret {name!r} is not configured (looked in {where})")
