"""Batch pacing keeps an attempt's history within its budget."""

from a2a_temporal.temporal._pacing import Pacing
from a2a_temporal.temporal.models import PublishAck


def ack(length: int, size: int = 1000) -> PublishAck:
    return PublishAck(history_length=length, history_bytes=size)


def test_small_histories_use_the_base_interval() -> None:
    pacing = Pacing(base=0.15, deadline=3600.0, budget_events=40_000)
    assert pacing.interval(0.0) == 0.15
    for length in range(20, 9_000, 10):
        pacing.record(ack(length))
    assert pacing.interval(0.0) == 0.15


def test_past_a_quarter_of_the_budget_the_rest_lasts_until_the_deadline() -> None:
    pacing = Pacing(base=0.15, deadline=3600.0, budget_events=40_000)
    for length in range(0, 10_010, 10):
        pacing.record(ack(length))
    interval = pacing.interval(0.0)
    batches_left = 3600.0 / interval
    assert 0.15 < interval <= 30.0
    assert batches_left * 10 <= 40_000 - 10_000 + 10


def test_an_exhausted_budget_waits_the_longest_interval() -> None:
    pacing = Pacing(base=0.15, deadline=100.0, budget_events=100, longest=30.0)
    pacing.record(ack(90))
    pacing.record(ack(101))
    assert pacing.interval(0.0) == 30.0


def test_bytes_count_too() -> None:
    pacing = Pacing(base=0.1, deadline=600.0, budget_events=1_000_000, budget_bytes=10_000)
    pacing.record(ack(10, 1_000))
    pacing.record(ack(20, 4_000))
    assert pacing.interval(0.0) > 0.1
