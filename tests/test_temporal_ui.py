"""What a user sees in the Temporal UI: summaries, search attributes, details, a quiet timeline."""

import json

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.api.sdk.v1 import WorkflowMetadata
from temporalio.client import WorkflowHistory

from a2a_temporal.temporal import wire
from a2a_temporal.temporal.attributes import STARTER_MEMO, STARTER_REVISION
from a2a_temporal.testing import DevStack
from tests.agents import Analyst, Chatty, Splitter
from tests.temporal_helpers import SCHEDULED, count, history, running

UPDATE_ACCEPTED = EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED
UPSERTED = EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES
MARKER = EventType.EVENT_TYPE_MARKER_RECORDED


async def test_summary_details_search_attributes_and_progress(stack: DevStack) -> None:
    async with running(stack, [Splitter(), Analyst()]) as client:
        handle = await client.start("analyst", "report", args={"text": "a b"}, caller="ui-test")
        result = await handle.result()
        assert result.ok
        temporal = client.temporal.get_workflow_handle(handle.task_id)
        desc = await temporal.describe()
        assert await desc.static_summary() == "analyst.report by ui-test"
        assert json.loads(await desc.static_details() or "") == {"text": "a b"}
        found = desc.typed_search_attributes
        assert found.get(wire.SEARCH_AGENT) == "analyst"
        assert found.get(wire.SEARCH_SKILL) == "report"
        assert found.get(wire.SEARCH_CALLER) == "ui-test"
        assert found.get(wire.SEARCH_STATUS) == "completed"

        child = client.temporal.get_workflow_handle(f"{handle.task_id}/call-0")
        child_desc = await child.describe()
        assert await child_desc.static_summary() == f"splitter.split by {handle.task_id}"
        assert child_desc.typed_search_attributes.get(wire.SEARCH_CALLER) == handle.task_id
        metadata = await child.query("__temporal_workflow_metadata", result_type=WorkflowMetadata)
        assert metadata.current_details == "splitting"

        hist = await history(client, f"{handle.task_id}/call-0")
        scheduled = next(e for e in hist.events if e.event_type == SCHEDULED)
        assert b"splitter.split" in scheduled.user_metadata.summary.data


async def test_failed_status_is_searchable(stack: DevStack) -> None:
    async with running(stack, [Splitter()]) as client:
        result = await client.call("splitter", "split", args={})
        desc = await client.temporal.get_workflow_handle(result.task_id).describe()
    assert result.status == "rejected"
    assert desc.typed_search_attributes.get(wire.SEARCH_STATUS) == "rejected"


def updates_named(hist: WorkflowHistory, name: str) -> int:
    """How many updates of that name the history accepted."""
    return sum(
        1
        for event in hist.events
        if event.event_type == UPDATE_ACCEPTED
        and event.workflow_execution_update_accepted_event_attributes.accepted_request.input.name
        == name
    )


async def test_following_a_stream_leaves_few_polls_in_the_timeline(stack: DevStack) -> None:
    async with running(stack, [Chatty()]) as client:
        handle = await client.start("chatty", "trickle", args={"rounds": 0, "deltas": 300})
        texts = [e.payload["text"] async for e in handle.events() if e.kind == "text_delta"]
        result = await handle.result()
        hist = await history(client, handle.task_id)
    assert result.output == 300
    assert "".join(texts) == "".join(f"{i} " for i in range(300))
    publishes = updates_named(hist, wire.PUBLISH_UPDATE)
    assert publishes >= 5, "the skill should have published several batches"
    assert updates_named(hist, "__temporal_workflow_stream_poll") <= 2


@pytest.mark.parametrize("lean", [True, False])
async def test_a_lean_task_and_its_call_write_no_patch_marker(stack: DevStack, lean: bool) -> None:
    """With `lean_task_history`, a task and its call add one upsert, their end status."""
    async with running(stack, [Splitter(), Analyst()], lean_task_history=lean) as client:
        result = await client.call("analyst", "report", args={"text": "a b"})
        assert result.ok, result.error
        for task_id in (result.task_id, f"{result.task_id}/call-0"):
            hist = await history(client, task_id)
            upserts = [
                event.upsert_workflow_search_attributes_event_attributes
                for event in hist.events
                if event.event_type == UPSERTED
            ]
            keys = [set(upsert.search_attributes.indexed_fields) for upsert in upserts]
            desc = await client.temporal.get_workflow_handle(task_id).describe()
            if lean:
                assert (count(hist, MARKER), keys) == (0, [{"A2AStatus"}]), task_id
                assert await desc.memo_value(STARTER_MEMO) == STARTER_REVISION
            else:  # the patch marker and its TemporalChangeVersion upsert
                assert (count(hist, MARKER), len(keys)) == (1, 2), task_id
                assert await desc.memo_value(STARTER_MEMO, None) is None
