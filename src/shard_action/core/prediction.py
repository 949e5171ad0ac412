"""The wall a shard job takes, in the parts where it falls: set-up, start-up, tests, finish.

A plan that predicts only its tests cannot predict the job a user waits for: the job's set-up
(checkout, install), the process start-up (interpreter and plugins, then collection, which
imports each file), the module and class fixtures of the scopes it holds (``core.fixtures``),
and the finish (session end, JUnit, coverage save) are fixed costs per shard that real runs
measure. This module is the one model of them: the plan predicts ``Parts`` per
shard, the shard measures ``Measured``, the history keeps ``LaneCosts`` (recent samples per lane,
normalised by each run's speed factor so a loaded machine does not distort it), and the planner
reads their medians (``Costs``).

**The shared import.** pytest charges each module's import to the first test file that triggers
it, so a module every file imports (scipy's io: numpy and scipy.sparse, 3-5 s) is charged to the
first file each process collects; the rest of the process's files look cheap. Every process pays
it all the same: a shard's start-up is the interpreter, that shared import, then each file's own
rest. :func:`first_file` reads it off one process (``FirstFile``), :func:`shared_import` off a
run's processes, and both the history (:func:`learned`) and the first-run estimate
(``core.estimate.first_costs``) put it in the interpreter and take it out of the first file.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field

from shard_action.core import fixtures
from shard_action.core.models import Mended, sample_seconds, smoothed, usable_seconds

SAMPLES: Final = 5
"""Recent samples kept per cost (the figure used is their median)."""
MAX_FILES: Final = 20_000
"""Files whose collection time one lane remembers."""
MAX_SCOPES: Final = 20_000
"""Module and class scopes whose fixture cost one lane remembers (the costliest are kept)."""
SPEED_MIN_TESTS: Final = 5
"""A run's speed factor needs this many tests timed both now and in the history..."""
SPEED_MIN_SECONDS: Final = 0.01
"""...each at least this long in the history (shorter ones are mostly noise)."""
SPEED_RANGE: Final = (0.25, 4.0)
"""A factor outside this range is clamped: beyond it the run says more about itself than speed."""
TYPICAL_FILES: Final = 2
"""Other files a process must have timed for its first file's excess over them to count: the
median of one file is that file's own noise or weight."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Parts(_Model):
    """A shard's wall time in parts (seconds); predicted in the plan, measured in the report."""

    setup: float = Field(
        0.0,
        ge=0,
        allow_inf_nan=False,
        description="Job set-up before our step (checkout, install).",
    )
    startup: float = Field(
        0.0,
        ge=0,
        allow_inf_nan=False,
        description="Process start to the first test: interpreter and plugins, then collection "
        "(importing each of the shard's files).",
    )
    tests: float = Field(0.0, ge=0, allow_inf_nan=False, description="The tests themselves.")
    finish: float = Field(
        0.0,
        ge=0,
        allow_inf_nan=False,
        description="Last test to the shard's end: session end, JUnit, coverage save, re-runs.",
    )

    @property
    def total(self) -> float:
        return self.setup + self.startup + self.tests + self.finish


class FirstFile(_Model):
    """The first test file one process collected, which pytest charged with every module that
    process imported first (``core.prediction``: the shared import)."""

    file: str = Field(description="The test file, as the collection names it.")
    seconds: float = Field(
        ge=0, allow_inf_nan=False, description="Its collection seconds in that process."
    )
    excess: float | None = Field(
        None,
        ge=0,
        allow_inf_nan=False,
        description="How much longer it took than the median of the process's other files "
        f"(never below 0); `null` when the process timed fewer than {TYPICAL_FILES} others.",
    )


def first_file(files: Iterable[tuple[str, float]]) -> FirstFile | None:
    """One process's first file and its excess over the process's typical file; ``files``:
    (file, seconds) in collection order. ``None``: it timed no file (collected nothing).

    Within one process a shared import and a file heavy on its own look the same; the excess is
    only evidence, which :func:`shared_import` weighs across processes.
    """
    timed = [(name, float(s)) for name, s in files if usable_seconds(float(s))]
    if not timed:
        return None
    (name, seconds), others = timed[0], [s for _, s in timed[1:]]
    excess = None
    if len(others) >= TYPICAL_FILES:
        excess = round(max(0.0, seconds - float(statistics.median(others))), 6)
    return FirstFile(file=name, seconds=round(seconds, 6), excess=excess)


