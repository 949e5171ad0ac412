"""Worked examples of planning decisions, with figures computed by hand."""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Sequence
from typing import Literal

import pytest

from shard_action.core.config import Config, LaneConfig
from shard_action.core.matrix import matrix
from shard_action.core.models import TestItem, Timings
from shard_action.core.plan import EMPTY_SHARD_ID, Plan, PlannedShard
from shard_action.core.planner import make_plan


def _tests(spec: dict[str, int], *markers: str) -> list[TestItem]:
    """``{"tests/a.py": 3}`` -> tests/a.py::t0 .. t2."""
    return [
        TestItem(id=f"{file}::t{i}", file=file, markers=frozenset(markers))
        for file, count in spec.items()
        for i in range(count)
    ]


def _plan(
    config: Config,
    tests: list[TestItem],
    durations: dict[str, float],
    *,
    by_lane: dict[str, dict[str, float]] | None = None,
    mode: Literal["parallel", "serial"] = "parallel",
    warnings: Sequence[str] = (),
) -> Plan:
    timings = Timings(durations=durations, by_lane=by_lane or {})
    return make_plan(config, tests, timings, mode=mode, mode_reason="test", warnings=warnings)


def _tests_of(shard: PlannedShard) -> float:
    """The shard's predicted test time (its prediction without the fixed costs)."""
    assert shard.prediction is not None
    return shard.prediction.tests


def _shard_of(plan: Plan, test_id: str) -> str:
    return next(s.id for s in plan.shards if test_id in s.tests)


def test_estimates_use_the_file_median_then_the_lane_median_then_the_default() -> None:
    tests = _tests({"tests/a.py": 4, "tests/b.py": 1})
    known = {"tests/a.py::t0": 1.0, "tests/a.py::t1": 2.0, "tests/a.py::t2": 10.0}
    plan = _plan(Config(shards=1), tests, known)
    # a.py::t3 -> median(1, 2, 10) = 2; b.py::t0 -> lane median, the same three values = 2
    assert _tests_of(plan.shards[0]) == 1 + 2 + 10 + 2 + 2
    assert plan.shards[0].estimated_tests == 2
    assert (plan.timings.measured, plan.timings.estimated) == (3, 2)
    nothing_known = _plan(Config(shards=1, default_duration=0.5), tests, {})
    assert _tests_of(nothing_known.shards[0]) == 5 * 0.5


def test_invalid_timings_count_as_missing_and_zero_counts_as_known() -> None:
    tests = _tests({"tests/a.py": 4})
    durations = {
        "tests/a.py::t0": 4.0,
        "tests/a.py::t1": math.nan,
        "tests/a.py::t2": -3.0,
        "tests/a.py::t3": 0.0,
    }
    plan = _plan(Config(shards=1), tests, durations)
    # t1, t2 -> median(4, 0) = 2
    assert _tests_of(plan.shards[0]) == 4 + 2 + 2 + 0
    assert plan.shards[0].estimated_tests == 2


def test_a_lane_instance_timing_wins_over_the_pooled_one() -> None:
    config = Config(
        shards=1,
        lanes=[LaneConfig(name="db", markers=["db"], backends=["sqlite", "pg"])],
    )
    tests = _tests({"tests/db.py": 2}, "db")
    pooled = {"tests/db.py::t0": 1.0, "tests/db.py::t1": 1.0}
    plan = _plan(config, tests, pooled, by_lane={"db-pg": {"tests/db.py::t0": 7.0}})
    by_lane = {s.lane: s for s in plan.shards}
    assert _tests_of(by_lane["db-sqlite"]) == 2.0
    assert _tests_of(by_lane["db-pg"]) == 8.0
    assert plan.lane("db-pg").env == {"BACKEND": "pg"}
    assert by_lane["db-sqlite"].tests == by_lane["db-pg"].tests == [t.id for t in tests]
    assert plan.totals.tests == 4


