"""Proof that every planned test ran exactly once: planned vs executed, named test by test.

A parallel stage fails quietly in ways a single job cannot: a shard is killed and uploads nothing,
a test id changes between the plan and the run, two shards pick up the same file. The fan-in is
the only place that sees the plan and every shard at once, so it checks:

* **lost tests**: planned, never executed (named with their shard and the reason);
* **lost shards**: no result manifest at all (the job died, or its artifact is missing): every
  test of the shard is lost;
* **run twice**: the same planned test executed more than once as a first attempt; re-runs are
  not first attempts;
* **unplanned**: executed, but not planned in that lane instance and not explained by drift;
* **drift**: ids the runner recorded as planned-but-not-collected or collected-but-not-planned
  (a clock time or random value in a parametrize id). A drifted planned id is not lost when a
  collected replacement from the same file ran where the runner runs drifted ids; it is
  reported either way.

A planned test is a **(lane instance, test id)** pair: under fan-out (``backends``) the same id is
planned once per backend, and each is its own test, lost, run twice or unplanned on its own. The
planned pairs come from the plan (``PlannedShard.slices``: one in parallel mode, lane after
lane in the serial shard); the executed pairs from the manifests' runs,
each of which names its lane. At file granularity the plan holds files and the runner may report
the node ids it ran in them: a file counts as executed when any of its tests ran in that lane.

The records (lost, lost shards, run twice, unplanned, drift) are frozen models that ``report.json``
embeds as they are: each fact has this one type.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Literal

from pydantic import Field

from shard_action.core.documents import Frozen
from shard_action.core.manifest import Drift, ShardManifest
from shard_action.core.plan import Plan, PlannedShard
from shard_action.core.testids import file_of, is_whole_file

Kind = Literal["planned", "drift", "unplanned"]
Key = tuple[str, str]
"""(lane instance, test id): the identity of a planned or executed test."""


@dataclass(frozen=True, slots=True)
class ExecutedRun:
    """What one lane run of a shard executed (first attempts, in order)."""

    lane: str
    tests: Sequence[str]
    drift: Sequence[Drift] = ()


@dataclass(frozen=True, slots=True)
class Executed:
    """What one shard's manifest says it ran, run by run."""

    shard: str
    runs: Sequence[ExecutedRun]
    failure: str | None = None

    @classmethod
    def of(cls, manifest: ShardManifest) -> Executed:
        return cls(
            shard=manifest.shard,
            runs=[ExecutedRun(s.lane, s.tests, s.drift) for s in manifest.slices],
            failure=manifest.failure,
        )


@dataclass(frozen=True, slots=True)
class Instance:
    """One executed test, counted once: a planned test, a drift replacement or an unplanned one.

    ``members`` are the executed ids behind it: the id itself, or the node ids of a whole-file id.
    ``run`` is the position of the run that executed it in the shard's manifest (``runs``).
    """

    test: str
    lane: str
    shard: str
    kind: Kind
    members: tuple[str, ...]
    run: int = 0


STOPPED_EARLY = "not run: the shard stopped early"
"""A lost test's reason when its shard says why it stopped: the why is the shard's, not the
test's, so it is said once per shard and never copied onto every test (463 times)."""


FannedOut = Annotated[
    bool, Field(description="The id is planned in more than one lane instance: name the lane.")
]


class LostTest(Frozen):
    """A planned test that never ran."""

    test: str
    lane: str
    shard: str
    reason: str
    fanned_out: FannedOut = False


class LostShard(Frozen):
    shard: str
    lane: str
    tests: int
    reason: str


class RunTwice(Frozen):
    test: str
    lane: str
    shards: tuple[str, ...] = Field(
        description="The shard of every execution, in order (a shard twice when it ran the "
        "test twice)."
    )
    fanned_out: FannedOut = False


class Unplanned(Frozen):
    test: str
    lane: str
    shard: str
    planned_in: tuple[str, ...] = Field(
        description="Shards the plan gave the id to, in any lane (it ran in the wrong shard or "
        "lane)."
    )
    fanned_out: FannedOut = False


class DriftNote(Frozen):
    shard: str
    lane: str
    file: str
    planned: tuple[str, ...]
    collected: tuple[str, ...]
    replaced: bool = Field(
        description="A collected replacement from this file ran where this lane's drift runs, "
        "so `planned` are not lost."
    )


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
    fanned_out: frozenset[str] = frozenset()
    """Ids planned in more than one lane instance: only the lane tells their entries apart."""

    @property
    def complete(self) -> bool:
        emptied = any(shard.tests for shard in self.lost_shards)  # an empty shard loses nothing
        return not (self.lost or emptied or self.run_twice or self.unplanned or self.unknown_shards)


def planned_pairs(shard: PlannedShard) -> list[Key]:
    """The shard's planned tests as (lane instance, test id), slice after slice."""
    return [(piece.lane, test) for piece in shard.slices for test in piece.tests]


