"""The interface skills use to run code in isolation."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

__all__ = ["SandboxClient", "SandboxResult"]


@dataclass(frozen=True)
class SandboxResult:
    """Outcome of one sandboxed command."""

    exit_code: int
    stdout: bytes
    stderr: bytes


class SandboxClient(ABC):
    """Runs commands away from the worker's own process and files."""

    @abstractmethod
    async def run(
        self,
        command: Sequence[str],
        *,
        files: Mapping[str, bytes] | None = None,
        stdin: bytes | None = None,
        timeout: float | None = None,
    ) -> SandboxResult:
        """Run `command` with `files` placed in its working directory."""
