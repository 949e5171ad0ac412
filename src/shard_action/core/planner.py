"""From today's tests and past timings to a plan: lanes, durations, a shard budget, shards.

``make_plan`` is a pure function; the CLI reads the inputs and writes ``plan.json``. The steps and
the choices made in each:

1. **Lanes.** Each test goes to its lane (``core.lanes``); a fan-out lane is planned once per
   value. Duplicate test ids are planned once (the first occurrence) and counted in a warning.
2. **Durations**, per (lane instance, test): the instance's own timing from the history
   (``Timings.by_lane``; for a demoted lane, its home lane's) wins over the pooled
   ``Timings.durations``; a timing that is not a finite number >= 0 counts as missing.
   A missing one is estimated: the median of the known tests of the
   same file in the same lane instance, else of the lane instance, else ``default_duration``
   when the config sets it, else from the file's size per test (``core.estimate``).
   ``plan.json``'s ``timings.estimate`` counts each way and says how far to trust it.
3. **Shard budget.** Every lane instance with tests gets one shard (a sequential lane exactly one);
   then shards are added one at a time to the lane that decides the stage's predicted wall time,
   judged by its lower bound: each shard's fixed cost (learned set-up, interpreter and finish,
   else ``shard_overhead``) plus ``max((collection + total) / k, longest unit with its file's
   collection)``, where ``collection`` is every file's learned import and module fixture cost
   once (``Costs.file_charge``; a shard that
   holds a test of a file collects it), until that lane cannot take more
   (sequential, its ``max-shards``, one unit per shard, or its longest test decides) or the global
   cap (``shards`` when a number, ``max-shards``, and GitHub's 256) is reached.
   - ``shards: N``: the shards left once the stage cannot get shorter on paper still go to the
     lanes whose shards are fullest on average (up to each lane's cap): they do not change the
     predicted makespan, but the slack absorbs run-to-run noise (measured: planning with fewer
     shards put every shard right on the bound, and the next run's timings overshot it by 10-20%).
     Fewer than N only when no lane can take more; a warning says so.
   - ``shards: auto`` with ``target-time``: every count worth showing is planned
     (``core.shardcount``) and the one that meets the target for the fewest billed minutes wins
     (the fastest when none does); the counts are kept in ``plan.counts``.
   - ``shards: auto``: the count ``K`` minimises ``predicted wall time(K) + Σ fixed cost`` over
     the shards, i.e. one more shard is added while it shortens the stage by at least what it
     costs to start (its lane's fixed cost; ``shard_overhead`` seconds before any history). For
     one lane of total ``T`` that is about ``sqrt(T / fixed)`` shards; with a fixed cost of 0 it
     is the fewest shards that reach the shortest wall time. ``max-shards`` still caps it.
4. **Partition** of each lane instance (``core.partition``, ``Algorithm.BALANCED``, with each
   unit's file as its group). Units are given to it sorted by test id (or file path), so which
   tests share a shard, the shard ids and their predictions depend only on the set of tests and
   their timings, not on the order they were listed in; only the order of tests *inside* a shard
   follows the input (collection) order, so files stay together and a sequential lane runs in
   order. Shards of a lane are numbered by their first unit in id order.
   - ``granularity: test``: a module fixture is paid again by every shard that holds a test of
     its file. Once the history has learned it (``core.fixtures``) it is part of the file's
     charge, paid by each part holding the file, and each class fixture is predicted once per
     shard holding the class; before that, its cost sits on the file's first test. So the
     partition starts from whole files, cuts a file heavier than half a shard's share
     (``partition.GROUP_SHARE``) into runs of neighbouring ids (a class's tests and a test's
     parameters stay together), and then moves single tests only where the balance needs it; a
     per-test start wins only when it is strictly better. Predicted makespan is never traded for
     this; the measured effect (fewer split files, fixture-aware wall time, noise) is in
     ``docs/benchmarks.md``.
   - ``granularity: file``: files are kept whole unless a file alone is longer than the lane's
     target ``total / k``; such a file is split by test id (in runs, as above) when
     ``split_files`` allows, otherwise it stays whole and the lane's bound is that file.
5. **Assembly**: shard ids ``{lane instance}-{n}`` (1-based; lane names are restricted to
   ``[A-Za-z0-9_.-]``, so ids are safe as artifact names and never collide), a lane whose
   predicted makespan equals the stage's is ``critical``, and a critical sequential lane adds a
   warning. Serial mode is one shard ``serial`` that runs every lane instance one after another
   (one slice each, in lane order: config order, an unconfigured default lane last). An empty suite
   gives the single shard ``EMPTY_SHARD_ID`` without tests, so the job matrix stays valid.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from statistics import median
from typing import Literal

from shard_action.core import estimate, shardcount, units
from shard_action.core.config import GITHUB_MATRIX_LIMIT, Config
from shard_action.core.lanes import (
    LaneInstance,
    assign_lanes,
    home_lane,
    lane_instances,
    with_demoted,
)
from shard_action.core.models import TestItem, Timings
from shard_action.core.partition import Algorithm, partition
from shard_action.core.plan import (
    EMPTY_SHARD_ID,
    EstimateInfo,
    FanInSettings,
    LanePlan,
    Plan,
    PlannedShard,
    RunnerSettings,
    Slice,
    TimingsInfo,
    Totals,
)
from shard_action.core.prediction import Costs, Parts, predict, with_first_run
from shard_action.core.workers import WORKER_STARTUP, longest_first, shard_seconds
from shard_action.core.workers import resolve as resolve_workers
from shard_action.core.workers import startup as worker_startup
from shard_action.errors import InputError

SERIAL_SHARD_ID = "serial"
ALL_LANES = "*"
"""The serial shard's lane: not a lane name (those start with a letter or digit), so it cannot be
mistaken for a user's lane called ``serial``."""

