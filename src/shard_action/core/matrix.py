"""The GitHub job matrix for a plan: ``fromJSON(needs.plan.outputs.matrix)``.

Only what a job needs to find its shard and name itself (id, lane, display name, env): the test
lists stay in ``plan.json``, because a job output is capped at 1 MB and a matrix at 256 jobs.
The plan always has at least one shard (``EMPTY_SHARD_ID`` for an empty suite), so the matrix is
never empty, which GitHub would reject.
"""

from __future__ import annotations

from typing_extensions import TypedDict  # pydantic reads it (the schema) only from there on 3.11

from shard_action.core.plan import Plan, PlannedShard


class MatrixEntry(TypedDict):
    shard: str
    lane: str
    name: str
    env: dict[str, str]


class Matrix(TypedDict):
    include: list[MatrixEntry]


def matrix(plan: Plan, first: bool | None = None) -> Matrix:
    """``{"include": [{"shard", "lane", "name", "env"}, ...]}``, one entry per shard, plan order.

    ``first``: only the first tier's shards (True) or only the others (False); either may be
    empty, and a workflow skips the job of an empty one (``first-count``/``rest-count``).
    """
    return {
        "include": [
            {"shard": s.id, "lane": s.lane, "name": s.name, "env": _env(plan, s)}
            for s in plan.shards
            if first is None or s.first == first
        ]
    }


def _env(plan: Plan, shard: PlannedShard) -> dict[str, str]:
    """A parallel shard's job gets its lane's env; the serial shard sets each slice's itself."""
    if plan.mode == "serial" or not shard.slices:
        return {}
    return dict(plan.lane(shard.lane).env)
