"""Temporal activity definitions: all I/O (S3, HTTP, secrets, the sandbox) happens here.

Installed as `a2a_temporal.activities`. `run_skill` runs one attempt of a
skill (and resolves skills, verifies identities, lists artifacts, archives
journals); `push` delivers A2A push notifications. May import the core,
`trust`, `sandbox`, the Temporal runtime and `protocol`; only `worker`
(which registers them) imports these modules.
"""