_INF = math.inf


@dataclass(slots=True)
class _Lane:
    """One lane instance with its tests (positions in the deduplicated input) and durations."""

    instance: LaneInstance
    tests: list[int]
    seconds: list[float]
    estimated: int
    estimated_flags: list[bool]
    methods: dict[str, int]
    splittable: bool = True
    total: float = 0.0
    longest_unit: float = 0.0
    max_units: int = 0
    shards: int = 1
    capped_by: str | None = None
    groups: list[list[int]] = field(default_factory=list)
    workers: int = 1
    """pytest-xdist workers per shard (:mod:`shard_action.core.workers`); 1: one process."""
    fixed: float = 0.0
    """What each shard pays besides its tests and its files' collection (``_price``)."""
    collection: float = 0.0
    """Every file's collection and module fixture cost once (``Costs.file_charge``)."""
    longest_cost: float = 0.0
    """The longest unit with its file's collection cost."""
    worker_startup: float = WORKER_STARTUP
    """What starting the workers adds to a shard's start-up (``core.workers.startup``)."""

    @property
    def sequential(self) -> bool:
        return self.instance.mode == "sequential"

    def bound(self, k: int) -> float:
        """Lane makespan's lower bound with ``k`` shards, without the fixed cost per shard.

        Every file is collected by at least one shard, and the longest unit's shard collects
        its file. With workers a shard's tests share ``workers`` processes, each paying its
        start-up (collection is counted once per shard, as the prediction does).
        """
        if k <= 0:
            return _INF
        start = self.worker_startup if self.workers > 1 else 0.0
        spread = (self.collection + self.total / self.workers) / k
        return start + max(spread, self.longest_unit, self.longest_cost)

    def span(self, k: int) -> float:
        """The lower bound of the lane's predicted wall with ``k`` shards, fixed costs included."""
        return self.fixed + self.bound(k)

    def cap(self) -> int:
        if self.sequential:
            return 1
        cap = self.max_units
        if self.instance.max_shards is not None:
            cap = min(cap, self.instance.max_shards)
        return max(cap, 1)


def _durations(
    instance: LaneInstance,
    positions: list[int],
    suite: _Suite,
    timings: Timings,
    default: float | None,
) -> tuple[list[float], list[bool], dict[str, int]]:
    """Seconds per test of the lane instance, which of them are estimates, and how each was
    found (counts per ``estimate.Method``)."""
    ids = suite.ids
    inf = _INF
    pooled = timings.durations.get
    # a demoted lane's tests keep their records under their home lane (``history.record_of``)
    own = timings.by_lane.get(home_lane(instance.name)[0])
    found: list[float | None]
    if own:
        own_get = own.get
        found = [own_get(ids[p]) for p in positions]
        # NaN fails both comparisons, so it falls through to the pooled figure like a gap
        found = [
            v if v is not None and 0.0 <= v < inf else pooled(ids[p])
            for v, p in zip(found, positions, strict=True)
        ]
    else:
        found = [pooled(ids[p]) for p in positions]
    values = [v if v is not None and 0.0 <= v < inf else None for v in found]
    missing = [v is None for v in values]
    methods: dict[str, int] = {"measured": len(values) - sum(missing)}
    if not any(missing):
        return [float(v) for v in values if v is not None], missing, methods
    files = suite.files
    by_file: dict[str, list[float]] = {}
    for p, v in zip(positions, values, strict=True):
        if v is not None:
            by_file.setdefault(files[p], []).append(v)
    file_median = {name: median(known) for name, known in by_file.items()}
    every = [v for v in values if v is not None]
    lane_median = median(every) if every else None
    seconds: list[float] = []
    for p, v in zip(positions, values, strict=True):
        if v is not None:
            seconds.append(float(v))
            continue
        name = files[p]
        if name in file_median:
            method, value = "same-file", file_median[name]
        elif lane_median is not None:
            method, value = "same-lane", lane_median
        elif default is not None:
            method, value = "default-duration", default
        else:
            method, value = "source-size", suite.estimates[name]
        methods[method] = methods.get(method, 0) + 1
        seconds.append(value)
    return seconds, missing, methods


