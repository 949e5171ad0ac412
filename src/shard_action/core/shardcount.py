"""The shard count by cost: predicted wall time, billed minutes and speed-up for each count.

GitHub bills each job by the minute, rounded up, so two shards of 20 s cost two minutes where
one job of 40 s costs one. A person choosing ``shards`` needs the trade-off in front of them:
``plan --explain`` prints it. The figures are the planner's own (``make_plan`` with
``shards = k``), so the table and the plan cannot disagree.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from shard_action.core.plan import Plan

CANDIDATES = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256)


@dataclass(frozen=True, slots=True)
class Option:
    """One shard count as planned."""

    requested: int
    shards: int
    wall: float
    billed_minutes: int
    speedup: float


def billed_minutes(plan: Plan) -> int:
    """Minutes GitHub bills for the plan's test jobs: each shard's predicted wall, rounded up."""
    return sum(max(1, math.ceil(shard.predicted_seconds / 60)) for shard in plan.shards)


def options(plan_for: Callable[[int], Plan], counts: Iterable[int]) -> list[Option]:
    """Plan each count; counts that give the same number of shards (lanes need one each, a
    lane cannot take more) are shown once, as the first that gave it."""
    found: list[Option] = []
    seen: set[int] = set()
    for k in counts:
        plan = plan_for(k)
        if len(plan.shards) in seen:
            continue
        seen.add(len(plan.shards))
        ratio = plan.serial_seconds / plan.makespan if plan.makespan > 0 else 1.0
        found.append(Option(k, len(plan.shards), plan.makespan, billed_minutes(plan), ratio))
    return found


def counts_up_to(limit: int) -> list[int]:
    """The counts worth showing: a rough doubling series, then ``limit`` itself."""
    chosen = [k for k in CANDIDATES if k < limit]
    return [*chosen, limit]


def choose(found: list[Option], target: float | None) -> Option:
    """The cheapest count whose wall meets ``target`` (fewer shards on a tie), else the fastest.

    Without a target: the fastest (fewer shards on a tie).
    """
    if target is not None:
        meeting = [o for o in found if o.wall <= target]
        if meeting:
            return min(meeting, key=lambda o: (o.billed_minutes, o.shards, o.wall))
    return min(found, key=lambda o: (o.wall, o.shards))


def table(found: list[Option], chosen: Option | None = None) -> list[str]:
    """Rows for a person: shards → predicted wall, billed minutes, speed-up."""
    from shard_action.core.units import duration, speedup  # noqa: PLC0415 (small, pure)

    rows = [f"{'shards':>6}  {'wall':>9}  {'billed min':>10}  {'speed-up':<14}"]
    for option in found:
        mark = "  <- chosen" if chosen is not None and option == chosen else ""
        rows.append(
            f"{option.shards:>6}  {duration(option.wall):>9}  {option.billed_minutes:>10}  "
            f"{speedup(option.speedup):<14}{mark}"
        )
    return rows
