"""Which shard results count when a run was attempted more than once ("Re-run failed jobs").

The newest attempt of this plan counts; results of another plan are left out and said so.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from shard_action.core.manifest import ShardManifest
from shard_action.core.units import count

T = TypeVar("T")


def newest_attempts(
    found: Sequence[tuple[T, ShardManifest]], digest: str | None
) -> tuple[list[tuple[T, ShardManifest]], list[str]]:
    """Each shard's results of the newest attempt of this plan (after "Re-run failed jobs").

    Results of another plan (an earlier attempt planned differently, another suite) are left
    out; of one shard's results from several attempts the newest counts. Two of one attempt
    stay, for the caller to name as a problem.
    """
    notes: list[str] = []
    mine = [(p, m) for p, m in found if digest is None or m.plan_digest in (None, digest)]
    if len(mine) < len(found):
        notes.append(
            f"{count(len(found) - len(mine), 'shard result')} of another plan left out "
            "(an earlier attempt's or another suite's)"
        )
    newest: dict[str, int] = {}
    for _, manifest in mine:
        newest[manifest.shard] = max(newest.get(manifest.shard, 0), manifest.attempt or 0)
    kept = []
    for path, manifest in mine:
        if (manifest.attempt or 0) < newest[manifest.shard]:
            notes.append(
                f"shard {manifest.shard}: the results of attempt {manifest.attempt or 1} were "
                f"replaced by attempt {newest[manifest.shard]}'s"
            )
            continue
        kept.append((path, manifest))
    return kept, notes