@dataclass(frozen=True, slots=True)
class _Suite:
    """The deduplicated tests as flat lists: attribute access per test is what costs at 1M."""

    tests: list[TestItem]
    ids: list[str]
    files: list[str]
    duplicates: int
    estimates: dict[str, float]
    """Seconds per test of each file when nothing was measured near it (``core.estimate``)."""


def _suite(
    tests: Sequence[TestItem],
    file_bytes: Mapping[str, int],
    calibration: estimate.Calibration | None = None,
) -> _Suite:
    ids = [t.id for t in tests]
    if len(set(ids)) == len(ids):
        unique = list(tests)
    else:
        seen: set[str] = set()
        unique = []
        for test in tests:
            if test.id not in seen:
                seen.add(test.id)
                unique.append(test)
        ids = [t.id for t in unique]
    files = [t.file for t in unique]
    per_file = estimate.per_file(file_bytes, Counter(files), calibration)
    return _Suite(unique, ids, files, len(tests) - len(unique), per_file)


def _prepare_lanes(
    config: Config,
    suite: _Suite,
    timings: Timings,
    demoted: Mapping[str, Collection[str]] | None = None,
) -> tuple[list[_Lane], list[str]]:
    base_of = assign_lanes(config, suite.tests)
    by_base: dict[str, list[int]] = {}
    for position, base in enumerate(base_of):
        by_base.setdefault(base, []).append(position)
    lanes: list[_Lane] = []
    warnings: list[str] = []
    splittable = config.granularity == "test" or config.split_files
    instances = [(i, by_base.get(i.base, [])) for i in lane_instances(config)]
    for instance, positions in with_demoted(instances, suite.ids, demoted or {}):
        if not positions:
            note = f"lane {instance.base!r} matched no test"
            if instance.base != config.default_lane and note not in warnings:
                warnings.append(note)
            continue
        seconds, flags, methods = _durations(
            instance, positions, suite, timings, config.default_duration
        )
        lane = _Lane(
            instance=instance,
            tests=positions,
            seconds=seconds,
            estimated=sum(flags),
            estimated_flags=flags,
            methods=methods,
            splittable=splittable,
            total=math.fsum(seconds),
        )
        if splittable:
            lane.longest_unit = max(seconds)
            lane.max_units = len(positions)
        else:
            by_file = _file_totals(lane, suite)
            lane.longest_unit = max(by_file.values())
            lane.max_units = len(by_file)
        lanes.append(lane)
    return lanes, warnings


def _file_totals(lane: _Lane, suite: _Suite) -> dict[str, float]:
    totals: dict[str, float] = {}
    files = suite.files
    for p, value in zip(lane.tests, lane.seconds, strict=True):
        name = files[p]
        totals[name] = totals.get(name, 0.0) + value
    return totals


def _budget(config: Config, need: int) -> tuple[int, list[str]]:
    """The most shards the stage may have (``need``: lanes with tests, one shard each)."""
    if need > GITHUB_MATRIX_LIMIT:
        raise InputError(
            f"{need} lane instances have tests, but a GitHub job matrix holds at most "
            f"{GITHUB_MATRIX_LIMIT} jobs: merge lanes or fan out over fewer values"
        )
    warnings: list[str] = []
    requested = config.shards
    ceiling = min(config.max_shards, GITHUB_MATRIX_LIMIT)
    if isinstance(requested, int):
        if requested > ceiling:
            warnings.append(
                f"shards {requested} is over max-shards {ceiling}: using at most {ceiling}"
            )
        ceiling = min(ceiling, requested)
    return ceiling, warnings


