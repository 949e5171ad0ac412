"""Properties of ``make_plan`` on random suites, timings and lane configurations.

Lanes here select tests by marker only, so the expected lane of a test has a one-line oracle
(the first lane whose marker the test carries, else the default lane); globs and id patterns
have their own example tests. Durations are checked against an oracle too: the lane instance's
own timing, else the pooled one, else the estimate (file median, lane median, default).
"""

from __future__ import annotations

import json
import math
import random
import re
import statistics
from dataclasses import dataclass
from typing import Literal

from hypothesis import given, settings
from hypothesis import strategies as st

from shard_action.adapters.documents import document_from
from shard_action.core.config import Config, LaneConfig
from shard_action.core.matrix import matrix
from shard_action.core.models import TestItem, Timings
from shard_action.core.plan import EMPTY_SHARD_ID, Plan
from shard_action.core.planner import make_plan
from shard_action.core.selection import check_plan

MARKERS = ("db", "slow", "net")
SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")

durations = st.one_of(
    st.none(),  # no timing
    st.just(0.0),
    st.floats(min_value=0.0, max_value=5.0),
    st.floats(min_value=1e3, max_value=1e6),  # huge
    st.floats(min_value=0.0, max_value=1.0).map(lambda u: 0.001 / (1.0 - u * 0.999) ** 2),
    st.just(5e-324),  # shares of it underflow to zero
    st.sampled_from([math.nan, -1.0, math.inf]),  # invalid: treated as missing
)


@dataclass
class Case:
    config: Config
    tests: list[TestItem]
    timings: Timings


@st.composite
def lane_configs(draw: st.DrawFn) -> list[LaneConfig]:
    names = draw(st.lists(st.sampled_from(MARKERS), unique=True, max_size=3))
    lanes = []
    for name in names:
        lanes.append(
            LaneConfig(
                name=name,
                markers=[name],
                mode=draw(st.sampled_from(["parallel", "parallel", "sequential"])),
                max_shards=draw(st.one_of(st.none(), st.integers(1, 4))),
                isolated=draw(st.booleans()),
                env={"LANE": name},
                backends=draw(st.sampled_from([[], [], ["a", "b"], ["x"]])),
            )
        )
    return lanes


FILES = [f"tests/{d}/test_{f}.py" for d in ("a", "b") for f in range(3)]
test_specs = st.tuples(
    st.sampled_from(FILES),
    st.frozensets(st.sampled_from(MARKERS), max_size=2),
    durations,
)


@st.composite
def cases(draw: st.DrawFn, min_tests: int = 0, max_tests: int = 40) -> Case:
    specs = draw(st.lists(test_specs, min_size=min_tests, max_size=max_tests))
    tests = []
    pooled: dict[str, float] = {}
    for i, (file, marks, value) in enumerate(specs):
        node_id = f"{file}::test_{i}"
        tests.append(TestItem(id=node_id, file=file, markers=marks))
        if value is not None:
            pooled[node_id] = value
    lanes = draw(lane_configs())
    by_lane: dict[str, dict[str, float]] = {}
    for lane in lanes:
        for value in lane.backends:
            own = draw(st.lists(durations, min_size=len(tests), max_size=len(tests)))
            by_lane[f"{lane.name}-{value}"] = {
                t.id: v for t, v in zip(tests, own, strict=True) if v is not None
            }
    count = len(tests)
    config = Config(
        lanes=lanes,
        shards=draw(st.one_of(st.just("auto"), st.integers(1, count + 5))),
        max_shards=draw(st.integers(1, 12)),
        shard_overhead=draw(st.sampled_from([0.0, 0.5, 30.0])),
        granularity=draw(st.sampled_from(["test", "file"])),
        split_files=draw(st.booleans()),
        default_duration=draw(st.sampled_from([1.0, 0.25])),
    )
    return Case(config, tests, Timings(durations=pooled, by_lane=by_lane, sources=("t.json",)))


def _valid(value: float | None) -> bool:
    return value is not None and math.isfinite(value) and value >= 0