def shared_import(firsts: Iterable[FirstFile]) -> float:
    """The seconds each process pays for imports its first file triggers, whichever file that is:
    the lower median of the processes' excesses (0 without any).

    The lower median: a shared import shows in every process, so at least half of them must
    show it; one process whose first file is heavy on its own (the others' first files are not)
    moves nothing, and that file keeps its weight.
    """
    excesses = [f.excess for f in firsts if f.excess is not None]
    return float(statistics.median_low(excesses)) if excesses else 0.0


def without_shared(
    files: Mapping[str, float], firsts: Iterable[FirstFile], shared: float
) -> tuple[float, dict[str, float]]:
    """``files`` (a shard's collection seconds) without the ``shared`` import each process's
    first file paid (at most its own seconds), and what those processes paid of it in all.

    The sum is kept: what leaves the files is the start-up's shared import, not lost.
    """
    own = dict(files)
    paid = 0.0
    for first in firsts:
        if shared <= 0 or first.file not in own:
            continue
        part = min(shared, first.seconds, own[first.file])
        own[first.file] = round(own[first.file] - part, 6)
        paid += part
    return paid, own


class Measured(_Model):
    """What one shard measured of its own fixed costs (the first process of each lane run).

    ``setup`` stays 0 here: a job cannot see its own set-up; the report adds it from the jobs
    endpoint. ``reruns``: re-run processes ran, so ``finish`` is not a clean sample.
    """

    parts: Parts = Field(default_factory=Parts)
    interpreter: float = Field(
        0.0,
        ge=0,
        allow_inf_nan=False,
        description="Process start to our plugin's configure, plus the session and package "
        "fixtures the first test set up (`core.fixtures`): what each process pays to start "
        "beyond collecting its files.",
    )
    files: dict[str, float] = Field(
        default_factory=dict, description="Collection seconds per test file (import, items)."
    )
    scopes: dict[str, float] = Field(
        default_factory=dict,
        description="Module (a file) and class (`file::Class`) fixture seconds that pytest "
        "charged to a test of the scope (`core.fixtures`); 0 when nothing stood out.",
    )
    carried: dict[str, dict[str, float]] = Field(
        default_factory=dict,
        description="Per lane instance and test: the scope fixture seconds its reported time "
        "includes (the history learns the test's own time without them).",
    )
    first_files: list[FirstFile] = Field(
        default_factory=list,
        description="Per first-attempt process, the first file it collected and its excess "
        "over the process's other files (`core.prediction`: the shared import).",
    )
    workers: float | None = Field(
        None,
        ge=0,
        allow_inf_nan=False,
        description="Under pytest-xdist: the start-up beyond the interpreter and the files' "
        "collection, what starting the workers cost (`core.workers`); none for a plain process.",
    )
    reruns: bool = False


def _samples(value: Any) -> list[float]:
    if not isinstance(value, list):
        return []
    kept = [
        float(x)
        for x in value
        if isinstance(x, int | float) and not isinstance(x, bool) and usable_seconds(float(x))
    ]
    return kept[-SAMPLES:]


class LaneCosts(Mended):
    """One lane's recent fixed-cost samples in the history, normalised to the history's speed."""

    setup: list[float] = Field(default_factory=list)
    interpreter: list[float] = Field(default_factory=list)
    finish: list[float] = Field(default_factory=list)
    workers: list[float] = Field(
        default_factory=list,
        description="The xdist workers' start-up of a shard (`Measured.workers`), recent last.",
    )
    files: dict[str, list[float]] = Field(default_factory=dict)
    scopes: dict[str, list[float]] = Field(
        default_factory=dict,
        description="Module and class fixture seconds per scope (`core.fixtures`), recent first "
        "last; a scope is kept once a sample reached `fixtures.MIN_SECONDS`.",
    )

    @classmethod
    def mended(cls, data: dict[str, Any]) -> dict[str, Any]:
        """Unusable samples are dropped, never the history."""
        for key in ("setup", "interpreter", "finish", "workers"):
            if key in data:
                data[key] = _samples(data[key])
        for key in ("files", "scopes"):
            named = data.get(key)
            if isinstance(named, dict):
                data[key] = {str(name): kept for name, v in named.items() if (kept := _samples(v))}
            elif named is not None:
                data[key] = {}
        return data