def _critical(lanes: Sequence[_Lane]) -> _Lane:
    return max(lanes, key=lambda lane: lane.span(lane.shards))


def _cost(lanes: Sequence[_Lane]) -> float:
    """What ``shards: auto`` minimises: the stage's wall plus each shard's fixed cost."""
    return _stage(lanes) + math.fsum(lane.fixed * lane.shards for lane in lanes)


def _grow(
    config: Config, lanes: list[_Lane], ceiling: int
) -> tuple[list[tuple[float, list[int]]], _Lane, str | None]:
    """Add shards to the critical lane while that shortens it (step 3): each count's cost and
    shards on the way, the lane that stopped it and why (``None``: more would not help)."""
    total = len(lanes)
    snapshots = [(_cost(lanes), [lane.shards for lane in lanes])]
    while True:
        critical = _critical(lanes)
        reason = _why_not_more(critical, total, ceiling, config)
        if reason is not None or critical.bound(critical.shards + 1) >= critical.bound(
            critical.shards
        ):
            return snapshots, critical, reason
        critical.shards += 1
        total += 1
        snapshots.append((_cost(lanes), [lane.shards for lane in lanes]))


def _spread(lanes: list[_Lane], ceiling: int, requested: int) -> list[str]:
    """``shards: N`` beyond what shortens the stage: slack for the fullest lanes (step 3)."""
    total = sum(lane.shards for lane in lanes)
    while total < ceiling:
        open_lanes = [lane for lane in lanes if lane.shards < lane.cap()]
        if not open_lanes:
            break
        fullest = max(open_lanes, key=lambda lane: lane.total / lane.shards)
        fullest.shards += 1
        total += 1
    if total < ceiling:
        return [
            f"shards {requested}: using {total}, because no lane can take more "
            "(sequential lanes, lane max-shards, or one test per shard)"
        ]
    return []


def _allocate(config: Config, lanes: list[_Lane]) -> list[str]:
    """Share the shard budget between lanes (step 3 of the module docstring)."""
    need = len(lanes)
    ceiling, warnings = _budget(config, need)
    for lane in lanes:
        lane.shards = 1
    if need > ceiling:
        warnings.append(
            f"{need} lane instances need one shard each, more than the {ceiling} allowed: "
            f"using {need}"
        )
        return warnings
    snapshots, critical, reason = _grow(config, lanes, ceiling)
    if config.shards == "auto":
        best = min(range(len(snapshots)), key=lambda i: (snapshots[i][0], i))
        for lane, count in zip(lanes, snapshots[best][1], strict=True):
            lane.shards = count
        if best < len(snapshots) - 1:
            _critical(lanes).capped_by = (
                "shards auto: one more shard would save less than it costs to start "
                "(its lane's learned set-up, interpreter and finish, else shard-overhead)"
            )
            return warnings
    critical.capped_by = reason
    if isinstance(config.shards, int):
        warnings.extend(_spread(lanes, ceiling, config.shards))
    return warnings


def _why_not_more(lane: _Lane, total: int, ceiling: int, config: Config) -> str | None:
    if lane.sequential:
        return "sequential lane"
    if lane.instance.max_shards is not None and lane.shards >= lane.instance.max_shards:
        return f"lane max-shards {lane.instance.max_shards}"
    if lane.shards >= lane.max_units:
        return "one test per shard" if lane.splittable else "one file per shard"
    if total >= ceiling:
        if isinstance(config.shards, int) and config.shards <= config.max_shards:
            return f"shards {config.shards}"
        return f"max-shards {min(config.max_shards, GITHUB_MATRIX_LIMIT)}"
    return None


def _stage(lanes: Sequence[_Lane]) -> float:
    return max(lane.span(lane.shards) for lane in lanes)


def _file_units(
    lane: _Lane, suite: _Suite, k: int, split_files: bool
) -> tuple[list[list[int]], list[float], list[str]]:
    """Whole files (or the tests of a file longer than ``total / k``), sorted by file / id."""
    ids, files = suite.ids, suite.files
    seconds = lane.seconds
    members: dict[str, list[int]] = {}
    for j, p in enumerate(lane.tests):
        members.setdefault(files[p], []).append(j)
    target = lane.total / k
    keyed: list[tuple[str, list[int], float, str]] = []
    for name, positions in members.items():
        weight = math.fsum(seconds[j] for j in positions)
        if weight > target and split_files and len(positions) > 1:
            keyed.extend((ids[lane.tests[j]], [j], seconds[j], name) for j in positions)
        else:
            keyed.append((name, positions, weight, name))
    keyed.sort(key=lambda unit: unit[0])
    return [u[1] for u in keyed], [u[2] for u in keyed], [u[3] for u in keyed]