def test_auto_shard_count_stops_where_a_shard_saves_less_than_it_costs() -> None:
    # One lane of 3600 one-second tests, 30 s per shard: wall(K) + 30 K = 30 + 3600/K + 30 K,
    # smallest at K = 11 (690 at 10, 687.3 at 11, 690 at 12).
    tests = _tests({f"tests/t{f}.py": 100 for f in range(36)})
    plan = _plan(Config(shard_overhead=30.0), tests, {t.id: 1.0 for t in tests})
    assert plan.totals.shards == 11
    assert plan.makespan == pytest.approx(30 + 3600 / 11, abs=1.0)
    assert plan.lanes[0].capped_by and "shard-overhead" in plan.lanes[0].capped_by
    # Without overhead every shard pays until max-shards.
    free = _plan(Config(shard_overhead=0.0, max_shards=20), tests, {t.id: 1.0 for t in tests})
    assert free.totals.shards == 20
    assert free.lanes[0].capped_by == "max-shards 20"


def test_auto_with_no_overhead_stops_when_the_longest_test_decides() -> None:
    tests = _tests({"tests/a.py": 11})
    durations = {t.id: 1.0 for t in tests} | {"tests/a.py::t0": 10.0}
    plan = _plan(Config(shard_overhead=0.0), tests, durations)
    assert plan.totals.shards == 2  # total 20: two shards of 10 s; a third cannot beat 10 s
    assert plan.makespan == 10.0


def test_a_shard_number_above_the_test_count_gives_one_test_per_shard() -> None:
    tests = _tests({"tests/a.py": 3})
    plan = _plan(Config(shards=10), tests, {t.id: 1.0 for t in tests})
    assert [len(s.tests) for s in plan.shards] == [1, 1, 1]
    assert any("using 3" in w for w in plan.warnings)


def test_a_fixed_shard_count_is_used_even_where_the_bound_is_flat() -> None:
    # More shards cannot beat the 10 s test, but they leave slack against timing noise.
    tests = _tests({"tests/a.py": 11})
    durations = {t.id: 1.0 for t in tests} | {"tests/a.py::t0": 10.0}
    plan = _plan(Config(shards=4, shard_overhead=0.0), tests, durations)
    assert plan.totals.shards == 4
    assert sorted(_tests_of(s) for s in plan.shards) == [3.0, 3.0, 4.0, 10.0]


def test_file_granularity_keeps_files_whole_and_splits_only_an_oversized_file() -> None:
    tests = _tests({"tests/big.py": 10, "tests/a.py": 2, "tests/b.py": 2, "tests/c.py": 2})
    durations = {t.id: (10.0 if "big" in t.id else 2.5) for t in tests}  # 100 + 3 x 5 = 115
    config = Config(shards=4, shard_overhead=0.0, granularity="file")
    plan = _plan(config, tests, durations)
    for small in ("tests/a.py", "tests/b.py", "tests/c.py"):
        assert len({_shard_of(plan, f"{small}::t{i}") for i in range(2)}) == 1
    assert len({_shard_of(plan, f"tests/big.py::t{i}") for i in range(10)}) > 1
    assert plan.makespan == 30.0  # 115 / 4 = 28.75 is out of reach in 10 s steps
    whole = _plan(config.model_copy(update={"split_files": False}), tests, durations)
    assert len({_shard_of(whole, f"tests/big.py::t{i}") for i in range(10)}) == 1
    assert whole.makespan == 100.0
    assert whole.lower_bound == 100.0  # the bound knows the file cannot be split


def test_test_granularity_keeps_files_together_when_that_costs_nothing() -> None:
    # Eight files of 10 s each, in four tests: four shards of exactly two whole files.
    tests = _tests({f"tests/f{f}.py": 4 for f in range(8)})
    durations = {t.id: float(1 + int(t.id[-1])) for t in tests}  # 1 + 2 + 3 + 4 = 10 per file
    plan = _plan(Config(shards=4, shard_overhead=0.0), tests, durations)
    assert plan.makespan == 20.0
    for f in range(8):
        assert len({_shard_of(plan, f"tests/f{f}.py::t{i}") for i in range(4)}) == 1


