"""The Temporal runtime: how skills run as workflows and activities, and how clients reach them.

`wire` names every workflow, update, query, signal, activity and failure
type; `models` are the pydantic models that cross Temporal boundaries;
`pipeline` is the pipeline spec. These three are pure: workflow code imports
them. The rest does I/O: `client` (`TemporalA2AClient`, task and pipeline
handles), `context` (`TemporalRunContext`, the activity-side `RunContext`)
with `_attempt`, `_events`, `_event_replay` and `_pacing`, `routing` and
`registry` (where a call goes), `storage` (S3 through `minio`),
`s3_workspace`, `converter` (the data converter) and `runtime` (what a
connected client shares with its workers).

May import: the core, `trust`, `sandbox.interface`/`sandbox.backends`,
`a2a_temporal.settings` and `a2a_temporal.errors`. Never `protocol`,
`activities`, `worker` or `cli`.
"""