@dataclass(frozen=True, slots=True)
class Costs:
    """The planner's view of one lane's fixed costs: medians of the history's samples.

    ``None``: nothing measured yet: set-up is then the config's ``shard-overhead``; start-up
    and finish are the first-run estimate's (``core.estimate.first_costs``) until a run
    measures them.
    """

    setup: float | None = None
    interpreter: float | None = None
    finish: float | None = None
    workers: float | None = None
    """A shard's xdist workers' start-up (``core.workers.startup``); ``None``: never measured."""
    files: Mapping[str, float] = field(default_factory=dict)
    scopes: Mapping[str, float] = field(default_factory=dict)
    """Fixture seconds per module (a file) or class scope: paid by each shard holding one of
    its tests."""

    @property
    def charges_files(self) -> bool:
        """Whether holding a file costs a shard anything learned (its import, its fixtures)."""
        return bool(self.files or self.scopes)

    def file_charge(self, name: str) -> float:
        """What a shard pays once for holding any test of the file: collection, module fixtures."""
        return self.file_seconds(name) + self.scopes.get(name, 0.0)

    def fixture_seconds(self, test_ids: Iterable[str]) -> float:
        """The module and class fixtures a shard of these tests pays, each scope once."""
        if not self.scopes:
            return 0.0
        held = {scope for test in test_ids for scope in fixtures.scopes_of(test)}
        return math.fsum(self.scopes.get(scope, 0.0) for scope in sorted(held))

    def file_seconds(self, name: str) -> float:
        """A file's collection time; one never measured: the median of the measured ones."""
        known = self.files.get(name)
        if known is not None:
            return known
        return self._typical

    @property
    def _typical(self) -> float:
        return float(statistics.median(self.files.values())) if self.files else 0.0


def _median(samples: Sequence[float]) -> float | None:
    return smoothed(samples) if samples else None


def costs_of(lanes: Mapping[str, LaneCosts], *, speed: float = 1.0) -> dict[str, Costs]:
    """The history's samples as medians, per lane, at ``speed`` (:func:`recent_speed`; set-up
    is stored as measured, so it is not scaled)."""

    def at(samples: Sequence[float]) -> float | None:
        median = _median(samples)
        return None if median is None else median * speed

    return {
        lane: Costs(
            setup=_median(c.setup),
            interpreter=at(c.interpreter),
            finish=at(c.finish),
            workers=at(c.workers),
            files={name: smoothed(s) * speed for name, s in c.files.items()},
            scopes={name: smoothed(s) * speed for name, s in c.scopes.items()},
        )
        for lane, c in lanes.items()
    }


def predict(
    costs: Costs | None,
    files: Iterable[str],
    tests: float,
    *,
    overhead: float,
    test_ids: Iterable[str] = (),
) -> Parts:
    """The prediction for a shard of ``files`` whose tests (``test_ids``) take ``tests`` seconds.

    Set-up: learned, else ``overhead`` (the config's ``shard-overhead``); start-up: the
    interpreter (with the session and package fixtures) plus each file's collection; tests:
    theirs plus each module and class fixture they need, once; finish: learned, else nothing.
    """
    if costs is None:
        return Parts(setup=overhead, tests=tests)
    startup = (costs.interpreter or 0.0) + math.fsum(costs.file_seconds(f) for f in set(files))
    return Parts(
        setup=overhead if costs.setup is None else costs.setup,
        startup=startup,
        tests=tests + costs.fixture_seconds(test_ids),
        finish=costs.finish or 0.0,
    )


def speed_factor(pairs: Iterable[tuple[float, float]]) -> float | None:
    """How much slower than the history this run was: the median ratio now / before.

    ``pairs``: (seconds now, seconds in the history) of the tests timed in both. Too few usable
    pairs give ``None``: nothing was compared (the run that starts a history), so its times are
    kept as they are and it casts no vote in :func:`recent_speed`, where a 1.0 would have been
    read as a measured speed. The result is clamped to :data:`SPEED_RANGE`.
    """
    ratios = [
        now / before
        for now, before in pairs
        if before >= SPEED_MIN_SECONDS and usable_seconds(now) and usable_seconds(before)
    ]
    if len(ratios) < SPEED_MIN_TESTS:
        return None
    low, high = SPEED_RANGE
    return min(max(float(statistics.median(ratios)), low), high)