def test_an_oversized_file_is_cut_into_runs_of_neighbouring_ids() -> None:
    # Runs of neighbours in id order (a class's tests and a test's parameters stay together),
    # each at most half a shard: four shards of two runs of five, not 40 scattered tests.
    tests = _tests({"tests/big.py": 40})
    durations = {t.id: 1.0 for t in tests}
    plan = _plan(Config(shards=4, shard_overhead=0.0), tests, durations)
    assert [len(s.tests) for s in plan.shards] == [10, 10, 10, 10]
    rank = {name: i for i, name in enumerate(sorted(t.id for t in tests))}
    for shard in plan.shards:
        positions = sorted(rank[t] for t in shard.tests)
        runs = 1 + sum(1 for a, b in itertools.pairwise(positions) if b != a + 1)
        assert runs <= 2


def test_a_sequential_lane_on_the_critical_path_is_flagged() -> None:
    config = Config(
        shards=4,
        shard_overhead=0.0,
        lanes=[LaneConfig(name="e2e", markers=["e2e"], mode="sequential")],
    )
    tests = _tests({"tests/e2e.py": 10}, "e2e") + _tests({"tests/unit.py": 10})
    durations = {t.id: (10.0 if "e2e" in t.id else 1.0) for t in tests}
    plan = _plan(config, tests, durations)
    e2e = next(lp for lp in plan.lanes if lp.name == "e2e")
    assert e2e.critical and e2e.shards == 1 and e2e.capped_by == "sequential lane"
    assert plan.makespan == 100.0
    assert any("sequential lane 'e2e' is the critical path" in w for w in plan.warnings)
    assert not next(lp for lp in plan.lanes if lp.name == "default").critical
    shard = next(s for s in plan.shards if s.lane == "e2e")
    assert plan.sequential(shard) and shard.tests == [t.id for t in tests[:10]]


def test_lane_budget_follows_the_work() -> None:
    config = Config(shards=6, shard_overhead=0.0, lanes=[LaneConfig(name="db", markers=["db"])])
    tests = _tests({"tests/db.py": 40}, "db") + _tests({"tests/unit.py": 20})
    plan = _plan(config, tests, {t.id: 1.0 for t in tests})
    shards = {lp.name: lp.shards for lp in plan.lanes}
    assert shards == {"db": 4, "default": 2}
    assert plan.makespan == 10.0


def test_lane_max_shards_caps_the_lane() -> None:
    config = Config(
        shards=8, shard_overhead=0.0, lanes=[LaneConfig(name="db", markers=["db"], max_shards=2)]
    )
    tests = _tests({"tests/db.py": 40}, "db") + _tests({"tests/unit.py": 4})
    plan = _plan(config, tests, {t.id: 1.0 for t in tests})
    db = next(lp for lp in plan.lanes if lp.name == "db")
    assert db.shards == 2 and db.critical and db.capped_by == "lane max-shards 2"


def test_serial_mode_runs_lanes_in_config_order_with_the_default_lane_last() -> None:
    config = Config(
        lanes=[
            LaneConfig(name="slow", markers=["slow"], mode="sequential", isolated=False),
            LaneConfig(name="db", markers=["db"], backends=["a", "b"]),
        ]
    )
    tests = _tests({"tests/u.py": 2}) + _tests({"tests/d.py": 1}, "db")
    tests += _tests({"tests/s.py": 1}, "slow")
    plan = _plan(config, tests, {t.id: 1.0 for t in tests}, mode="serial")
    shard = plan.shards[0]
    assert shard.id == "serial"
    rules = [plan.lane(p.lane) for p in shard.slices]
    assert [
        (p.lane, len(p.tests), r.sequential, r.isolated)
        for p, r in zip(shard.slices, rules, strict=True)
    ] == [
        ("slow", 1, True, False),
        ("db-a", 1, False, True),
        ("db-b", 1, False, True),
        ("default", 2, False, True),
    ]
    assert shard.tests == [
        "tests/s.py::t0",
        "tests/d.py::t0",
        "tests/d.py::t0",
        "tests/u.py::t0",
        "tests/u.py::t1",
    ]
    assert rules[1].env == {"BACKEND": "a"}
    assert plan.makespan == plan.serial_seconds == 30.0 + 5.0


