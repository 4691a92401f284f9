"""Matching a re-run skill's events against the stream (pure logic)."""

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from a2a_temporal.core.types import AgentEvent
from a2a_temporal.temporal._event_replay import Divergence, EventReplay, SentEvent, effective_events


def delta(text: str) -> AgentEvent:
    return AgentEvent("text_delta", {"text": text})


def progress(message: str) -> AgentEvent:
    return AgentEvent("progress", {"message": message, "fraction": None})


def as_sent(events: list[AgentEvent], breaks: frozenset[int] = frozenset()) -> list[SentEvent]:
    """What the publisher puts on the stream: consecutive deltas merged unless a batch broke."""
    sent: list[SentEvent] = []
    for index, event in enumerate(events):
        last = sent[-1] if sent else None
        if last and last.kind == event.kind == "text_delta" and index not in breaks:
            text = last.payload["text"] + event.payload["text"]
            sent[-1] = SentEvent(last.offset, "text_delta", {"text": text})
        else:
            sent.append(SentEvent(len(sent), event.kind, dict(event.payload)))
    return sent


def replay_all(replay: EventReplay, events: list[AgentEvent]) -> list[object]:
    out: list[object] = []
    for event in events:
        divergence, released = replay.offer(event)
        out.extend([divergence] if divergence else [])
        out.extend(released)
    return out


events_strategy = st.lists(
    st.one_of(
        st.text(alphabet="ab ", min_size=1, max_size=4).map(delta),
        st.sampled_from(["x", "y"]).map(progress),
    ),
    max_size=30,
)


@given(events_strategy, st.frozensets(st.integers(0, 30)), st.data())
def test_an_identical_rerun_sends_nothing_again_however_its_deltas_are_chunked(
    events: list[AgentEvent], breaks: frozenset[int], data: st.DataObject
) -> None:
    rerun: list[AgentEvent] = []
    for event in events:
        if event.kind == "text_delta" and len(event.payload["text"]) > 1:
            cut = data.draw(st.integers(1, len(event.payload["text"]) - 1))
            rerun += [delta(event.payload["text"][:cut]), delta(event.payload["text"][cut:])]
        else:
            rerun.append(event)
    replay = EventReplay(as_sent(events, breaks))
    assert replay_all(replay, rerun) == []
    assert replay.finish() == (None, [])


def test_a_rerun_that_goes_further_sends_only_what_is_new() -> None:
    replay = EventReplay(as_sent([progress("x"), delta("The cat s")]))
    out = replay_all(replay, [progress("x"), delta("The "), delta("cat sat"), progress("done")])
    assert out == [delta("at"), progress("done")]
    assert replay.finish() == (None, [])


def test_different_text_supersedes_the_earlier_text_from_its_first_event() -> None:
    replay = EventReplay(as_sent([progress("x"), delta("The cat"), progress("y")]))
    out = replay_all(replay, [progress("x"), delta("The "), delta("dog"), progress("y")])
    assert out == [Divergence(1), delta("The "), delta("dog"), progress("y")]
    assert Divergence(1).event() == AgentEvent("diverged", {"superseded_from": 1})


def test_a_shorter_rerun_supersedes_what_it_did_not_emit_again() -> None:
    replay = EventReplay(as_sent([delta("abc"), progress("y")]))
    assert replay_all(replay, [delta("ab")]) == []
    assert replay.finish() == (Divergence(0), [delta("ab")])


def test_leftover_events_without_text_are_no_divergence() -> None:
    replay = EventReplay(as_sent([progress("x"), AgentEvent("artifact", {"name": "partial"})]))
    assert replay_all(replay, [progress("x")]) == []
    assert replay.finish() == (None, [])
    assert not replay.active


def test_effective_events_drop_what_a_divergence_superseded() -> None:
    records: list[tuple[int, str, dict[str, Any], bool]] = [
        (0, "progress", {"message": "x"}, True),
        (1, "text_delta", {"text": "The cat"}, True),
        (2, "retry", {"attempt": 2}, False),
        (3, "diverged", {"superseded_from": 1}, False),
        (4, "text_delta", {"text": "The dog"}, True),
    ]
    assert effective_events(records) == [
        SentEvent(0, "progress", {"message": "x"}),
        SentEvent(4, "text_delta", {"text": "The dog"}),
    ]


def test_a_divergence_of_calls_leaves_the_events_standing() -> None:
    records: list[tuple[int, str, dict[str, Any], bool]] = [
        (0, "progress", {"message": "a"}, True),
        (1, "diverged", {"superseded_calls": ["t/call-0"], "from_call": 0}, False),
        (2, "progress", {"message": "b"}, True),
    ]
    assert [e.offset for e in effective_events(records)] == [0, 2]
