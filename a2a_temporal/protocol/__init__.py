"""The Agent2Agent protocol both ways: a gateway over our workflows, and remote agents as callees.

`gateway` serves agents over A2A v1.0 (JSON-RPC and HTTP+JSON) with tasks
that are our workflows; `tasks` reads a task as A2A shows it; `convert` maps
between our types and the protocol's; `media_types` refuses bodies that are
not JSON; `remote` calls remote A2A agents (`HttpA2AClient` in-process) and
`remote_agent` is the built-in `a2a-remote` agent that follows a remote task
crash-safely on Temporal.

Needs the `a2a` extra: `pip install 'a2a-temporal[a2a]'` (the official
`a2a-sdk` with its HTTP server parts, and `uvicorn`).

May import: the core, `trust`, the Temporal runtime, `a2a_temporal.settings`
and `a2a_temporal.errors`. Never `activities`, `worker` or `cli`.
"""
