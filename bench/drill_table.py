"""One row per drill (a fault injected under load) and the table they print as."""

from __future__ import annotations

from dataclasses import dataclass, fields

_HEADERS = {
    "fault": "fault",
    "tasks": "tasks",
    "completed": "completed",
    "lost_events": "lost events",
    "duplicated_events": "duplicated events",
    "missing_artifacts": "missing artifacts",
    "repeated_side_effects": "side effects run more than once",
    "recovery_seconds": "recovery time",
    "note": "measured",
}


@dataclass
class DrillRow:
    """What one drill counted; every count but `tasks` and `completed` must be 0."""

    fault: str
    tasks: int
    completed: int
    lost_events: int = 0
    duplicated_events: int = 0
    missing_artifacts: int = 0
    repeated_side_effects: int = 0
    recovery_seconds: float | None = None
    note: str = ""

    @property
    def clean(self) -> bool:
        """Every task completed; nothing lost, duplicated, missing or run twice."""
        return self.completed == self.tasks and not (
            self.lost_events
            or self.duplicated_events
            or self.missing_artifacts
            or self.repeated_side_effects
        )


def markdown(rows: list[DrillRow]) -> str:
    """The rows as a Markdown table, in the order given."""
    names = [field.name for field in fields(DrillRow)]
    lines = [
        "| " + " | ".join(_HEADERS[name] for name in names) + " |",
        "|" + "---|" * len(names),
    ]
    for row in rows:
        cells = []
        for name in names:
            value = getattr(row, name)
            if name == "recovery_seconds":
                value = "—" if value is None else f"{value:.1f} s"
            cells.append(str(value))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