def _test_order(lane: _Lane, suite: _Suite) -> tuple[list[int], list[int]]:
    """Lane-local positions in id order, and each one's file rank (shared by fan-out values)."""
    lane_ids = [suite.ids[p] for p in lane.tests]
    order = sorted(range(len(lane_ids)), key=lane_ids.__getitem__)
    all_files = suite.files
    files = [all_files[lane.tests[j]] for j in order]
    rank = {name: r for r, name in enumerate(sorted(set(files)))}
    return order, [rank[name] for name in files]


def _file_costs(costs: Costs | None, files: Sequence[str], workers: int) -> list[float] | None:
    """What a shard pays once per file it holds (by file rank): its collection and its module
    fixtures, when the lane has learned any.

    The partition's loads are summed test seconds; with ``workers`` processes a shard's wall is
    about that sum over ``workers`` plus the collection, so a file's charge counts ``workers``
    times to weigh the same against the tests.
    """
    if costs is None or not costs.charges_files:
        return None
    return [costs.file_charge(name) * workers for name in sorted(set(files))]


def _partition_lane(
    lane: _Lane,
    suite: _Suite,
    config: Config,
    orders: dict[str, tuple[list[int], list[int]]],
    costs: Costs | None = None,
) -> None:
    """Cut the lane into ``lane.shards`` groups of lane-local positions (step 4)."""
    k = lane.shards
    if k == 1:
        lane.groups = [list(range(len(lane.tests)))]
        return
    if config.granularity == "file":
        units, weights, files = _file_units(lane, suite, k, config.split_files)
        rank = {name: r for r, name in enumerate(sorted(set(files)))}
        groups = partition(
            weights, k, Algorithm.BALANCED, [rank[name] for name in files],
            _file_costs(costs, files, lane.workers),
        )  # fmt: skip
        lane.groups = [sorted(j for u in group for j in units[u]) for group in groups]
    else:  # one test per unit, in id order
        base = lane.instance.base
        if base not in orders:
            orders[base] = _test_order(lane, suite)
        order, file_ranks = orders[base]
        seconds = lane.seconds
        names = [suite.files[lane.tests[j]] for j in order]
        groups = partition(
            [seconds[j] for j in order], k, Algorithm.BALANCED, file_ranks,
            _file_costs(costs, names, lane.workers),
        )  # fmt: skip
        lane.groups = [sorted(order[u] for u in group) for group in groups]
    lane.shards = len(lane.groups)


def _runner(config: Config) -> RunnerSettings:
    """The config a test job needs, copied so it runs as planned even if the config changes."""
    return RunnerSettings(
        reruns=config.reruns,
        fail_on_flaky=config.fail_on_flaky,
        coverage=config.coverage,
        coverage_core=config.coverage_core,
        pytest_args=list(config.pytest_args),
        command=config.command,
        python=config.python,
    )


def _fan_in(config: Config) -> FanInSettings:
    """The thresholds the report decides the next mode with, as this config set them."""
    return FanInSettings(**{name: getattr(config, name) for name in FanInSettings.model_fields})


def _timings_info(
    timings: Timings, planned: int, estimated: int, lanes: Sequence[_Lane] = ()
) -> TimingsInfo:
    methods: dict[str, int] = {}
    for lane in lanes:
        for method, number in lane.methods.items():
            methods[method] = methods.get(method, 0) + number
    guessed = math.fsum(
        s
        for lane in lanes
        for s, flag in zip(lane.seconds, lane.estimated_flags, strict=True)
        if flag
    )
    return TimingsInfo(
        sources=list(timings.sources),
        measured=planned - estimated,
        estimated=estimated,
        stale=timings.stale,
        unresolved=timings.unresolved,
        skipped_reports=list(timings.skipped_reports),
        estimate=EstimateInfo(
            methods={k: v for k, v in methods.items() if v},
            seconds=guessed,
            reliability=estimate.reliability(methods),
        ),
    )


