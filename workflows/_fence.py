"""Which attempt of a task's skill may speak for it (workflow side).

Every update an attempt sends carries its `AttemptToken`. The fence keeps the
current one: older attempts are told they were superseded, tokens without the
random nonce the workflow handed the activity execution are refused as forged.
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from a2a_temporal.temporal import wire
    from a2a_temporal.temporal.models import AttemptStart, AttemptToken
    from a2a_temporal.workflows._tasks import started_at

__all__ = ["AttemptFence"]

_NONCE_PATCH = "a2a-attempt-nonce"  # tasks from before it take tokens without a nonce
_NONCE_REVISION = 1  # tasks whose starter's memo says this revision have nonces, no marker


class AttemptFence:
    """The current attempt of a task's skill, and the checks on requests claiming to be it."""

    def __init__(self) -> None:
        self.token = AttemptToken(run=0, attempt=0)
        self.active_run: int | None = None

    def begin(self, run: int) -> str:
        """A new activity execution `run` starts: return its nonce (empty for older tasks)."""
        nonce = str(workflow.uuid4()) if _with_nonce() else ""
        self.token = AttemptToken(run=run, attempt=1, nonce=nonce)
        self.active_run = run
        return nonce

    def end(self) -> None:
        """No activity execution runs now."""
        self.active_run = None

    def check(self, token: AttemptToken) -> None:
        """Refuse a request from an attempt that is not the current one.

        Raises:
            ApplicationError: Superseded, not known yet, or forged (by type).
        """
        if token.key() < self.token.key():
            raise ApplicationError(
                f"attempt {token.run}.{token.attempt} was superseded by attempt "
                f"{self.token.run}.{self.token.attempt}",
                type=wire.SUPERSEDED_ERROR_TYPE,
            )
        if token.key() > self.token.key():
            raise ApplicationError(
                f"attempt {token.run}.{token.attempt} is not known here yet",
                type=wire.UNKNOWN_ATTEMPT_ERROR_TYPE,
            )
        self._check_nonce(token)

    def check_start(self, start: AttemptStart) -> None:
        """Refuse a retry's announcement unless it is the active execution's next attempt.

        Raises:
            ApplicationError: Forged or superseded (by type).
        """
        self._check_nonce(start.token)
        if start.token.key() <= self.token.key() or start.token.run != self.active_run:
            raise ApplicationError(
                f"attempt {start.token.run}.{start.token.attempt} is not the newest",
                type=wire.SUPERSEDED_ERROR_TYPE,
            )

    def current(self, token: AttemptToken) -> bool:
        """Whether `token`'s attempt is still the one running."""
        return self.token.key() == token.key() and self.active_run == token.run

    def _check_nonce(self, token: AttemptToken) -> None:
        if token.nonce != self.token.nonce:
            raise ApplicationError(
                f"attempt {token.run}.{token.attempt} did not come from this task's activity",
                type=wire.FORGED_ATTEMPT_ERROR_TYPE,
            )


def _with_nonce() -> bool:
    """Whether this task's attempts get nonces: every task but those from before the patch.

    A task started with `lean_task_history` says so in its memo and needs no
    patch marker. Replaying one, the patch is still looked up, so that a
    marker an older worker wrote is matched rather than a nondeterminism.
    """
    if started_at(_NONCE_REVISION):
        if workflow.unsafe.is_replaying_history_events():
            workflow.patched(_NONCE_PATCH)
        return True
    return workflow.patched(_NONCE_PATCH)
