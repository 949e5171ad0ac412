"""The shard-count table: each count planned by the planner itself, billed per started minute."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from shard_action.core import shardcount
from shard_action.core.config import Config
from shard_action.core.models import TestItem, Timings
from shard_action.core.plan import CountOption, Plan
from shard_action.core.planner import make_plan

TESTS = [TestItem(f"tests/t{i}.py::test", f"tests/t{i}.py") for i in range(8)]
TIMINGS = Timings(durations={t.id: 50.0 for t in TESTS})  # 400 s of tests in 8 equal files


def _plan_for(k: int) -> Plan:
    config = Config(shards=k, shard_overhead=10.0)
    return make_plan(config, TESTS, TIMINGS, mode="parallel", mode_reason="test")


def test_each_count_gives_wall_billed_minutes_and_speedup() -> None:
    found = shardcount.options(_plan_for, [1, 2, 4, 8, 16])
    # 16 cannot be used (8 tests): it plans 8 shards again and is shown once
    assert [o.shards for o in found] == [1, 2, 4, 8]
    # walls: 10 s set-up + 400 / k s of tests
    assert [o.wall for o in found] == [410.0, 210.0, 110.0, 60.0]
    # billed: each job rounded up to the minute: 1 x 7, 2 x 4, 4 x 2, 8 x 1
    assert [o.billed_minutes for o in found] == [7, 8, 8, 8]
    assert found[0].speedup == 1.0
    assert round(found[3].speedup, 3) == round(410 / 60, 3)


def test_choose_takes_the_cheapest_count_that_meets_the_target_else_the_fastest() -> None:
    found = shardcount.options(_plan_for, [1, 2, 4, 8])
    assert shardcount.choose(found, 300.0).shards == 2  # 2 and 4 and 8 meet it; 2 is cheapest
    assert shardcount.choose(found, 500.0).shards == 1
    assert shardcount.choose(found, 5.0).shards == 8  # nothing meets it: the fastest
    assert shardcount.choose(found, None).shards == 8


def test_the_cost_choice_writes_times_like_every_other_view() -> None:
    reached = shardcount.by_cost(_plan_for, 8, 300.0)
    critical = [lane.capped_by for lane in reached.lanes if lane.critical]
    assert critical and critical[0] is not None and "target-time 5 m 00 s:" in critical[0]
    missed = shardcount.by_cost(_plan_for, 8, 30.0)
    warning = next(w for w in missed.warnings if "target-time" in w)
    assert "target-time 30 s: planned the fastest, 8 shards (1 m 00 s)" in warning, warning


def test_plan_explain_prints_the_table(tmp_path: Path) -> None:
    tests = tmp_path / "tests"
    tests.mkdir()
    for n in range(3):
        (tests / f"test_m{n}.py").write_text("def test_a():\n    pass\n", encoding="utf-8")
    durations = {f"tests/test_m{n}.py::test_a": 40.0 for n in range(3)}
    (tmp_path / "d.json").write_text(json.dumps(durations), encoding="utf-8")
    # a test list: no collection, so no start-up estimated from it (core.estimate.first_costs)
    (tmp_path / "ids.txt").write_text("\n".join(durations), encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "shard_action", "plan", "--explain", "--no-history",
         "--timings", "d.json", "--tests-from", "ids.txt", "--shard-overhead", "30",
         "--out", "out"],
        cwd=tmp_path, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    rows = proc.stdout.split("shard counts", 1)[1].splitlines()[1:]
    assert rows[0].split() == ["shards", "wall", "billed", "min", "speed-up"]
    # 1 shard: 30 + 120 s = 2 m 30 s, 3 min; 2: 30 + 80 s, 2 x 2 min; 3: 30 + 40 s, 3 x 2 min
    assert rows[1].split()[:5] == ["1", "2", "m", "30", "s"] and rows[1].split()[5] == "3"
    assert rows[2].split()[:5] == ["2", "1", "m", "50", "s"] and rows[2].split()[5] == "4"
    assert rows[3].split()[:3] == ["3", "1", "m"] and rows[3].split()[5] == "6"


def test_the_counts_between_two_candidates_are_all_planned_or_evenly_spread() -> None:
    assert shardcount.between(4, 6) == [5]
    assert shardcount.between(3, 4) == []
    assert shardcount.between(48, 64) == list(range(49, 64))  # 15: every one
    wide = shardcount.between(128, 192)  # 63 counts: 16 of them, about every 3.8
    assert len(wide) == 16 and wide[:2] == [132, 136] and wide[-1] == 188


def _option(shards: int, wall: float, minutes: int) -> CountOption:
    return CountOption(shards=shards, wall=wall, billed_minutes=minutes, speedup=1.0)


def test_the_fastest_is_the_cheapest_of_the_counts_within_a_tolerance_of_it() -> None:
    # a millisecond faster does not justify 2 more billed minutes
    six, eight = _option(6, 4.56, 6), _option(8, 4.559, 8)
    assert shardcount.choose([six, eight], None) == six
    assert shardcount.choose([six, eight], 1.0) == six  # out of reach: the same rule
    # the tolerance is 0.5 s or 1 % of the fastest wall, whichever is larger: 200 s is within
    # 2 s of 198.5 s, 201 s is not
    fast, near, far = _option(8, 198.5, 32), _option(6, 200.0, 24), _option(4, 201.0, 16)
    assert shardcount.choose([far, near, fast], None) == near
    # equal minutes within the tolerance: fewer shards
    assert shardcount.choose([_option(4, 10.2, 4), _option(3, 10.4, 4)], None).shards == 3