def _assemble(
    config: Config,
    lanes: Sequence[_Lane],
    timings: Timings,
    *,
    mode: Literal["parallel", "serial"],
    mode_reason: str,
    shards: list[PlannedShard],
    lane_plans: list[LanePlan],
    bounds: tuple[float, float],
    serial: float,
    warnings: list[str],
) -> Plan:
    """The one place a :class:`Plan` is made: ``bounds`` is (lower bound, makespan) of the
    stage and ``serial`` one job's wall, fixed costs included; the totals follow from the
    lanes."""
    overhead = config.shard_overhead
    total = math.fsum(lane.total for lane in lanes)
    planned = sum(len(lane.tests) for lane in lanes)
    return Plan(
        runner=_runner(config),
        fan_in=_fan_in(config),
        mode=mode,
        mode_reason=mode_reason,
        granularity=config.granularity,
        shard_overhead=overhead,
        shards=shards,
        lanes=lane_plans,
        lower_bound=bounds[0],
        makespan=bounds[1],
        serial_seconds=serial,
        totals=Totals(tests=planned, seconds=total, shards=len(shards)),
        timings=_timings_info(timings, planned, sum(lane.estimated for lane in lanes), lanes),
        warnings=warnings,
    )


def _empty_plan(
    config: Config,
    timings: Timings,
    mode: Literal["parallel", "serial"],
    mode_reason: str,
    warnings: list[str],
) -> Plan:
    """An empty suite's plan: one placeholder shard so the job matrix stays valid, and every
    figure 0 s, the shard's prediction, so no view tells a wall time of nothing."""
    warnings.append(
        f"no tests to plan: the job matrix holds one shard {EMPTY_SHARD_ID!r} that runs nothing"
    )
    shard = PlannedShard(
        id=EMPTY_SHARD_ID,
        lane=config.default_lane,
        name="no tests",
        slices=[],
        predicted_seconds=0.0,
        estimated_tests=0,
    )
    return _assemble(
        config,
        [],
        timings,
        mode=mode,
        mode_reason=mode_reason,
        shards=[shard],
        lane_plans=[],
        bounds=(0.0, 0.0),  # as its shard: the placeholder runs nothing, so no figure for it
        serial=0.0,
        warnings=warnings,
    )


def _lane_plan(lane: _Lane, span: float, bound: float, *, serial: bool = False) -> LanePlan:
    """The lane's rules (every slice of it finds them here) and its predicted figures:
    ``span`` and ``bound``, its makespan and lower bound, fixed costs included.

    Workers: only for a parallel lane of a parallel plan; ``auto`` stays for the test job's
    machine to resolve (the plan's may have fewer CPUs)."""
    instance = lane.instance
    workers = instance.workers if lane.workers > 1 or instance.workers == "auto" else None
    return LanePlan(
        name=instance.name,
        base=instance.base,
        mode=instance.mode,
        env=dict(instance.env),
        isolated=instance.isolated,
        timeout=instance.timeout,
        memory_mb=instance.memory_mb,
        workers=None if serial or lane.sequential else workers,
        tests=len(lane.tests),
        seconds=lane.total,
        longest=max(lane.seconds),
        shards=len(lane.groups) if lane.groups else 1,
        lower_bound=bound,
        makespan=span,
        critical=False,
        capped_by=lane.capped_by,
    )


@dataclass(frozen=True, slots=True)
class _Given:
    """What a serial or a parallel plan is made from, once the lanes have their durations."""

    config: Config
    suite: _Suite
    lanes: list[_Lane]
    timings: Timings
    mode_reason: str
    warnings: list[str]
    costs: Mapping[str, Costs]


def _serial_plan(given: _Given) -> Plan:
    config, suite, lanes, costs = given.config, given.suite, given.lanes, given.costs
    overhead = config.shard_overhead
    slices: list[Slice] = []
    lane_plans: list[LanePlan] = []
    for lane in lanes:
        slices.append(Slice(lane=lane.instance.name, tests=[suite.ids[p] for p in lane.tests]))
        lane.groups = [list(range(len(lane.tests)))]
        alone = _one_job(costs, [lane], suite, overhead).total
        lane_plans.append(_lane_plan(lane, alone, alone, serial=True))
    prediction = _one_job(costs, lanes, suite, overhead)
    shard = PlannedShard(
        id=SERIAL_SHARD_ID,
        lane=ALL_LANES,
        name="serial (all lanes)",
        slices=slices,
        predicted_seconds=prediction.total,
        prediction=prediction,
        estimated_tests=sum(lane.estimated for lane in lanes),
    )
    return _assemble(
        config,
        lanes,
        given.timings,
        mode="serial",
        mode_reason=given.mode_reason,
        shards=[shard],
        lane_plans=lane_plans,
        bounds=(prediction.total, prediction.total),
        serial=prediction.total,
        warnings=given.warnings,
    )


