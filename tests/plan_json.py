"""Reading a written ``plan.json`` as plain JSON, the way scripts outside our code do."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def shard_tests(shard: Mapping[str, Any]) -> list[str]:
    """A shard's tests, slice after slice (``shards[*].slices[*].tests``)."""
    return [test for piece in shard["slices"] for test in piece["tests"]]


def plan_tests(plan: Mapping[str, Any]) -> list[str]:
    """Every planned test of the plan, shard after shard."""
    return [test for shard in plan["shards"] for test in shard_tests(shard)]
