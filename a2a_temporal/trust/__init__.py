"""Trust across processes: signed caller identities, payload encryption and the codec server.

`claims` holds the pure models of a signed identity (workflow code imports
them); `identity` signs and verifies them with Ed25519; `encryption` is the
AES-256-GCM payload codec and `codec_server` decrypts for the Temporal UI.
Workspace grants and secret resolution live in the core, since every runtime
(in-process included) enforces them.

May import: the core, `a2a_temporal.settings` and `a2a_temporal.errors`.
"""