def expected_instances(case: Case) -> dict[str, tuple[list[TestItem], LaneConfig | None]]:
    """Lane instance name -> (its tests in input order, its lane config)."""
    result: dict[str, tuple[list[TestItem], LaneConfig | None]] = {}
    for lane in case.config.lanes:
        members = [
            t
            for t in case.tests
            if next((ln.name for ln in case.config.lanes if ln.name in t.markers), None)
            == lane.name
        ]
        names = [f"{lane.name}-{value}" for value in lane.backends] or [lane.name]
        for name in names:
            if members:
                result[name] = (members, lane)
    rest = [t for t in case.tests if not any(ln.name in t.markers for ln in case.config.lanes)]
    if rest:
        result[case.config.default_lane] = (rest, None)
    return result


def expected_seconds(case: Case, instance: str, members: list[TestItem]) -> dict[str, float]:
    own = case.timings.by_lane.get(instance, {})
    known: dict[str, float] = {}
    for t in members:
        if _valid(own.get(t.id)):
            known[t.id] = own[t.id]
        elif _valid(case.timings.durations.get(t.id)):
            known[t.id] = case.timings.durations[t.id]
    every = list(known.values())
    result = {}
    for t in members:
        if t.id in known:
            result[t.id] = known[t.id]
            continue
        same_file = [known[m.id] for m in members if m.file == t.file and m.id in known]
        if same_file:
            result[t.id] = statistics.median(same_file)
        elif every:
            result[t.id] = statistics.median(every)
        else:
            assert case.config.default_duration is not None  # the strategy always sets it
            result[t.id] = case.config.default_duration
    return result


def _plan(case: Case, mode: Literal["parallel", "serial"] = "parallel") -> Plan:
    return make_plan(case.config, case.tests, case.timings, mode=mode, mode_reason="test")


@settings(max_examples=150, deadline=None)
@given(cases())
def test_parallel_plan_keeps_every_rule(case: Case) -> None:
    plan = _plan(case)
    expected = expected_instances(case)
    config = case.config
    overhead = config.shard_overhead
    if not case.tests:
        assert [s.id for s in plan.shards] == [EMPTY_SHARD_ID]
        assert plan.shards[0].tests == [] and plan.warnings
        return
    ids = [s.id for s in plan.shards]
    assert len(ids) == len(set(ids))
    assert {s.lane for s in plan.shards} == set(expected)
    assert [lp.name for lp in plan.lanes] == [n for n in _order(case) if n in expected]
    ceiling = min(config.max_shards, config.shards if isinstance(config.shards, int) else 256)
    assert len(plan.shards) <= max(ceiling, len(expected))
    for name, (members, lane) in expected.items():
        shards = [s for s in plan.shards if s.lane == name]
        # every test of the lane exactly once, per fan-out value
        planned = [t for s in shards for t in s.tests]
        assert sorted(planned) == sorted(t.id for t in members)
        assert all(s.tests for s in shards), "an empty shard"
        assert [s.id for s in shards] == [f"{name}-{n}" for n in range(1, len(shards) + 1)]
        assert all(SAFE_ID.match(s.id) for s in shards)
        if lane is not None and lane.mode == "sequential":
            assert len(shards) == 1 and plan.sequential(shards[0])
        if lane is not None and lane.max_shards is not None:
            assert len(shards) <= lane.max_shards
        env = dict(lane.env) if lane is not None else {}
        if lane is not None and lane.backends:
            env[lane.backend_var] = name.removeprefix(f"{lane.name}-")
        seconds = expected_seconds(case, name, members)
        position = {t.id: i for i, t in enumerate(members)}
        rules = plan.lane(name)
        assert rules.env == env
        assert rules.isolated == (lane.isolated if lane is not None else True)
        for shard in shards:
            assert [piece.lane for piece in shard.slices] == [name]
            # collection order inside a shard
            assert shard.tests == sorted(shard.tests, key=position.__getitem__)
            # no learned costs: the prediction is the configured set-up plus the tests
            assert shard.prediction is not None
            assert shard.prediction.setup == overhead
            assert shard.prediction.startup == shard.prediction.finish == 0
            assert shard.predicted_seconds == shard.prediction.total
            assert math.isclose(
                shard.prediction.tests,
                math.fsum(seconds[t] for t in shard.tests),
                rel_tol=1e-9,
                abs_tol=1e-12,
            )
        lane_plan = next(lp for lp in plan.lanes if lp.name == name)
        assert lane_plan.shards == len(shards)
        assert lane_plan.makespan == max(s.predicted_seconds for s in shards)
        assert lane_plan.makespan >= lane_plan.lower_bound * (1 - 1e-9)
        total = math.fsum(seconds.values())
        if config.granularity == "test" or config.split_files:
            bound = max(total / len(shards), *seconds.values())
            assert math.isclose(lane_plan.lower_bound, overhead + bound, rel_tol=1e-9)
    assert plan.makespan == max(lp.makespan for lp in plan.lanes)
    assert plan.makespan >= plan.lower_bound * (1 - 1e-9)
    assert plan.totals.tests == sum(len(s.tests) for s in plan.shards)
    assert plan.totals.shards == len(plan.shards)
    assert plan.timings.measured + plan.timings.estimated == plan.totals.tests
    assert any(lp.critical for lp in plan.lanes)
    entries = matrix(plan)["include"]
    assert [e["shard"] for e in entries] == ids
    assert all(set(e) == {"shard", "lane", "name", "env"} for e in entries)


