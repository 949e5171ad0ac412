"""What ``plan`` tells the workflow besides its files: the step outputs the action's jobs read.

Pure: the names (``matrix``, ``matrix-first``, ``first-count``…) are the contract with
``action.yml`` and the workflows; the command writes them to ``$GITHUB_OUTPUT``.
"""

from __future__ import annotations

import json

from shard_action.core.matrix import Matrix, matrix
from shard_action.core.plan import Plan


def _compact(jobs: Matrix) -> str:
    return json.dumps(jobs, separators=(",", ":"), ensure_ascii=False)


def outputs(plan: Plan, plan_file: str) -> dict[str, str]:
    """The plan step's outputs: the whole matrix, the first tier's and the rest's (a workflow
    skips the job of an empty one by its count), the shard count, the mode and the plan's path."""
    first, rest = matrix(plan, first=True), matrix(plan, first=False)
    return {
        "matrix": _compact(matrix(plan)),
        "matrix-first": _compact(first),
        "matrix-rest": _compact(rest),
        "first-count": str(len(first["include"])),
        "rest-count": str(len(rest["include"])),
        "shard-count": str(len(plan.shards)),
        "mode": plan.mode,
        "plan": plan_file,
    }