def test_an_empty_suite_still_gives_a_valid_matrix() -> None:
    plan = _plan(Config(), [], {})
    assert [s.id for s in plan.shards] == [EMPTY_SHARD_ID]
    assert plan.shards[0].tests == []
    assert any("no tests" in w for w in plan.warnings)
    assert matrix(plan) == {
        "include": [{"shard": "none", "lane": "default", "name": "no tests", "env": {}}]
    }


def test_duplicate_ids_are_planned_once_with_a_warning() -> None:
    tests = _tests({"tests/a.py": 2}) * 2
    plan = _plan(Config(shards=2), tests, {})
    assert sorted(t for s in plan.shards for t in s.tests) == ["tests/a.py::t0", "tests/a.py::t1"]
    assert any("2 duplicate" in w for w in plan.warnings)


def test_warnings_from_the_caller_come_first() -> None:
    plan = _plan(Config(), _tests({"tests/a.py": 1}), {}, warnings=["from ingest"])
    assert plan.warnings[0] == "from ingest"


def test_matrix_holds_ids_lanes_names_and_env_only() -> None:
    config = Config(
        shards=3,
        lanes=[LaneConfig(name="db", markers=["db"], backends=["pg"], env={"TZ": "UTC"})],
    )
    tests = _tests({"tests/db.py": 3}, "db") + _tests({"tests/u.py": 3})
    plan = _plan(config, tests, {t.id: 1.0 for t in tests})
    result = matrix(plan)
    assert json.loads(json.dumps(result)) == result
    assert result["include"] == [
        {"shard": s.id, "lane": s.lane, "name": s.name, "env": env}
        for s in plan.shards
        for env in [{"TZ": "UTC", "BACKEND": "pg"} if s.lane == "db-pg" else {}]
    ]
    assert "tests/db.py::t0" not in json.dumps(result)
    db = [e for e in result["include"] if e["lane"] == "db-pg"]
    assert db and all(e["env"] == {"TZ": "UTC", "BACKEND": "pg"} for e in db)
    assert [e["shard"] for e in db] == [f"db-pg-{n}" for n in range(1, len(db) + 1)]
    assert all(e["name"].startswith("db-pg") for e in db)


def test_plan_round_trips_through_json() -> None:
    tests = _tests({"tests/a.py": 5})
    plan = _plan(Config(shards=2), tests, {t.id: 1.0 for t in tests})
    assert Plan.model_validate_json(plan.model_dump_json()) == plan


def test_runner_settings_and_lane_limits_travel_in_the_plan() -> None:
    config = Config(
        shards=2,
        reruns=4,
        fail_on_flaky=True,
        coverage=False,
        coverage_core="ctrace",
        pytest_args=["-x"],
        python="/opt/py/bin/python",
        lanes=[LaneConfig(name="db", markers=["db"], timeout=90.0, memory_mb=512)],
    )
    tests = _tests({"tests/db.py": 2}, "db") + _tests({"tests/u.py": 2})
    for mode in ("parallel", "serial"):
        plan = _plan(config, tests, {}, mode=mode)
        assert plan.runner.model_dump() == {
            "reruns": 4,
            "early_flake_runs": 0,  # set by core.early_flakes when it places extra runs
            "fail_on_flaky": True,
            "coverage": False,
            "coverage_core": "ctrace",
            "pytest_args": ["-x"],
            "command": None,
            "python": "/opt/py/bin/python",
        }
        runs = {lane.name: lane for lane in plan.lanes}
        assert (runs["db"].timeout, runs["db"].memory_mb) == (90.0, 512)
        assert (runs["default"].timeout, runs["default"].memory_mb) == (None, None)
