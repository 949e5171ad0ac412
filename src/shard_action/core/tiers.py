"""Tiers: which of today's tests a plan covers, and a first tier that runs before the rest.

``tier`` narrows the plan to one tier's tests (``full``, the default, is every test). With
``first-tier``, the chosen tier's tests that are also in the first tier get shards of their own
(``PlannedShard.first``), planned exactly like any plan, and the remaining tests get the others:
a workflow runs the first shards, then the others only when those passed. Both sets are planned
in one ``plan.json``, so each test is in exactly one shard, the fan-in sees one plan and writes
one report, and the history stays keyed by lane and test id: a tier never renames a lane.

Why one plan and not two: two plans would need the fan-in to merge two plans, would let a test
be planned twice (once per plan) without anything noticing, and would give two reports.

Merging the two halves (:func:`staged`): first shards are renamed ``{first-tier}.{id}`` so ids
stay unique (``.`` is allowed in ids, and a collision is refused, not hidden); the predicted
makespan and the lower bound add up, because the second half starts when the first has ended;
the serial figure counts one job's overhead once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence

from shard_action.core import estimate, shardcount
from shard_action.core.config import FULL_TIER, Config, TierConfig
from shard_action.core.lanes import selected
from shard_action.core.models import TestItem
from shard_action.core.plan import CountOption, EstimateInfo, Plan, Totals
from shard_action.core.shardcount import billed_minutes
from shard_action.core.units import count, duration
from shard_action.errors import InputError, NoTestsError


def tier_rules(config: Config, name: str) -> TierConfig | None:
    """The configured tier ``name``; None for ``full``."""
    if name == FULL_TIER:
        return None
    for tier in config.tiers:
        if tier.name == name:
            return tier
    known = ", ".join([FULL_TIER, *(t.name for t in config.tiers)])
    raise InputError(f"tier {name!r} is not defined (tiers: {known})")


def in_tier(config: Config, name: str, tests: Sequence[TestItem]) -> list[TestItem]:
    """The tests of tier ``name``, in their order."""
    rules = tier_rules(config, name)
    if rules is None:
        return list(tests)
    return [test for test, hit in zip(tests, selected(rules, tests), strict=True) if hit]


def split_first(config: Config, tests: Sequence[TestItem]) -> tuple[list[TestItem], list[TestItem]]:
    """(first tier's tests, the rest) of the planned tier; everything is "rest" without
    ``first-tier``."""
    chosen = in_tier(config, config.tier, tests)
    if config.first_tier is None:
        return [], chosen
    rules = tier_rules(config, config.first_tier)
    assert rules is not None  # the config refuses first-tier = full
    first: list[TestItem] = []
    rest: list[TestItem] = []
    for test, hit in zip(chosen, selected(rules, chosen), strict=True):
        (first if hit else rest).append(test)
    return first, rest


def _merged_warnings(first: Plan, rest: Plan) -> list[str]:
    """Each warning once; "lane X matched no test" only when it matched none in either half."""
    seen: dict[str, None] = {}
    halves = [half.warnings for half in (first, rest) if half.shards]
    for note in (*first.warnings, *rest.warnings):
        if note.endswith("matched no test") and not all(note in notes for notes in halves):
            continue
        seen.setdefault(note, None)
    return list(seen)


def _merged_estimate(first: Plan, rest: Plan) -> EstimateInfo:
    """Both halves' estimate counts, and the sentence for the whole plan: a first run's note
    when either half estimated its fixed costs, the probe's when either half used it (both
    halves are planned with the same probe)."""
    halves = (first.timings.estimate, rest.timings.estimate)
    methods: Counter[str] = Counter()
    for half in halves:
        methods.update(half.methods)
    return estimate.described(
        dict(sorted(methods.items())),
        halves[0].seconds + halves[1].seconds,
        first_run=any(half.first_run for half in halves),
        probe=next((half.probe for half in halves if half.probe is not None), None),
    )


def staged(first: Plan, rest: Plan, *, tier: str, first_tier: str) -> Plan:
    """One plan from the first tier's plan and the rest's (see the module docstring)."""
    prefix = f"{first_tier}."
    shards = [
        shard.model_copy(
            update={"id": prefix + shard.id, "name": f"{first_tier}: {shard.name}", "first": True}
        )
        for shard in first.shards
    ]
    ids = {shard.id for shard in shards}
    clash = sorted(ids.intersection(shard.id for shard in rest.shards))
    if clash:
        raise InputError(
            f"shard id {clash[0]!r} would be both a first-tier shard and another one: rename the "
            f"lane or the tier {first_tier!r}"
        )
    overhead = first.shard_overhead
    serial = first.serial_seconds + rest.serial_seconds - overhead
    return rest.model_copy(
        update={
            "counts": [_after(option, first, serial) for option in rest.counts],
            "shards": [*shards, *rest.shards],
            "lanes": [lane.model_copy(update={"first": True}) for lane in first.lanes]
            + list(rest.lanes),
            "lower_bound": first.lower_bound + rest.lower_bound,
            "makespan": first.makespan + rest.makespan,
            "serial_seconds": first.serial_seconds + rest.serial_seconds - overhead,
            "totals": Totals(
                tests=first.totals.tests + rest.totals.tests,
                seconds=first.totals.seconds + rest.totals.seconds,
                shards=first.totals.shards + rest.totals.shards,
            ),
            "timings": rest.timings.model_copy(
                update={
                    "measured": first.timings.measured + rest.timings.measured,
                    "estimated": first.timings.estimated + rest.timings.estimated,
                    "estimate": _merged_estimate(first, rest),
                }
            ),
            "warnings": _merged_warnings(first, rest),
            "tier": tier,
            "first_tier": first_tier,
        }
    )


def _after(option: CountOption, first: Plan, serial: float) -> CountOption:
    """A count of the rest tier as the whole stage: the first tier's shards, wall and minutes
    added, so a row's ``shards`` is the stage's (the chosen row's is ``len(plan.shards)``)."""
    wall = first.makespan + option.wall
    return option.model_copy(
        update={
            "shards": len(first.shards) + option.shards,
            "wall": wall,
            "billed_minutes": billed_minutes(first) + option.billed_minutes,
            "speedup": serial / wall if wall > 0 else 1.0,
        }
    )


def marked_first(plan: Plan, *, tier: str, first_tier: str) -> Plan:
    """A plan whose every test is in the first tier: all its shards run first (its counts are
    the whole stage already)."""
    marked = staged(plan, _nothing(plan), tier=tier, first_tier=first_tier)
    return marked.model_copy(update={"counts": plan.counts})


def _nothing(plan: Plan) -> Plan:
    """An empty half: adds nothing to a :func:`staged` plan."""
    return plan.model_copy(
        update={
            "shards": [],
            "lanes": [],
            "lower_bound": 0.0,
            "makespan": 0.0,
            "serial_seconds": plan.shard_overhead,
            "totals": Totals(tests=0, seconds=0.0, shards=0),
            "timings": plan.timings.model_copy(
                update={"measured": 0, "estimated": 0, "estimate": EstimateInfo()}
            ),
            "warnings": [],
            "counts": [],
        }
    )


MIN_TARGET = 1.0
"""The rest tier's target when the first tier alone takes the whole target-time (the rest is
then planned as fast as max-shards allows, and says so)."""

Make = Callable[[Sequence[TestItem], Sequence[str], Config], Plan]
"""``make(tests, warnings, config)``: the plan of one half under that config."""


def plan_in_tiers(
    config: Config, tests: Sequence[TestItem], make: Make, warnings: list[str]
) -> Plan:
    """The plan of ``config.tier``'s tests, ``config.first_tier``'s in shards that run first.

    ``make`` plans one half; a tier that selects nothing of a suite that is not empty is no
    test to run (unless ``allow-no-tests``). A ``target-time`` is the whole stage's: the first
    tier is planned without it and the rest gets what the first tier leaves.

    ``shards = "auto"`` without ``target-time`` records the plan's own row in ``counts`` (its
    wall, billed minutes and speed-up, for the summary's table): auto judges the other counts on
    lane bounds, without partitioning them, so their rows would each cost a plan (measured: 17
    plans, 2.3 s against 0.03 s for 7,000 tests); ``plan --explain`` prints them.
    """
    plan = _in_tiers(config, tests, make, warnings)
    if (
        config.shards == "auto"
        and plan.mode == "parallel"
        and plan.totals.tests
        and not plan.counts
    ):
        own = shardcount.option_of(plan).model_copy(update={"chosen": True})
        return plan.model_copy(update={"counts": [own], "counts_by": "auto"})
    return plan


def _in_tiers(config: Config, tests: Sequence[TestItem], make: Make, warnings: list[str]) -> Plan:
    target = config.target_time
    first, rest = split_first(config, tests)
    if tests and not (first or rest) and not config.allow_no_tests:
        raise NoTestsError(
            f"tier {config.tier!r} selects none of the {count(len(tests), 'test')} "
            "collected; check its markers, paths and ids (or set allow-no-tests = true)"
        )
    if config.first_tier is None or not first:
        if config.first_tier is not None:
            warnings.append(
                f"first-tier {config.first_tier!r} selects none of the planned tests: no shard "
                "runs first"
            )
        return make(rest, warnings, config).model_copy(
            update={"tier": config.tier, "first_tier": config.first_tier}
        )
    if not rest:
        planned = make(first, warnings, config)
        return marked_first(planned, tier=config.tier, first_tier=config.first_tier)
    if target is None or config.shards != "auto":
        before = make(first, warnings, config)
        return staged(
            before, make(rest, [], config), tier=config.tier, first_tier=config.first_tier
        )
    before = make(first, warnings, config.model_copy(update={"target_time": None}))
    left = target - before.makespan
    after = make(rest, [], config.model_copy(update={"target_time": max(left, MIN_TARGET)}))
    note = (
        f"target-time {duration(target)} is the whole stage's: the first tier takes "
        f"{duration(before.makespan)}, the rest was planned for {duration(max(left, 0.0))}"
    )
    after = after.model_copy(update={"warnings": [note, *after.warnings]})
    return staged(before, after, tier=config.tier, first_tier=config.first_tier)


def count_options(
    config: Config, tests: Sequence[TestItem], make: Make, plan: Plan
) -> list[CountOption]:
    """``plan --explain``'s table: ``plan``'s own counts when it chose its count by cost (the
    rows the choice was made from, as the summary shows them: with a first tier those are the
    first tier's plan and each count of the rest, which no ``shards = k`` gives); else each
    shard count up to max-shards planned as the plan is (the tier's tests, the first tier
    before the rest, both with ``shards = k``), without a target-time."""
    if config.shards == "auto" and config.target_time is not None and plan.counts:
        return list(plan.counts)

    def each(k: int) -> Plan:
        fixed = config.model_copy(update={"shards": k, "target_time": None})
        return plan_in_tiers(fixed, tests, make, [])

    return shardcount.options(each, shardcount.counts_up_to(config.max_shards))


def describe(plan: Plan) -> str | None:
    """One line for the plan's views (terminal, summary); None for a plan of every test."""
    if plan.tier == FULL_TIER and plan.first_tier is None:
        return None
    text = f"tier {plan.tier}"
    if plan.first_tier is not None:
        first = [shard for shard in plan.shards if shard.first]
        others = len(plan.shards) - len(first)
        tests = sum(len(shard.tests) for shard in first)
        text += (
            f"; first tier {plan.first_tier}: {count(len(first), 'shard')} "
            f"({count(tests, 'test')}) first"
            + (f", the other {count(others, 'shard')} only when they pass" if others else "")
        )
    return text
