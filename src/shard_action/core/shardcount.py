"""The shard count by cost: predicted wall time, billed minutes and speed-up for each count.

GitHub bills each job by the minute, rounded up, so two shards of 20 s cost two minutes where
one job of 40 s costs one. A person choosing ``shards`` needs the trade-off in front of them:
``plan --explain`` prints it. The figures are the planner's own (``make_plan`` with
``shards = k``), so the table and the plan cannot disagree.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

from shard_action.core.plan import CountOption, Plan
from shard_action.core.units import count, duration, speedup

CANDIDATES = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256)


def billed_minutes(plan: Plan) -> int:
    """Minutes GitHub bills for the plan's test jobs: each shard's predicted wall, rounded up."""
    return sum(max(1, math.ceil(shard.predicted_seconds / 60)) for shard in plan.shards)


def options(plan_for: Callable[[int], Plan], counts: Iterable[int]) -> list[CountOption]:
    """Plan each count; counts that give the same number of shards (lanes need one each, a
    lane cannot take more) are shown once, as the first that gave it."""
    found: list[CountOption] = []
    seen: set[int] = set()
    for k in counts:
        plan = plan_for(k)
        if len(plan.shards) in seen:
            continue
        seen.add(len(plan.shards))
        ratio = plan.serial_seconds / plan.makespan if plan.makespan > 0 else 1.0
        found.append(
            CountOption(
                shards=len(plan.shards),
                wall=plan.makespan,
                billed_minutes=billed_minutes(plan),
                speedup=ratio,
            )
        )
    return found


def counts_up_to(limit: int) -> list[int]:
    """The counts worth showing: a rough doubling series, then ``limit`` itself."""
    chosen = [k for k in CANDIDATES if k < limit]
    return [*chosen, limit]


def choose(found: list[CountOption], target: float | None) -> CountOption:
    """The cheapest count whose wall meets ``target`` (fewer shards on a tie), else the fastest.

    Without a target: the fastest (fewer shards on a tie).
    """
    if target is not None:
        meeting = [o for o in found if o.wall <= target]
        if meeting:
            return min(meeting, key=lambda o: (o.billed_minutes, o.shards, o.wall))
    return min(found, key=lambda o: (o.wall, o.shards))


def by_cost(plan_for: Callable[[int], Plan], limit: int, target: float) -> Plan:
    """``shards = "auto"`` with ``target-time``: plan each count up to ``limit``, keep
    :func:`choose`'s, and record every count considered in ``counts`` (the plan summary shows
    them); the critical lane says why it got this many shards."""
    asked: dict[int, Plan] = {}
    gave: dict[int, Plan] = {}  # by the shard count it gave, the first count that gave it

    def planned(k: int) -> Plan:
        plan = asked[k] = plan_for(k)
        gave.setdefault(len(plan.shards), plan)
        return plan

    found = options(planned, counts_up_to(limit))
    chosen = choose(found, target)
    # planned with the count it gave when that was asked (no "lanes need more shards than
    # allowed" warning); else the first count that gave it (never a count over max-shards)
    plan = asked.get(chosen.shards)
    if plan is None or len(plan.shards) != chosen.shards:
        plan = gave[chosen.shards]
    if chosen.wall <= target:
        why = (
            f"target-time {duration(target)}: the fewest billed minutes ({chosen.billed_minutes}) "
            "predicted to finish within it"
        )
        warnings = list(plan.warnings)
    else:
        why = f"target-time {duration(target)} is out of reach: the fastest count up to max-shards"
        warnings = [
            *plan.warnings,
            f"no shard count up to max-shards {limit} is predicted to finish within target-time "
            f"{duration(target)}: planned the fastest, {count(chosen.shards, 'shard')} "
            f"({duration(chosen.wall)})",
        ]
    lanes = [
        lane.model_copy(update={"capped_by": why}) if lane.critical else lane for lane in plan.lanes
    ]
    counts = [o.model_copy(update={"chosen": o is chosen}) for o in found]
    return plan.model_copy(update={"counts": counts, "lanes": lanes, "warnings": warnings})


def table(found: list[CountOption], chosen: CountOption | None = None) -> list[str]:
    """Rows for a person: shards → predicted wall, billed minutes, speed-up."""
    rows = [f"{'shards':>6}  {'wall':>9}  {'billed min':>10}  {'speed-up':<14}"]
    for option in found:
        mark = "  <- chosen" if chosen is not None and option == chosen else ""
        rows.append(
            f"{option.shards:>6}  {duration(option.wall):>9}  {option.billed_minutes:>10}  "
            f"{speedup(option.speedup):<14}{mark}"
        )
    return rows
