"""Print how many hostile cases each property tried, and with what outcome."""

from __future__ import annotations

import pytest

from tests.security.test_fuzz import TALLY


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for category, counts in TALLY.counts.items():
        outcomes = ", ".join(f"{outcome} {n}" for outcome, n in sorted(counts.items()))
        terminalreporter.write_line(
            f"hostile input, {category}: {sum(counts.values())} tried ({outcomes})"
        )