def _order(case: Case) -> list[str]:
    names = []
    for lane in case.config.lanes:
        names += [f"{lane.name}-{v}" for v in lane.backends] or [lane.name]
    return [*names, case.config.default_lane]


@settings(max_examples=100, deadline=None)
@given(cases(), st.randoms(use_true_random=False))
def test_same_input_same_plan_and_input_order_only_orders_tests_within_shards(
    case: Case, rng: random.Random
) -> None:
    first = _plan(case)
    assert _plan(case) == first
    shuffled = list(case.tests)
    rng.shuffle(shuffled)
    again = make_plan(
        case.config,
        shuffled,
        case.timings,
        mode="parallel",
        mode_reason="test",
    )
    assert {s.id: set(s.tests) for s in again.shards} == {s.id: set(s.tests) for s in first.shards}
    assert [s.predicted_seconds for s in again.shards] == [
        s.predicted_seconds for s in first.shards
    ]
    assert again.makespan == first.makespan


@settings(max_examples=150, deadline=None)
@given(cases(min_tests=1))
def test_serial_plan_runs_every_lane_one_after_another(case: Case) -> None:
    plan = _plan(case, mode="serial")
    expected = expected_instances(case)
    assert [s.id for s in plan.shards] == ["serial"]
    shard = plan.shards[0]
    assert plan.mode == "serial"
    assert shard.lane == "*" and all(p.lane != "*" for p in shard.slices)  # never a lane's name
    assert [p.lane for p in shard.slices] == [n for n in _order(case) if n in expected]
    for piece in shard.slices:
        members, lane = expected[piece.lane]
        rules = plan.lane(piece.lane)
        assert piece.tests == [t.id for t in members]
        assert rules.isolated == (lane.isolated if lane is not None else True)
        assert rules.sequential == (lane is not None and lane.mode == "sequential")
        assert rules.workers is None  # the serial shard never uses workers
    assert plan.makespan == plan.serial_seconds == shard.predicted_seconds
    assert shard.prediction is not None and shard.prediction.setup == plan.shard_overhead


@settings(max_examples=100, deadline=None)
@given(cases(), st.sampled_from(["parallel", "serial"]))
def test_every_plan_reads_back_as_written_and_each_slice_finds_its_lane(
    case: Case, mode: Literal["parallel", "serial"]
) -> None:
    plan = _plan(case, mode=mode)
    check_plan(plan)  # what `run` and `report` check when they read it
    raw = json.loads(plan.model_dump_json())
    assert document_from(raw, Plan, "plan.json") == plan
    assert (raw["kind"], raw["version"]) == ("shard-action-plan", 2)
    names = [lane.name for lane in plan.lanes]
    assert len(names) == len(set(names)), "a lane's rules are listed once"
    for shard in plan.shards:
        assert all(piece.lane in names for piece in shard.slices)
        assert "tests" not in raw["shards"][plan.shards.index(shard)], "no flat list in v2"
        if mode == "parallel":
            assert [piece.lane for piece in shard.slices] in ([shard.lane], [])
