"""Proof that every planned test ran exactly once: planned vs executed, named test by test.

A parallel stage fails quietly in ways a single job cannot: a shard is killed and uploads nothing,
a test id changes between the plan and the run, two shards pick up the same file. The fan-in is
the only place that sees the plan and every shard at once, so it checks:

* **lost tests**: planned, never executed (named with their shard and the reason);
* **lost shards**: no result manifest at all (the job died, or its artifact is missing): every
  test of the shard is lost;
* **run twice**: the same test (same lane: under fan-out a test runs once per backend, on
  purpose) executed more than once as a first attempt; re-runs are not first attempts;
* **unplanned**: executed, but planned nowhere and not explained by drift;
* **drift**: ids the runner recorded as planned-but-not-collected or collected-but-not-planned
  (a clock time or random value in a parametrize id). A drifted planned id is not lost when a
  collected replacement from the same file ran (in any shard: drifted ids run in the shard that
  owns their file); it is reported either way.

Lanes are told from the plan: a parallel shard has one lane, a serial shard runs lane after lane
(``PlannedShard.runs`` slices its tests). At file granularity the plan holds files and the runner
may report the node ids it ran in them: a file counts as executed when any of its tests ran.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from shard_action.core.manifest import Drift
from shard_action.core.plan import Plan, PlannedShard

Kind = Literal["planned", "drift", "unplanned"]


def file_of(test_id: str) -> str:
    return test_id.split("::", 1)[0]


@dataclass(frozen=True, slots=True)
class Executed:
    """What one shard's manifest says it ran (first attempts, in order)."""

    shard: str
    tests: Sequence[str]
    drift: Sequence[Drift] = ()
    failure: str | None = None
    lane: str | None = None


@dataclass(frozen=True, slots=True)
class Instance:
    """One executed test, counted once: a planned test, a drift replacement or an unplanned one.

    ``members`` are the executed ids behind it: the id itself, or the node ids of a whole-file id.
    """

    test: str
    lane: str
    shard: str
    kind: Kind
    members: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class LostTest:
    test: str
    lane: str
    shard: str
    reason: str


@dataclass(frozen=True, slots=True)
class LostShard:
    shard: str
    lane: str
    tests: int
    reason: str


@dataclass(frozen=True, slots=True)
class RunTwice:
    test: str
    lane: str
    shards: tuple[str, ...]
    """The shard of every execution, in order (a shard twice when it ran the test twice)."""


@dataclass(frozen=True, slots=True)
class Unplanned:
    test: str
    lane: str
    shard: str
    planned_in: tuple[str, ...]
    """Shards the plan gave the test to, if any (it ran in the wrong one)."""


@dataclass(frozen=True, slots=True)
class DriftNote:
    shard: str
    file: str
    planned: tuple[str, ...]
    collected: tuple[str, ...]
    replaced: bool
    """A collected replacement from this file ran (somewhere), so ``planned`` are not lost."""


@dataclass(frozen=True, slots=True)
class Completeness:
    planned: int
    executed: tuple[Instance, ...]
    lost: tuple[LostTest, ...]
    lost_shards: tuple[LostShard, ...]
    run_twice: tuple[RunTwice, ...]
    unplanned: tuple[Unplanned, ...]
    drift: tuple[DriftNote, ...]
    unknown_shards: tuple[str, ...]
    """Manifests of shards the plan does not have (results of another plan?)."""

    @property
    def complete(self) -> bool:
        emptied = any(shard.tests for shard in self.lost_shards)  # an empty shard loses nothing
        return not (self.lost or emptied or self.run_twice or self.unplanned or self.unknown_shards)


def planned_lanes(shard: PlannedShard) -> list[str]:
    """The lane of each of the shard's tests, position by position.

    A plan whose run counts do not add up (hand-edited) falls back to the shard's lane rather
    than failing the fan-in: the point of the report is to say what happened.
    """
    if sum(run.count for run in shard.runs) != len(shard.tests) or not shard.runs:
        return [shard.lane] * len(shard.tests)
    lanes: list[str] = []
    for run in shard.runs:
        lanes.extend([run.lane] * run.count)
    return lanes


def _lane_for_unplanned(shard: PlannedShard | None, test: str, fallback: str) -> str:
    """The lane of the run that owns the test's file: where the runner runs drifted ids."""
    if shard is None:
        return fallback
    file = file_of(test)
    for lane, planned in zip(planned_lanes(shard), shard.tests, strict=True):
        if file_of(planned) == file:
            return lane
    return shard.runs[0].lane if shard.runs else shard.lane


@dataclass
class _FileRun:
    lane: str
    members: list[str]


