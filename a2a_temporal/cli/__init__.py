"""The `a2a-temporal` command line, one module per command group.

`main` parses arguments and dispatches; `tasks` runs and follows tasks;
`pipelines` runs and follows pipelines; `servers` starts the dev stack, a
worker, the A2A gateway and the codec server; `keys` makes identity and
encryption keys; `agents` lists and registers agents; `follow` prints events.

May import everything; nothing imports it.
"""
