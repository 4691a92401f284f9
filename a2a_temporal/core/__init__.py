"""The runtime-agnostic core: what skills are written against, whichever runtime runs them.

Agents and their skills (`agent`), the `RunContext` contract and its
in-process implementation (`context`, `local_context`), the `A2AClient`
interface and the in-process client (`client`), events, artifacts and results
(`types`), caller identities (`auth`), workspaces and their grants
(`workspace`, `grants`), secrets (`secrets`), discovery, names and messages.

May import: the standard library, pydantic, jsonschema, structlog and
`a2a_temporal.errors`. Never the Temporal runtime, `protocol`, `sandbox`,
`trust`, `worker` or `cli` (a test checks it).
"""