def recent_speed(speeds: Iterable[float | None]) -> float:
    """The speed the next run is likely to have: the median factor of the last
    :data:`SAMPLES` runs that have one (1.0 without any).

    The history keeps times at its own speed (each run's divided by its factor), so a plan
    multiplies them back by this: otherwise the speed of the run that started the history
    (a loaded first run: 3.6x) would stay in every prediction, and a suite that really got
    slower would never be predicted so; one odd run moves a median of five little.
    """
    known = [s for s in speeds if s is not None and usable_seconds(s) and s > 0][-SAMPLES:]
    return float(statistics.median(known)) if known else 1.0


def _push(samples: Sequence[float], value: float) -> list[float]:
    return [*samples, sample_seconds(value)][-SAMPLES:]


def _one(values: Sequence[float]) -> float:
    """A run's one sample of a cost its shards each measured: their median."""
    return float(statistics.median(values))


def learned(
    before: Mapping[str, LaneCosts],
    measured: Iterable[tuple[str, Measured]],
    *,
    speed: float = 1.0,
) -> dict[str, LaneCosts]:
    """The lanes' cost samples after a run: one sample per lane and cost, the median of the
    run's shards, divided by ``speed``.

    The lane's shared import (:func:`shared_import` over its shards' processes) is start-up
    every process pays: it joins each shard's interpreter sample (once per process) and leaves
    its processes' first files, so the planner charges it to every shard, not to whichever
    holds the file that happened to be collected first.

    One per run, so the window of :data:`SAMPLES` spans runs, not the shards of the last one
    (a lane of five shards kept only its last run's figures). ``measured``: (lane, what a shard
    measured of it). Set-up is network and cache bound, not CPU bound: it is kept as measured.
    A shard with re-runs gives no finish sample.
    """
    lanes = {lane: costs.model_copy(deep=True) for lane, costs in before.items()}
    scale = 1.0 / speed if speed > 0 else 1.0
    runs: dict[str, list[Measured]] = {}
    for lane, m in measured:
        runs.setdefault(lane, []).append(m)
    for lane, shards in runs.items():
        costs = lanes.setdefault(lane, LaneCosts())
        if setups := [m.parts.setup for m in shards if m.parts.setup > 0]:
            costs.setup = _push(costs.setup, _one(setups))
        shared = shared_import(f for m in shards for f in m.first_files)
        split = [without_shared(m.files, m.first_files, shared) for m in shards]
        if interpreters := [
            m.interpreter + paid
            for m, (paid, _) in zip(shards, split, strict=True)
            if m.interpreter > 0
        ]:
            costs.interpreter = _push(costs.interpreter, _one(interpreters) * scale)
        if workers := [m.workers for m in shards if m.workers is not None]:
            costs.workers = _push(costs.workers, _one(workers) * scale)
        clean = [m for m in shards if not m.reruns and (m.parts.tests > 0 or m.parts.startup > 0)]
        if clean:
            costs.finish = _push(costs.finish, _one([m.parts.finish for m in clean]) * scale)
        files: dict[str, list[float]] = {}
        scopes: dict[str, list[float]] = {}
        for m, (_, own) in zip(shards, split, strict=True):
            for name, seconds in own.items():
                if usable_seconds(seconds):
                    files.setdefault(name, []).append(seconds)
            for name, seconds in m.scopes.items():
                scopes.setdefault(name, []).append(seconds)
        for name, seconds_each in sorted(files.items()):
            costs.files[name] = _push(costs.files.get(name, []), _one(seconds_each) * scale)
        if len(costs.files) > MAX_FILES:
            costs.files = dict(sorted(costs.files.items())[:MAX_FILES])
        one_each = {name: _one(values) for name, values in scopes.items()}
        costs.scopes = _scopes_after(costs.scopes, one_each, scale)
    return {lane: lanes[lane] for lane in sorted(lanes)}


