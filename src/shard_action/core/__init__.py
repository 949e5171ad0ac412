"""The functional core: pure functions over plain data. No I/O, no subprocess, no network.

Adapters (``shard_action.adapters``) turn files and processes into these values; the CLI wires
the two together. Keeping the core pure is what lets the planner be property-tested on random
suites without a single temporary file.
"""
