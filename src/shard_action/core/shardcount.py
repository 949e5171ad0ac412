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
from shard_action.core.units import count, duration, percent, speedup

CANDIDATES = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256)

GAP_PLANS = 16
"""The most counts planned between two candidates (:func:`between`): every count of a gap up to
64 shards, and planning stays bounded above that (each count is one more plan)."""


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
        found.append(option_of(plan))
    return found


def option_of(plan: Plan) -> CountOption:
    """The plan's own row: its shards, predicted wall, billed minutes and speed-up."""
    ratio = plan.serial_seconds / plan.makespan if plan.makespan > 0 else 1.0
    return CountOption(
        shards=len(plan.shards),
        wall=plan.makespan,
        billed_minutes=billed_minutes(plan),
        speedup=ratio,
    )


def counts_up_to(limit: int) -> list[int]:
    """The counts worth showing: a rough doubling series, then ``limit`` itself."""
    chosen = [k for k in CANDIDATES if k < limit]
    return [*chosen, limit]


def between(lower: int, upper: int) -> list[int]:
    """The counts strictly between two planned counts: all of them, or ``GAP_PLANS`` evenly
    spread when the gap is wider."""
    if upper - lower - 1 <= GAP_PLANS:
        return list(range(lower + 1, upper))
    step = (upper - lower) / (GAP_PLANS + 1)
    return sorted({lower + round(i * step) for i in range(1, GAP_PLANS + 1)})


def _with_gap(
    plan_for: Callable[[int], Plan], found: list[CountOption], target: float, limit: int
) -> list[CountOption]:
    """``found`` and, when a count above the first meets ``target``, every count from the one
    before the first that does up to ``limit``, while below the fewest billed minutes found so
    far (``GAP_PLANS`` evenly spread when that range is wider): billed minutes are not monotone
    in the count, so a count the candidates skip (7 between 6 and 8) can be the cheapest that
    meets the target, and a count of k shards bills at least k minutes, so no count past those
    minutes can be cheaper (nor one equal to them: fewer shards win the tie). When the first
    count meets it, none is added: more shards bill at least their summed walls' minutes, and
    each shard adds its set-up to that sum."""
    meets = next((i for i, o in enumerate(found) if o.wall <= target), None)
    if not meets:  # none meets it, or one shard already does
        return found
    rows = {o.shards: o for o in found}
    cheapest = min(o.billed_minutes for o in found if o.wall <= target)
    for k in between(found[meets - 1].shards, min(limit + 1, cheapest)):
        if k >= cheapest:
            break
        if k in rows:
            continue
        option = option_of(plan_for(k))
        rows.setdefault(option.shards, option)
        if option.wall <= target:
            cheapest = min(cheapest, option.billed_minutes)
    return sorted(rows.values(), key=lambda o: o.shards)


NEAR_SHARE = 0.01
NEAR_SECONDS = 0.5
"""Walls within ``max(NEAR_SHARE * fastest, NEAR_SECONDS)`` of the fastest count as the fastest:
a prediction is not that exact, and a millisecond is not worth more billed minutes."""


def choose(found: list[CountOption], target: float | None) -> CountOption:
    """The cheapest count whose wall meets ``target`` (fewer shards on a tie), else the fastest.

    Without a target, or when none meets it: the fewest billed minutes (then fewer shards) of
    the counts within 1 % or 0.5 s (the larger) of the fastest wall.
    """
    if target is not None:
        meeting = [o for o in found if o.wall <= target]
        if meeting:
            return min(meeting, key=lambda o: (o.billed_minutes, o.shards, o.wall))
    fastest = min(o.wall for o in found)
    near = fastest + max(NEAR_SHARE * fastest, NEAR_SECONDS)
    return min(
        (o for o in found if o.wall <= near), key=lambda o: (o.billed_minutes, o.shards, o.wall)
    )


def by_cost(plan_for: Callable[[int], Plan], limit: int, target: float) -> Plan:
    """``shards = "auto"`` with ``target-time``: plan each count up to ``limit`` (the
    candidates, then the counts :func:`_with_gap` adds), keep :func:`choose`'s, and
    record every count considered in ``counts`` (the plan summary shows them); the critical lane
    says why it got this many shards."""
    asked: dict[int, Plan] = {}
    gave: dict[int, Plan] = {}  # by the shard count it gave, the first count that gave it

    def planned(k: int) -> Plan:
        plan = asked[k] = plan_for(k)
        gave.setdefault(len(plan.shards), plan)
        return plan

    found = _with_gap(planned, options(planned, counts_up_to(limit)), target, limit)
    chosen = choose(found, target)
    plan = _exactly(chosen.shards, asked, gave, plan_for, limit)
    if chosen.wall <= target:
        why = (
            f"target-time {duration(target)}: the fewest billed minutes ({chosen.billed_minutes}) "
            "predicted to finish within it"
        )
        warnings = list(plan.warnings)
    else:
        why = (
            f"target-time {duration(target)} is out of reach: the fastest count up to max-shards "
            f"(the fewest billed minutes within {percent(NEAR_SHARE)} or "
            f"{duration(NEAR_SECONDS)} of the fastest)"
        )
        warnings = [
            *plan.warnings,
            f"no shard count up to max-shards {limit} is predicted to finish within target-time "
            f"{duration(target)}: planned the fastest, {count(chosen.shards, 'shard')} "
            f"({duration(chosen.wall)})",
        ]
    lanes = [
        lane.model_copy(update={"capped_by": why}) if lane.critical else lane for lane in plan.lanes
    ]
    # the chosen row from the plan written (a count planned again has the same figures)
    mine = option_of(plan).model_copy(update={"chosen": True})
    counts = [mine if o is chosen else o for o in found]
    return plan.model_copy(
        update={
            "counts": counts,
            "counts_by": "target-time",
            "lanes": lanes,
            "warnings": warnings,
        }
    )


def _exactly(
    shards: int,
    asked: dict[int, Plan],
    gave: dict[int, Plan],
    plan_for: Callable[[int], Plan],
    limit: int,
) -> Plan:
    """The chosen count's plan, warning about no count the user never set: the plan asked for
    exactly that count (one asked for 6 that gave 5 warned "shards 6: using 5"), planned now
    when none was; past max-shards (lanes that need more shards than it allows, and their own
    warning says so) the first count that gave it, as asking for it would warn "shards 4 is
    over max-shards 3"."""
    plan = asked.get(shards)
    if plan is not None and len(plan.shards) == shards:
        return plan
    if shards <= limit:
        plan = plan_for(shards)
        if len(plan.shards) == shards:
            return plan
    return gave[shards]


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