def _scopes_after(
    before: Mapping[str, list[float]], measured: Mapping[str, float], scale: float
) -> dict[str, list[float]]:
    """A scope's sample is kept once one reached ``fixtures.MIN_SECONDS``: the scopes without
    a fixture worth planning for (most) cost the history nothing; a known one learns it got
    cheaper. The costliest :data:`MAX_SCOPES` stay."""
    scopes = dict(before)
    for name, seconds in measured.items():
        value = seconds * scale
        if usable_seconds(value) and (name in scopes or value >= fixtures.MIN_SECONDS):
            scopes[name] = _push(scopes.get(name, []), value)
    if len(scopes) > MAX_SCOPES:
        ranked = sorted(scopes.items(), key=lambda item: (-smoothed(item[1]), item[0]))
        scopes = dict(ranked[:MAX_SCOPES])
    return dict(sorted(scopes.items()))


@dataclass(frozen=True, slots=True)
class ProcessTimes:
    """Wall-clock times (epoch seconds) of one first-attempt runner process of a shard."""

    began: float
    configured: float
    first: float
    last: float
    opening: float = 0.0
    """Of ``first`` .. ``last``: the session and package fixtures the first test set up
    (``core.fixtures.Charges.startup``), start-up rather than tests."""
    closing: float = 0.0
    """Likewise the last test's teardown beyond a typical one, the session's
    (``Charges.finish``): finish rather than tests."""
    collected_first: FirstFile | None = None
    """The first file it collected (:func:`first_file`), the one charged with its shared import."""
    xdist: bool = False
    """It ran under pytest-xdist (``core.workers.runs_xdist``): its start-up includes the
    workers' own start."""


def measure(
    started: float,
    finished: float,
    processes: Sequence[ProcessTimes],
    files: Mapping[str, float],
    *,
    reruns: bool,
    scopes: Mapping[str, float] | None = None,
    carried: Mapping[str, Mapping[str, float]] | None = None,
) -> Measured | None:
    """A shard's parts from its own clock: ``None`` when no process ran a test.

    Start-up: the shard's start to its first process, plus each process's start to its first
    test and the session fixtures that test set up (so what ``shard-action run`` does before
    pytest counts as start-up too); tests: each process's first test start to its last test end,
    less those fixtures and the session's teardown; finish: the rest of the shard's wall.
    Workers (every process under xdist): the start-up its interpreter and its files' collection
    do not explain, the workers' own start the planner adds per shard (``core.workers``).
    """
    if not processes:
        return None
    lead = max(0.0, processes[0].began - started)
    opening = [min(max(0.0, p.opening), max(0.0, p.last - p.first)) for p in processes]
    closing = [
        min(max(0.0, p.closing), max(0.0, p.last - p.first - o))
        for p, o in zip(processes, opening, strict=True)
    ]
    startup = lead + math.fsum(
        max(0.0, p.first - p.began) + o for p, o in zip(processes, opening, strict=True)
    )
    tests = math.fsum(
        max(0.0, p.last - p.first) - o - c
        for p, o, c in zip(processes, opening, closing, strict=True)
    )
    interpreter = lead + math.fsum(
        max(0.0, p.configured - p.began) + o for p, o in zip(processes, opening, strict=True)
    )
    finish = max(0.0, finished - started - startup - tests)
    workers = (
        sample_seconds(max(0.0, startup - interpreter - math.fsum(files.values())))
        if all(p.xdist for p in processes)
        else None
    )
    return Measured(
        parts=Parts(
            startup=sample_seconds(startup),
            tests=sample_seconds(tests),
            finish=sample_seconds(finish),
        ),
        interpreter=sample_seconds(interpreter),
        files={name: round(max(0.0, s), 6) for name, s in files.items()},
        scopes={name: round(max(0.0, s), 6) for name, s in (scopes or {}).items()},
        carried={
            lane: {test: round(max(0.0, s), 6) for test, s in tests.items()}
            for lane, tests in (carried or {}).items()
        },
        first_files=[p.collected_first for p in processes if p.collected_first is not None],
        workers=workers,
        reruns=reruns,
    )


def with_first_run(
    learned: Mapping[str, Costs], lanes: Iterable[str], first_run: Costs | None
) -> dict[str, Costs]:
    """Each lane's costs: learned from the history, else ``first_run`` (estimated from the
    plan's own collection, ``core.estimate.first_costs``); a lane with neither has none."""
    costs = dict(learned)
    if first_run is not None:
        for lane in lanes:
            costs.setdefault(lane, first_run)
    return costs
