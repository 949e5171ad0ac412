"""The planner predicts each shard with the learned costs, and keeps every planning rule."""

from __future__ import annotations

import math
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shard_action.core.config import Config, LaneConfig
from shard_action.core.models import TestItem, Timings
from shard_action.core.plan import Plan
from shard_action.core.planner import make_plan
from shard_action.core.prediction import Costs
from shard_action.core.workers import WORKER_STARTUP
from tests.planner.test_plan_properties import FILES, Case, cases


def _items(spec: dict[str, int]) -> list[TestItem]:
    return [TestItem(id=f"{f}::t{i}", file=f) for f, n in spec.items() for i in range(n)]


def test_each_shard_is_predicted_with_its_lanes_costs_and_its_own_files() -> None:
    tests = _items({"tests/a.py": 1, "tests/b.py": 1})
    timings = Timings(durations={t.id: 10.0 for t in tests})
    costs = {
        "default": Costs(
            setup=20.0, interpreter=1.0, finish=0.5, files={"tests/a.py": 3.0, "tests/b.py": 0.2}
        )
    }
    plan = make_plan(
        Config(shards=2), tests, timings, mode="parallel", mode_reason="t", costs=costs
    )
    by_files = {frozenset(t.split("::")[0] for t in s.tests): s for s in plan.shards}
    a, b = by_files[frozenset({"tests/a.py"})], by_files[frozenset({"tests/b.py"})]
    assert a.prediction is not None and b.prediction is not None
    assert (a.prediction.setup, a.prediction.startup, a.prediction.tests) == (20.0, 4.0, 10.0)
    assert b.prediction.startup == pytest.approx(1.2)
    assert a.predicted_seconds == pytest.approx(20 + 4 + 10 + 0.5)
    assert plan.makespan == pytest.approx(a.predicted_seconds)
    # one job: one set-up, one interpreter, both files, every test
    assert plan.serial_seconds == pytest.approx(20 + 1 + 3.2 + 20 + 0.5)
    serial = make_plan(Config(), tests, timings, mode="serial", mode_reason="t", costs=costs)
    # the serial shard (lane `*`) has no costs of its own here: each lane's, one set-up
    assert serial.makespan == pytest.approx(plan.serial_seconds)


costs_strategy = st.builds(
    Costs,
    setup=st.none() | st.floats(0, 60),
    interpreter=st.none() | st.floats(0, 5),
    finish=st.none() | st.floats(0, 5),
    files=st.dictionaries(st.sampled_from(FILES[:-1]), st.floats(0, 4)),
    scopes=st.dictionaries(st.sampled_from(FILES), st.floats(0, 4)),  # module fixtures
)


@settings(max_examples=150, deadline=None)
@given(cases(min_tests=1), costs_strategy)
def test_with_learned_costs_every_rule_still_holds(case: Case, lane_costs: Costs) -> None:
    names = {lane.name for lane in case.config.lanes} | {case.config.default_lane}
    expanded = names | {f"{lane.name}-{v}" for lane in case.config.lanes for v in lane.backends}
    costs = {name: lane_costs for name in expanded}

    def planned() -> Plan:
        return make_plan(
            case.config, case.tests, case.timings, mode="parallel", mode_reason="t", costs=costs
        )

    plan = planned()
    assert plan == planned()  # deterministic
    ran = Counter((s.lane, t) for s in plan.shards for t in s.tests)
    assert all(n == 1 for n in ran.values())
    assert sum(ran.values()) == plan.totals.tests
    for s in plan.shards:
        assert s.prediction is not None
        assert math.isclose(s.predicted_seconds, s.prediction.total, rel_tol=1e-12)
        assert s.prediction.setup == (
            case.config.shard_overhead if lane_costs.setup is None else lane_costs.setup
        )
    assert plan.makespan == max(s.predicted_seconds for s in plan.shards)
    assert plan.makespan >= plan.lower_bound * (1 - 1e-9)


