"""shard-action: balanced, lane-aware test sharding with a trustworthy fan-in."""

__version__ = "0.1.0"