def _fixed(costs: Costs | None, overhead: float) -> float:
    """What every shard of a lane pays besides its tests and its files' collection."""
    return predict(costs, (), 0.0, overhead=overhead).total


def _price(lane: _Lane, suite: _Suite, costs: Costs | None, overhead: float) -> None:
    """The lane's fixed cost per shard and its files' collection, as ``predict`` counts them."""
    lane.fixed = _fixed(costs, overhead)
    lane.worker_startup = worker_startup(None if costs is None else costs.workers)
    if costs is None or not costs.charges_files:
        return
    files = suite.files
    price = {name: costs.file_charge(name) for name in {files[p] for p in lane.tests}}
    lane.collection = math.fsum(price.values())
    units: Iterable[tuple[str, float]] = (
        zip((files[p] for p in lane.tests), lane.seconds, strict=True)
        if lane.splittable
        else _file_totals(lane, suite).items()
    )
    lane.longest_cost = max(seconds + price[name] for name, seconds in units)


def _one_job(
    costs: Mapping[str, Costs], lanes: Sequence[_Lane], suite: _Suite, overhead: float
) -> Parts:
    """One job running every test of ``lanes``, one lane after another (serial mode).

    The serial shard's own costs (lane ``*``) when the history has them; else each lane's
    start-up over its files, one set-up, and the slowest finish.
    """
    total = math.fsum(lane.total for lane in lanes)
    files = {suite.files[p] for lane in lanes for p in lane.tests}
    if ALL_LANES in costs:
        ids = (suite.ids[p] for lane in lanes for p in lane.tests)
        return predict(costs[ALL_LANES], files, total, overhead=overhead, test_ids=ids)
    parts = [
        predict(costs.get(lane.instance.name), {suite.files[p] for p in lane.tests}, lane.total,
                overhead=overhead, test_ids=(suite.ids[p] for p in lane.tests))
        for lane in lanes
    ]  # fmt: skip
    if not parts:
        return Parts(setup=overhead)
    return Parts(
        setup=max(p.setup for p in parts),
        startup=math.fsum(p.startup for p in parts),
        tests=math.fsum(p.tests for p in parts),
        finish=max(p.finish for p in parts),
    )


def _lane_shards(
    lane: _Lane, suite: _Suite, costs: Costs | None, overhead: float
) -> tuple[list[PlannedShard], float]:
    """The lane's shards (one slice each) and the longest one's predicted wall."""
    name = lane.instance.name
    count = len(lane.groups)
    shards: list[PlannedShard] = []
    span = 0.0
    for number, members in enumerate(lane.groups, start=1):
        group = members
        seconds = math.fsum(lane.seconds[j] for j in group)
        if lane.workers > 1:
            durations = [lane.seconds[j] for j in members]
            group = longest_first(members, durations)
            seconds = shard_seconds(durations, lane.workers, startup=0.0)
        files = {suite.files[lane.tests[j]] for j in members}
        ids = [suite.ids[lane.tests[j]] for j in group]
        prediction = predict(costs, files, seconds, overhead=overhead, test_ids=ids)
        if lane.workers > 1:  # the runner measures the workers' start as start-up too
            prediction = prediction.model_copy(
                update={"startup": prediction.startup + lane.worker_startup}
            )
        span = max(span, prediction.total)
        shards.append(
            PlannedShard(
                id=f"{name}-{number}",
                lane=name,
                name=name if count == 1 else f"{name} {number}/{count}",
                slices=[Slice(lane=name, tests=ids)],
                predicted_seconds=prediction.total,
                prediction=prediction,
                estimated_tests=sum(1 for j in group if lane.estimated_flags[j]),
            )
        )
    return shards, span


def _parallel_lane_plan(
    lane: _Lane, span: float, stage: float, bound: float, notes: list[str]
) -> LanePlan:
    """The lane's entry once partitioned: ``critical`` when it decides the stage (a note when
    that lane is sequential); ``capped_by`` only matters then."""
    critical = span >= stage
    plan = _lane_plan(lane, span, bound)
    capped_by = plan.capped_by if critical else None
    plan = plan.model_copy(update={"critical": critical, "capped_by": capped_by})
    if critical and lane.sequential and lane.total > 0:
        notes.append(
            f"sequential lane {lane.instance.name!r} is the critical path: the stage cannot "
            f"finish before its {units.duration(lane.total)} in one shard; make it parallel or "
            "move tests out of it to go faster"
        )
    return plan