def fanned_out(shards: Iterable[PlannedShard]) -> frozenset[str]:
    """Ids planned in more than one lane instance: a person needs the lane to tell them apart."""
    first_lane: dict[str, str] = {}
    found: set[str] = set()
    for shard in shards:
        for lane, test in planned_pairs(shard):
            if first_lane.setdefault(test, lane) != lane:
                found.add(test)
    return frozenset(found)


@dataclass
class _FileRun:
    """Node ids that ran in one planned whole-file test (file granularity)."""

    lane: str
    run: int
    members: list[str] = field(default_factory=list)


@dataclass
class _Tally:
    """What the shards executed, as it is matched against the plan."""

    instances: list[Instance] = field(default_factory=list)
    executions: dict[Key, list[str]] = field(default_factory=dict)
    """(lane, id) -> the shard of every first attempt, in the order they were matched."""
    extras: list[tuple[str, int, str, str]] = field(default_factory=list)
    """(shard, run, lane, id) executed but matching no planned slot: unplanned, twice or drift."""
    leftovers: list[tuple[PlannedShard, str, str]] = field(default_factory=list)
    """(shard, lane, id) planned and not matched by any execution."""


def _match_shard(shard: PlannedShard, result: Executed, tally: _Tally) -> None:
    """Match one shard's executed runs to its planned (lane, id) slots."""
    slots: Counter[Key] = Counter()
    files: Counter[Key] = Counter()
    for lane, test in planned_pairs(shard):
        (files if is_whole_file(test) else slots)[(lane, test)] += 1
    file_runs: dict[tuple[int, str], list[_FileRun]] = {}
    for index, run in enumerate(result.runs):
        for test in run.tests:
            key = (run.lane, test)
            if slots[key] > 0:
                slots[key] -= 1
                tally.instances.append(
                    Instance(test, run.lane, shard.id, "planned", (test,), index)
                )
                tally.executions.setdefault(key, []).append(shard.id)
                continue
            file_key = (run.lane, file_of(test))
            groups = file_runs.setdefault((index, file_key[1]), [])
            free = next((g for g in groups if test not in g.members), None)
            if free is None and files[file_key] > 0:
                files[file_key] -= 1
                free = _FileRun(run.lane, index)
                groups.append(free)
                tally.executions.setdefault(file_key, []).append(shard.id)
            if free is not None:
                free.members.append(test)
                continue
            tally.extras.append((shard.id, index, run.lane, test))
    for (_, file), groups in file_runs.items():
        tally.instances.extend(
            Instance(file, g.lane, shard.id, "planned", tuple(g.members), g.run) for g in groups
        )
    for (lane, test), remaining in (*slots.items(), *files.items()):
        tally.leftovers.extend((shard, lane, test) for _ in range(remaining))


def _where_planned(plan: Plan) -> dict[str, list[str]]:
    """Each planned id -> the shards it is planned in, in plan order."""
    where: dict[str, list[str]] = {}
    for shard in plan.shards:
        for _lane, test in planned_pairs(shard):
            shards = where.setdefault(test, [])
            if not shards or shards[-1] != shard.id:
                shards.append(shard.id)
    return where


def _lost(test: str, lane: str, shard: str, reason: str, fan: frozenset[str]) -> LostTest:
    return LostTest(test=test, lane=lane, shard=shard, reason=reason, fanned_out=test in fan)


def _match_plan(
    plan: Plan, results: Mapping[str, Executed], tally: _Tally, fan: frozenset[str]
) -> tuple[list[LostShard], list[LostTest]]:
    """Match each shard that left results; the others are lost shards, all their tests lost."""
    lost_shards: list[LostShard] = []
    lost: list[LostTest] = []
    for shard in plan.shards:
        result = results.get(shard.id)
        if result is None:
            reason = "the shard left no results: its job died or its artifact is missing"
            lost_shards.append(
                LostShard(shard=shard.id, lane=shard.lane, tests=len(shard.tests), reason=reason)
            )
            lost.extend(
                _lost(test, lane, shard.id, reason, fan) for lane, test in planned_pairs(shard)
            )
            continue
        _match_shard(shard, result, tally)
    return lost_shards, lost


