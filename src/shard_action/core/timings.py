"""Past durations, mapped onto the tests that exist today: one robust figure per test.

Node ids are taken as they are; JUnit cases go through the one resolver (:mod:`.resolver`, with
guesses: reports may come from another checkout). The median over sources decides, the last
entry within one source (the re-run that decided), and at file granularity medians are summed
per file. Rules and limits: ``docs/resolving.md``.
"""

from __future__ import annotations

import heapq
import statistics
from collections.abc import Sequence
from typing import Literal

from shard_action.core.models import MAX_SECONDS, Observation, TestItem, Timings
from shard_action.core.resolver import Resolver
from shard_action.core.testids import file_of, is_whole_file

Granularity = Literal["test", "file"]


def _robust(values: list[float]) -> float:
    if len(values) == 1:
        return values[0]
    if len(values) == 2:
        return (values[0] + values[1]) / 2
    return float(statistics.median(values))


def resolve(
    observations: Sequence[Observation],
    tests: Sequence[TestItem],
    *,
    granularity: Granularity,
    sources: Sequence[str] | None = None,
    skipped_reports: Sequence[str] = (),
) -> Timings:
    """One robust duration per test that exists today (a file path at file granularity).

    Observations with a NaN, negative or implausible (over ``MAX_SECONDS``) time are ignored
    (the adapters count them).
    ``sources`` defaults to the distinct sources of the observations, in order of appearance;
    ``skipped_reports`` is passed through for the plan's record.
    """
    ids = {t.id: None for t in tests}
    mapper: _TestMapper | _FileMapper = (
        _FileMapper(ids) if granularity == "file" else _TestMapper(ids)
    )
    groups = _group(observations, ids, mapper)
    units = _pool(list(groups.values()))
    lanes: dict[str, list[dict[str, float]]] = {}
    for (_source, lane), values in groups.items():
        if lane is not None:
            lanes.setdefault(lane, []).append(values)
    lane_units = {lane: _pool(lane_groups) for lane, lane_groups in lanes.items()}

    if granularity == "file":
        durations = _sum_per_file(units, tests)
        by_lane = {lane: _sum_per_file(values, tests) for lane, values in lane_units.items()}
    else:
        durations = _in_test_order(units, tests)
        by_lane = {lane: _in_test_order(values, tests) for lane, values in lane_units.items()}

    if sources is None:
        sources = list(dict.fromkeys(obs.source for obs in observations))
    return Timings(
        durations=durations,
        by_lane=by_lane,
        sources=tuple(sources),
        stale=len(mapper.stale),
        unresolved=len(mapper.unresolved),
        unresolved_examples=_examples(mapper.unresolved),
        skipped_reports=tuple(skipped_reports),
    )


def _group(
    observations: Sequence[Observation], ids: dict[str, None], mapper: _TestMapper | _FileMapper
) -> dict[tuple[str, str | None], dict[str, float]]:
    """Each usable observation under its unit, one dict per (source, lane).

    Assigning in document order keeps the last re-run.
    """
    node = mapper.node
    junit = mapper.junit
    fast = mapper.fast
    groups: dict[tuple[str, str | None], dict[str, float]] = {}
    current: dict[str, float] = {}
    current_source: str | None = None
    current_lane: str | None = None
    for obs in observations:
        seconds = obs.seconds
        if not (0.0 <= seconds <= MAX_SECONDS):  # NaN fails; usable_seconds, inlined (hot loop)
            continue
        if obs.is_node_id:
            name = obs.name
            key = name if name in ids else node(name)
        else:
            key = fast(obs.classname, obs.name, obs.file)
            if key is None:  # not on the fast path: resolved again, and counted
                key = junit(obs)
        if key is None:
            continue
        if obs.source != current_source or obs.lane != current_lane:
            current_source, current_lane = obs.source, obs.lane
            current = groups.setdefault((obs.source, obs.lane), {})
        current[key] = seconds

    return groups


