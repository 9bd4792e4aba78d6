"""The checks of `orx-elastic check`, one module per kind: network (TCP, TLS), credentials (key,
privileges), fields (indices and mappings), data (marked lines, index `logs`).

Each check is a small function over the settings, the client and the deadline that returns a
Finding; `elastic_cli.checks.run.run_checks` runs them in order and skips what cannot run.
"""