def _place_extras(
    tally: _Tally,
    results: Mapping[str, Executed],
    where_planned: Mapping[str, list[str]],
    fan: frozenset[str],
) -> tuple[dict[Key, list[str]], list[Unplanned], dict[str, set[str]]]:
    """Executions matching no planned slot: run twice, drift (a new id of a planned file) or
    unplanned. Returns who ran what twice, the unplanned, and the lanes each drifted file ran in."""
    executions = tally.executions
    run_twice_at = {key: list(shards) for key, shards in executions.items() if len(shards) > 1}
    unplanned: list[Unplanned] = []
    drift_ran: dict[str, set[str]] = {}
    for shard_id, index, lane, test in tally.extras:
        file_key = (lane, file_of(test))
        key = (lane, test) if (lane, test) in executions or file_key not in executions else file_key
        if key in executions:
            executions[key].append(shard_id)
            run_twice_at[key] = list(executions[key])
            continue
        run = results[shard_id].runs[index]
        collected = any(test in record.collected for record in run.drift)
        kind: Kind = "drift" if collected and test not in where_planned else "unplanned"
        tally.instances.append(Instance(test, lane, shard_id, kind, (test,), index))
        executions[key] = [shard_id]
        if kind == "drift":
            drift_ran.setdefault(file_of(test), set()).add(lane)
        else:
            planned_in = tuple(where_planned.get(test, ()))
            unplanned.append(
                Unplanned(
                    test=test,
                    lane=lane,
                    shard=shard_id,
                    planned_in=planned_in,
                    fanned_out=test in fan,
                )
            )
    return run_twice_at, unplanned, drift_ran


def _drift_notes(
    plan: Plan, results: Mapping[str, Executed], drift_ran: Mapping[str, set[str]]
) -> tuple[list[DriftNote], dict[tuple[str, str, str], bool]]:
    """Each shard's drift, and whether each drifted planned id was replaced by its file's tests."""
    base_of = {lane.name: lane.base for lane in plan.lanes}

    def replaced(lane: str, file: str) -> bool:
        """Drifted ids run once per lane instance of the lane that owns the file (see
        ``core.selection.file_owners``): in this instance, or in a lane of another base."""
        ran_in = drift_ran.get(file, set())
        base = base_of.get(lane, lane)
        return lane in ran_in or any(base_of.get(other, other) != base for other in ran_in)

    notes: list[DriftNote] = []
    drifted: dict[tuple[str, str, str], bool] = {}
    for shard in plan.shards:
        result = results.get(shard.id)
        for run in result.runs if result is not None else ():
            for record in run.drift:
                done = replaced(run.lane, record.file)
                notes.append(
                    DriftNote(
                        shard=shard.id,
                        lane=run.lane,
                        file=record.file,
                        planned=tuple(record.planned),
                        collected=tuple(record.collected),
                        replaced=done,
                    )
                )
                for test in record.planned:
                    drifted[(shard.id, run.lane, test)] = done
    return notes, drifted


def _leftovers_lost(
    tally: _Tally,
    results: Mapping[str, Executed],
    drifted: Mapping[tuple[str, str, str], bool],
    fan: frozenset[str],
) -> list[LostTest]:
    """Planned ids no execution matched, with why (a drifted id replaced by its file's is not)."""
    lost = []
    for shard, lane, test in tally.leftovers:
        result = results[shard.id]
        if (shard.id, lane, test) in drifted:
            if drifted[(shard.id, lane, test)]:
                continue
            reason = "its id drifted (planned, not collected) and no test of its file ran instead"
        elif result.failure:
            reason = STOPPED_EARLY  # the cause is the shard's, said once (ShardEntry.failure)
        else:
            reason = "not run: missing from the shard's results"
        lost.append(_lost(test, lane, shard.id, reason, fan))
    return lost


def check(plan: Plan, executed: Iterable[Executed]) -> Completeness:
    """Compare the plan with what the shards executed (see the module docstring)."""
    results: dict[str, Executed] = {}
    for item in executed:
        results.setdefault(item.shard, item)
    tally = _Tally()
    fan = fanned_out(plan.shards)
    lost_shards, lost = _match_plan(plan, results, tally, fan)
    unknown = sorted(set(results) - {shard.id for shard in plan.shards})
    for shard_id in unknown:
        tally.extras.extend(
            (shard_id, index, run.lane, test)
            for index, run in enumerate(results[shard_id].runs)
            for test in run.tests
        )
    run_twice_at, unplanned, drift_ran = _place_extras(tally, results, _where_planned(plan), fan)
    drift_notes, drifted = _drift_notes(plan, results, drift_ran)
    lost += _leftovers_lost(tally, results, drifted, fan)
    return Completeness(
        planned=sum(len(shard.tests) for shard in plan.shards),
        executed=tuple(tally.instances),
        lost=tuple(lost),
        lost_shards=tuple(lost_shards),
        run_twice=tuple(
            RunTwice(test=test, lane=lane, shards=tuple(shards), fanned_out=test in fan)
            for (lane, test), shards in run_twice_at.items()
        ),
        unplanned=tuple(unplanned),
        drift=tuple(drift_notes),
        unknown_shards=tuple(unknown),
        fanned_out=fan,
    )


def lanes_of(plan: Plan) -> Mapping[str, str]:
    """Shard id -> lane, for display."""
    return {shard.id: shard.lane for shard in plan.shards}


def count_by_shard(items: Sequence[LostTest]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for item in items:
        counts[item.shard] = counts.get(item.shard, 0) + 1
    return counts