def check(plan: Plan, executed: Iterable[Executed]) -> Completeness:
    """Compare the plan with what the shards executed (see the module docstring)."""
    shards_by_id = {shard.id: shard for shard in plan.shards}
    results: dict[str, Executed] = {}
    for item in executed:
        results.setdefault(item.shard, item)
    where_planned: dict[str, list[str]] = {}
    for shard in plan.shards:
        for test in shard.tests:
            where_planned.setdefault(test, []).append(shard.id)

    instances: list[Instance] = []
    executions: dict[tuple[str, str], list[str]] = {}
    extras: list[tuple[str, str]] = []
    leftovers: list[tuple[PlannedShard, str, str]] = []
    lost_shards: list[LostShard] = []
    lost: list[LostTest] = []
    planned_total = 0

    for shard in plan.shards:
        lanes = planned_lanes(shard)
        planned_total += len(shard.tests)
        result = results.get(shard.id)
        if result is None:
            reason = "the shard left no results: its job died or its artifact is missing"
            lost_shards.append(LostShard(shard.id, shard.lane, len(shard.tests), reason))
            lost.extend(
                LostTest(test, lane, shard.id, reason)
                for test, lane in zip(shard.tests, lanes, strict=True)
            )
            continue
        slots: dict[str, deque[str]] = {}
        files: dict[str, deque[str]] = {}
        for test, lane in zip(shard.tests, lanes, strict=True):
            (slots if "::" in test else files).setdefault(test, deque()).append(lane)
        file_runs: dict[str, list[_FileRun]] = {}
        for test in result.tests:
            if slots.get(test):
                lane = slots[test].popleft()
                instances.append(Instance(test, lane, shard.id, "planned", (test,)))
                executions.setdefault((lane, test), []).append(shard.id)
                continue
            file = file_of(test)
            if file in files or file in file_runs:
                runs = file_runs.setdefault(file, [])
                free = next((r for r in runs if test not in r.members), None)
                if free is None and files.get(file):
                    free = _FileRun(files[file].popleft(), [])
                    runs.append(free)
                    executions.setdefault((free.lane, file), []).append(shard.id)
                if free is not None:
                    free.members.append(test)
                    continue
            extras.append((shard.id, test))
        for file, runs in file_runs.items():
            instances.extend(
                Instance(file, run.lane, shard.id, "planned", tuple(run.members)) for run in runs
            )
        for test, remaining in (*slots.items(), *files.items()):
            leftovers.extend((shard, test, lane) for lane in remaining)

    unknown = sorted(set(results) - set(shards_by_id))
    for shard_id in unknown:
        extras.extend((shard_id, test) for test in results[shard_id].tests)

    run_twice_at: dict[tuple[str, str], list[str]] = {
        key: list(shards) for key, shards in executions.items() if len(shards) > 1
    }
    by_test: dict[str, list[tuple[str, str]]] = {}
    for key in executions:
        by_test.setdefault(key[1], []).append(key)
    unplanned: list[Unplanned] = []
    drift_ran: set[str] = set()
    collected_in = {
        shard_id: {c for record in result.drift for c in record.collected}
        for shard_id, result in results.items()
    }
    for shard_id, test in extras:
        owner = shards_by_id.get(shard_id)
        lane = _lane_for_unplanned(owner, test, results[shard_id].lane or "?")
        ran_before = [
            *by_test.get(test, ()),
            *(k for k in by_test.get(file_of(test), ()) if "::" not in k[1] and "::" in test),
        ]
        same_lane = [key for key in ran_before if key[0] == lane]
        if same_lane or (ran_before and test in where_planned):
            key = same_lane[0] if same_lane else ran_before[0]
            executions[key].append(shard_id)
            run_twice_at[key] = list(executions[key])
            continue
        drifted_in = test in collected_in[shard_id] and test not in where_planned
        kind: Kind = "drift" if drifted_in else "unplanned"
        instances.append(Instance(test, lane, shard_id, kind, (test,)))
        executions[(lane, test)] = [shard_id]
        by_test.setdefault(test, []).append((lane, test))
        if kind == "drift":
            drift_ran.add(file_of(test))
        else:
            unplanned.append(Unplanned(test, lane, shard_id, tuple(where_planned.get(test, ()))))

    drift_notes: list[DriftNote] = []
    drifted: dict[tuple[str, str], bool] = {}
    for shard in plan.shards:
        result = results.get(shard.id)
        if result is None:
            continue
        for record in result.drift:
            replaced = record.file in drift_ran
            drift_notes.append(
                DriftNote(
                    shard.id,
                    record.file,
                    tuple(record.planned),
                    tuple(record.collected),
                    replaced,
                )
            )
            for test in record.planned:
                drifted[(shard.id, test)] = replaced
    for shard, test, lane in leftovers:
        result = results[shard.id]
        if (shard.id, test) in drifted:
            if drifted[(shard.id, test)]:
                continue
            reason = "its id drifted (planned, not collected) and no test of its file ran instead"
        elif result.failure:
            reason = f"not run: the shard stopped early ({result.failure})"
        else:
            reason = "not run: missing from the shard's results"
        lost.append(LostTest(test, lane, shard.id, reason))

    return Completeness(
        planned=planned_total,
        executed=tuple(instances),
        lost=tuple(lost),
        lost_shards=tuple(lost_shards),
        run_twice=tuple(
            RunTwice(test, lane, tuple(shards)) for (lane, test), shards in run_twice_at.items()
        ),
        unplanned=tuple(unplanned),
        drift=tuple(drift_notes),
        unknown_shards=tuple(unknown),
    )


def lanes_of(plan: Plan) -> Mapping[str, str]:
    """Shard id -> lane, for display."""
    return {shard.id: shard.lane for shard in plan.shards}


def count_by_shard(items: Sequence[LostTest]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for item in items:
        counts[item.shard] = counts.get(item.shard, 0) + 1
    return counts