def _examples(unresolved: set[tuple[str | None, str, str | None]]) -> tuple[str, ...]:
    """The first few unresolved entries in a stable order, as ``classname::name``."""
    names = (f"{cls}::{name}" if cls else name for cls, name, _ in unresolved)
    return tuple(heapq.nsmallest(3, names))


def _in_test_order(units: dict[str, float], tests: Sequence[TestItem]) -> dict[str, float]:
    result: dict[str, float] = {}
    get = units.get
    for t in tests:
        seconds = get(t.id)
        if seconds is not None:
            result[t.id] = seconds
    return result


def _pool(groups: list[dict[str, float]]) -> dict[str, float]:
    """The median per unit over the groups (sources) that measured it."""
    if not groups:
        return {}
    if len(groups) == 1:
        return groups[0]
    pooled: dict[str, list[float]] = {}
    for group in groups:
        for key, seconds in group.items():
            values = pooled.get(key)
            if values is None:
                pooled[key] = [seconds]
            else:
                values.append(seconds)
    return {key: _robust(values) for key, values in pooled.items()}


class _TestMapper:
    """Observations -> today's node ids, counting stale and unresolved tests."""

    def __init__(self, ids: dict[str, None]) -> None:
        self.ids = ids
        self.stale: set[str] = set()
        self.unresolved: set[tuple[str | None, str, str | None]] = set()
        self._resolver = Resolver(ids, guesses=True)
        self.fast = self._resolver.test_id

    def node(self, name: str) -> str | None:
        self.stale.add(name)
        return None

    def junit(self, obs: Observation) -> str | None:
        found = self._resolver.match(obs.classname, obs.name, obs.file)
        if found.test is None:
            if found.stale:
                self.stale.add(f"{obs.classname}::{obs.name}")
            else:
                self.unresolved.add((obs.classname, obs.name, obs.file))
        return found.test


class _FileMapper:
    """Observations -> units at file granularity: a node id (summed into its file) or a file."""

    def __init__(self, files: dict[str, None]) -> None:
        self.files = files
        self.stale: set[str] = set()
        self.unresolved: set[tuple[str | None, str, str | None]] = set()
        self._resolver = Resolver(files, guesses=True)
        self.fast = self._resolver.node

    def node(self, name: str) -> str | None:
        if file_of(name) in self.files:
            return name
        self.stale.add(name)
        return None

    def junit(self, obs: Observation) -> str | None:
        found = self._resolver.match(obs.classname, obs.name, obs.file)
        if found.node is None:
            self.unresolved.add((obs.classname, obs.name, obs.file))
        return found.node


def _sum_per_file(units: dict[str, float], tests: Sequence[TestItem]) -> dict[str, float]:
    direct: dict[str, float] = {}
    summed: dict[str, float] = {}
    for unit, seconds in units.items():
        file = file_of(unit)
        if is_whole_file(unit):
            direct[file] = seconds
        else:
            summed[file] = summed.get(file, 0.0) + seconds
    result: dict[str, float] = {}
    for t in tests:
        if t.id in direct:
            result[t.id] = direct[t.id]
        elif t.id in summed:
            result[t.id] = summed[t.id]
    return result


def units_of(tests: Sequence[TestItem]) -> Granularity:
    """What today's ids name, which is what timings must be resolved onto.

    Not ``config.granularity``: at file granularity pytest's node ids keep a timing each (the
    planner sums them per file, and can still split a file longer than a shard); only a runner
    whose ids are files (``test-files``, or a list of paths) gets per-file timings.
    """
    return "file" if all(is_whole_file(t.id) for t in tests) else "test"


def timing_warnings(timings: Timings, given: bool) -> list[str]:
    """What the plan should say about its timings: entries that matched nothing, or none given."""
    warnings: list[str] = []
    if timings.unresolved:
        warnings.append(
            f"report entries that matched no test of today were not used: "
            f"{timings.unresolved} (e.g. {', '.join(timings.unresolved_examples)}); what cannot "
            "be matched, and why: docs/timings.md"
        )
    if not given:
        warnings.append(
            "no timings given: every duration is estimated; pass --timings (JUnit XML, "
            "pytest-split durations or our history) for balanced shards"
        )
    return warnings