def _parallel_plan(given: _Given, cpus: int | None) -> Plan:
    """Steps 3-5 for a parallel run."""
    config, suite, lanes, costs = given.config, given.suite, given.lanes, given.costs
    notes = given.warnings
    overhead = config.shard_overhead
    for lane in lanes:
        if not lane.sequential:
            lane.workers = resolve_workers(lane.instance.workers, cpus)
        _price(lane, suite, costs.get(lane.instance.name), overhead)
    notes.extend(_allocate(config, lanes))
    shards: list[PlannedShard] = []
    spans: list[float] = []
    orders: dict[str, tuple[list[int], list[int]]] = {}
    for lane in lanes:
        _partition_lane(lane, suite, config, orders, costs.get(lane.instance.name))
        lane_shards, span = _lane_shards(lane, suite, costs.get(lane.instance.name), overhead)
        shards.extend(lane_shards)
        spans.append(span)
    stage = max(spans)
    bounds = [lane.span(len(lane.groups)) for lane in lanes]
    lane_plans = [
        _parallel_lane_plan(lane, span, stage, bound, notes)
        for lane, span, bound in zip(lanes, spans, bounds, strict=True)
    ]
    return _assemble(
        config,
        lanes,
        given.timings,
        mode="parallel",
        mode_reason=given.mode_reason,
        shards=shards,
        lane_plans=lane_plans,
        bounds=(max(bounds), stage),
        serial=_one_job(costs, lanes, suite, overhead).total,
        warnings=notes,
    )


def make_plan(
    config: Config,
    tests: Sequence[TestItem],
    timings: Timings,
    *,
    mode: Literal["parallel", "serial"],
    mode_reason: str,
    warnings: Sequence[str] = (),
    cpus: int | None = None,
    file_bytes: Mapping[str, int] | None = None,
    costs: Mapping[str, Costs] | None = None,
    demoted: Mapping[str, Collection[str]] | None = None,
    first_run: Costs | None = None,
    calibration: estimate.Calibration | None = None,
) -> Plan:
    """The plan for ``tests`` under ``config`` (steps in the module docstring).

    ``demoted``: lane instance -> the test ids that run in its demoted lane (``core.demotion``).

    ``costs``: each lane's learned fixed costs (``core.prediction``, from the history); a lane
    without them is predicted with ``first_run`` (``core.estimate.first_costs``) when given,
    else with ``shard-overhead`` as its set-up and nothing else.

    ``cpus``: the CPU count ``workers = "auto"`` is planned with (the caller's machine).
    ``file_bytes``: the size of each test file, for durations that nothing measured
    (``core.estimate``); without it such tests get the estimate's typical figure.
    ``calibration``: a first-run probe's factor for those estimates (``core.probe``).
    """
    if not tests:  # before the target-time search: no count is faster than another
        return _empty_plan(config, timings, mode, mode_reason, list(warnings))
    if mode == "parallel" and config.shards == "auto" and config.target_time is not None:

        def plan_for(k: int) -> Plan:
            fixed = config.model_copy(update={"shards": k, "target_time": None})
            return make_plan(
                fixed, tests, timings, mode=mode, mode_reason=mode_reason, warnings=warnings,
                cpus=cpus, file_bytes=file_bytes, costs=costs, demoted=demoted,
                first_run=first_run, calibration=calibration,
            )  # fmt: skip

        return shardcount.by_cost(plan_for, config.max_shards, config.target_time)
    notes = list(warnings)
    # by_cost plans its counts without it; serial mode says why it runs one job in its reason,
    # and a warning on every run of a fallback would flag a config that is not wrong
    if config.target_time is not None and mode == "parallel":
        why = f"shards is {config.shards}"
        notes.append(f"target-time is ignored: {why} (it chooses the count with shards: auto)")
    suite = _suite(tests, file_bytes or {}, calibration)
    if suite.duplicates:
        notes.append(f"{units.count(suite.duplicates, 'duplicate test id')} planned once")
    lanes, lane_notes = _prepare_lanes(config, suite, timings, demoted)
    notes.extend(lane_notes)
    learned = costs or {}
    filled = with_first_run(learned, (lane.instance.name for lane in lanes), first_run)
    given = _Given(config, suite, lanes, timings, mode_reason, notes, filled)
    made = _serial_plan(given) if mode == "serial" else _parallel_plan(given, cpus)
    if len(filled) == len(learned) and calibration is None:
        return made
    info = estimate.first_run_info(
        made.timings.estimate, costs=len(filled) > len(learned), calibration=calibration
    )
    return made.model_copy(update={"timings": made.timings.model_copy(update={"estimate": info})})
