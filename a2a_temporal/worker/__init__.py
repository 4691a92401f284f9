"""Assembling and running workers: `AgentPlugin` and the worker process.

`plugin` is `AgentPlugin`: on every client it sets up the data converter
(pydantic, S3 for large payloads, encryption); on a worker built from that
client it registers the workflows, the activities, the built-in `a2a-remote`
agent and the sandbox, which it imports only then (a client that only
starts tasks loads none of them). `run` loads agents by import path and runs
a worker until it is stopped; `versioning` makes that worker a version of a
Temporal worker deployment when the settings name one.

May import everything below it: the core, `trust`, `sandbox`, the Temporal
runtime, `workflows`, `activities` and `protocol`.
"""