def test_a_file_with_a_heavy_import_stays_in_one_shard_once_its_cost_is_known() -> None:
    # four files of four 1 s tests; heavy.py takes 6 s to import, the others 0.1 s
    names = ["tests/heavy.py", "tests/x.py", "tests/y.py", "tests/z.py"]
    tests = _items(dict.fromkeys(names, 4))
    timings = Timings(durations={t.id: 1.0 for t in tests})
    files = {name: 6.0 if "heavy" in name else 0.1 for name in names}
    known = {"default": Costs(setup=0.0, interpreter=0.5, finish=0.0, files=files)}

    def heavy_shards(costs: dict[str, Costs]) -> int:
        plan = make_plan(Config(shards=2), tests, timings, mode="parallel", mode_reason="t",
                         costs=costs)  # fmt: skip
        return sum(any(t.startswith("tests/heavy.py") for t in s.tests) for s in plan.shards)

    assert heavy_shards(known) == 1
    plan = make_plan(Config(shards=2), tests, timings, mode="parallel", mode_reason="t",
                     costs=known)  # fmt: skip
    # by hand: heavy.py alone, 0.5 + 6 + 4 = 10.5 s; the other three, 0.5 + 0.3 + 12 = 12.8 s
    assert plan.makespan <= 12.8 + 1e-9


def test_the_lower_bound_counts_each_files_collection_once_and_the_heaviest_file_whole() -> None:
    # two files of two 0.5 s tests; a.py takes 8 s to import, b.py 2 s; set-up 10 s
    tests = _items({"tests/a.py": 2, "tests/b.py": 2})
    timings = Timings(durations={t.id: 0.5 for t in tests})
    files = {"tests/a.py": 8.0, "tests/b.py": 2.0}
    costs = {"default": Costs(setup=10.0, interpreter=1.0, finish=0.5, files=files)}
    plan = make_plan(
        Config(shards=4), tests, timings, mode="parallel", mode_reason="t", costs=costs
    )
    fixed = 10.0 + 1.0 + 0.5
    # by hand: the shard that holds a test of a.py collects a.py: 8 + 0.5; all of it over
    # the shards is (8 + 2 + 4 * 0.5) / shards
    shards = len(plan.shards)
    assert plan.lower_bound == pytest.approx(fixed + max(8.5, 12.0 / shards))
    assert plan.makespan >= plan.lower_bound * (1 - 1e-9)


def test_shards_auto_weighs_one_more_shard_against_the_learned_set_up() -> None:
    # 40 tests of 1 s: with shard-overhead 1 s auto takes several shards; a learned set-up of
    # 60 s per shard makes one more shard cost more than it saves (here: one shard)
    tests = _items({f"tests/t{n}.py": 4 for n in range(10)})
    timings = Timings(durations={t.id: 1.0 for t in tests})
    config = Config(shards="auto", shard_overhead=1.0)
    cheap = make_plan(config, tests, timings, mode="parallel", mode_reason="t")
    dear = make_plan(config, tests, timings, mode="parallel", mode_reason="t",
                     costs={"default": Costs(setup=60.0)})  # fmt: skip
    assert len(cheap.shards) >= 4
    # k shards cost 40 / k + 60 k: k = 1 gives 100, k = 2 gives 140
    assert len(dear.shards) == 1


def test_a_lane_with_workers_keeps_a_heavy_import_in_one_shard_too() -> None:
    """Worker lanes at test granularity were partitioned blind to the files' costs (a bug: the
    heavy file was split, and both shards paid its 6 s import: 12.1 s against 10 s)."""
    names = ["tests/heavy.py", "tests/x.py", "tests/y.py", "tests/z.py"]
    tests = _items(dict.fromkeys(names, 4))
    timings = Timings(durations={t.id: 1.0 for t in tests})
    files = {name: 6.0 if "heavy" in name else 0.1 for name in names}
    costs = {"default": Costs(setup=0.0, interpreter=0.5, finish=0.0, files=files)}
    for granularity in ("test", "file"):
        config = Config(
            shards=2, granularity=granularity, lanes=[LaneConfig(name="default", workers=2)]
        )
        plan = make_plan(config, tests, timings, mode="parallel", mode_reason="t", costs=costs)
        holding = [s for s in plan.shards if any(t.startswith("tests/heavy.py") for t in s.tests)]
        assert len(holding) == 1, granularity
        # by hand: heavy.py alone, 0.5 + 6 + 4 x 1 s over two workers + their start-up; the
        # other twelve: 0.5 + 0.3 + 6 + start-up
        assert plan.makespan == pytest.approx(0.5 + 6 + 2 + WORKER_STARTUP), granularity
