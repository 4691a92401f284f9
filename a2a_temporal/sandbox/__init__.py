"""Running untrusted code: the sandbox interface and its backends.

`interface` is what skills use (`ctx.sandbox`: `SandboxClient`, sessions,
specs, results) and what a backend implements (`SandboxBackend`); `process`
is the default backend (confined subprocesses: namespaces, rlimits, another
user) with its helpers `_box_files` and `_box_records`; `microsandbox` runs a
microVM per session (extra `a2a-temporal[microsandbox]`); `backends` picks
the backend settings name.

May import: the core, `a2a_temporal.settings`, `a2a_temporal.errors` and
`a2a_temporal._process`. Importing this package loads no backend.
"""
