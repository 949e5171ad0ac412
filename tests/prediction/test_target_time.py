"""``shards = "auto"`` with ``target-time``: the cheapest count that meets it, else the fastest."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from shard_action.commands.plan import plan_summary
from shard_action.core.config import Config, LaneConfig
from shard_action.core.models import TestItem, Timings
from shard_action.core.plan import Plan
from shard_action.core.planner import make_plan
from shard_action.core.tiers import plan_in_tiers

# 40 tests of 3 s in 40 files: 120 s of tests, 30 s set-up per job (shard-overhead)
TESTS = [TestItem(id=f"tests/t{i:02}.py::t", file=f"tests/t{i:02}.py") for i in range(40)]
TIMINGS = Timings(durations={t.id: 3.0 for t in TESTS})


def _make(tests: Sequence[TestItem], notes: Sequence[str], config: Config) -> Plan:
    return make_plan(config, tests, TIMINGS, mode="parallel", mode_reason="t", warnings=notes)


def _plan(target: float | None, max_shards: int = 8) -> Plan:
    config = Config(shards="auto", target_time=target, max_shards=max_shards, shard_overhead=30)
    return make_plan(config, TESTS, TIMINGS, mode="parallel", mode_reason="t")


def test_the_cheapest_count_within_the_target_wins_fewer_shards_on_a_tie() -> None:
    # by hand: k=1: 150 s, 3 billed min; k=2: 90 s, 2 x 2 = 4; k=3: 72 s (14 tests), 6;
    # k=4: 60 s, 4 x 1 = 4; k=6: 51 s (7 tests), 6; k=8: 45 s, 8
    assert len(_plan(100).shards) == 2  # 2 and 4 both bill 4 minutes: fewer shards
    assert len(_plan(65).shards) == 4
    plan = _plan(100)
    assert [(c.shards, c.billed_minutes, c.chosen) for c in plan.counts] == [
        (1, 3, False),
        (2, 4, True),
        (3, 6, False),
        (4, 4, False),
        (6, 6, False),
        (8, 8, False),
    ]
    assert [c.wall for c in plan.counts] == pytest.approx([150, 90, 72, 60, 51, 45])
    assert plan.counts[1].speedup == pytest.approx(150 / 90)
    critical = next(lane for lane in plan.lanes if lane.critical)
    assert critical.capped_by is not None and "target-time 1 m 40 s" in critical.capped_by
    assert not plan.warnings
    summary = plan_summary(plan)[0]
    assert "| 2 | 1 m 30 s | 4 | 1.7\u00d7 faster | chosen |" in summary


def test_out_of_reach_takes_the_fastest_within_max_shards_and_says_so() -> None:
    plan = _plan(10, max_shards=6)
    assert len(plan.shards) == 6
    assert plan.makespan == pytest.approx(51)
    assert any("target-time 10 s" in w and "fastest, 6 shards" in w for w in plan.warnings)


def test_without_a_target_auto_keeps_its_rule_and_records_no_counts() -> None:
    plan = _plan(None)
    assert plan.counts == []


def test_without_a_target_the_summary_shows_the_count_auto_chose() -> None:
    # auto (30 s to start a shard) stops at 2 shards: a third would save 90 - 72 = 18 s, less
    # than its 30 s; by hand 2 x (30 + 60 s) = 2 x 2 billed minutes, 150 / 90 = 1.7x faster.
    # The other counts are not planned (auto judges them on lane bounds, no partition), so the
    # row is the plan's own and the summary points to --explain for the others
    config = Config(shards="auto", max_shards=8, shard_overhead=30)
    plan = plan_in_tiers(config, TESTS, _make, [])
    assert len(plan.shards) == 2
    assert [(c.shards, c.wall, c.billed_minutes, c.chosen) for c in plan.counts] == [
        (2, 90.0, 4, True)
    ]
    summary = plan_summary(plan)[0]
    assert "| 2 | 1 m 30 s | 4 | 1.7\u00d7 faster | chosen |" in summary
    assert "`plan --explain`" in summary
    fixed = plan_in_tiers(config.model_copy(update={"shards": 3}), TESTS, _make, [])
    assert fixed.counts == [] and "`plan --explain`" not in plan_summary(fixed)[0]


def test_lanes_that_need_more_shards_than_max_shards_get_no_warning_about_a_count_not_set() -> None:
    # four lanes (three by path, the default) need four shards; max-shards 3 cannot give fewer,
    # so every count planned gives 4 shards: the warning must not name a count the user never set
    config = Config(
        shards="auto",
        target_time=10,
        max_shards=3,
        shard_overhead=30,
        lanes=[LaneConfig(name=n, paths=[f"tests/t0{i}.py"]) for i, n in enumerate("abc")],
    )
    plan = make_plan(config, TESTS, TIMINGS, mode="parallel", mode_reason="t")
    assert len(plan.shards) == 4
    assert not any("shards 4 is over max-shards" in w for w in plan.warnings), plan.warnings
    assert any("target-time 10 s" in w for w in plan.warnings)


def test_a_count_no_lane_could_use_is_not_named_in_the_warnings() -> None:
    # 5 tests cannot fill the 6 shards the candidate asks: it gave 5 and its plan warned "shards
    # 6: using 5"; the user set max-shards 8 and no count, so only the target's warning stays
    five = TESTS[:5]
    config = Config(shards="auto", target_time=1, max_shards=8, shard_overhead=30)
    plan = make_plan(config, five, TIMINGS, mode="parallel", mode_reason="t")
    assert len(plan.shards) == 5
    assert plan.makespan == pytest.approx(33)
    assert plan.warnings == [
        "no shard count up to max-shards 8 is predicted to finish within target-time 1.0 s: "
        "planned the fastest, 5 shards (33 s)"
    ]


def test_a_target_time_that_cannot_choose_the_count_is_said_to_be_ignored() -> None:
    config = Config(shards=3, target_time=5, shard_overhead=30)
    plan = make_plan(config, TESTS, TIMINGS, mode="parallel", mode_reason="t")
    assert plan.counts == []
    assert "target-time is ignored: shards is 3 (it chooses the count with shards: auto)" in (
        plan.warnings
    )
    assert sum("target-time" in w for w in _plan(100).warnings) == 0, "auto: no such warning"


def test_a_serial_fallback_does_not_warn_about_target_time_on_every_run() -> None:
    # the config is right for parallel mode; the mode's reason says why one job runs
    config = Config(shards="auto", target_time=5, shard_overhead=30)
    plan = make_plan(config, TESTS, TIMINGS, mode="serial", mode_reason="flaky rate 30 %")
    assert plan.counts == []
    assert len(plan.shards) == 1
    assert not any("target-time" in w for w in plan.warnings), plan.warnings


def test_a_count_between_two_candidates_is_planned_when_it_is_cheaper() -> None:
    # by hand: 4 shards (10 tests each) take 30 + 30 = 60 s, over 55 s; 6 shards (7 tests) take
    # 30 + 21 = 51 s for 6 billed minutes; 5 shards (8 tests each) take 30 + 24 = 54 s, within
    # 55 s, for 5 minutes: the cheapest count that meets the target, between the candidates
    plan = _plan(55)
    assert len(plan.shards) == 5
    assert plan.makespan == pytest.approx(54)
    assert [(c.shards, c.billed_minutes, c.chosen) for c in plan.counts] == [
        (1, 3, False),
        (2, 4, False),
        (3, 6, False),
        (4, 4, False),
        (5, 5, True),
        (6, 6, False),
        (8, 8, False),
    ]
    assert not plan.warnings


def test_a_count_past_the_first_that_meets_the_target_is_planned_when_it_is_cheaper() -> None:
    # by hand, 40 tests of 5 s (one a file), 30 s set-up a job, target 70 s, max-shards 8:
    # 1 shard takes 230 s, 4 minutes; 2 (20 tests each) 130 s, 2 x 3 = 6; 3 (14, 13, 13) 100 s
    # and 95 s, 3 x 2 = 6; 4 (10 each) 80 s, over it; 5 (8 each) 70 s, 5 x 2 = 10; 6 (7 or 6)
    # 65 s, 4 x 2 + 2 x 1 = 10; 7 (6 or 5) 60 s, 7 x 1 = 7; 8 (5 each) 55 s, 8 x 1 = 8.
    # 7 is past the gap before 6 (the first candidate that meets it), yet the cheapest
    timings = Timings(durations={t.id: 5.0 for t in TESTS})
    config = Config(shards="auto", target_time=70, max_shards=8, shard_overhead=30)
    plan = make_plan(config, TESTS, timings, mode="parallel", mode_reason="t")
    assert len(plan.shards) == 7
    assert plan.makespan == pytest.approx(60)
    assert [(c.shards, c.billed_minutes, c.chosen) for c in plan.counts] == [
        (1, 4, False),
        (2, 6, False),
        (3, 6, False),
        (4, 8, False),
        (5, 10, False),
        (6, 10, False),
        (7, 7, True),
        (8, 8, False),
    ]
    assert [c.wall for c in plan.counts] == pytest.approx([230, 130, 100, 80, 70, 65, 60, 55])
    assert not plan.warnings


NOTE = "Other shard counts: `plan --explain` predicts each up to max-shards"


def test_a_target_time_plan_of_one_row_does_not_point_to_other_counts() -> None:
    # with target-time every count was considered: one row means each gave the same shards
    # (four lanes need four, over max-shards 3; or max-shards 1), not that others went unplanned
    lanes = [LaneConfig(name=n, paths=[f"tests/t0{i}.py"]) for i, n in enumerate("abc")]
    over = Config(shards="auto", target_time=10, max_shards=3, shard_overhead=30, lanes=lanes)
    one = Config(shards="auto", target_time=200, max_shards=1, shard_overhead=30)
    for config, shards in ((over, 4), (one, 1)):
        plan = plan_in_tiers(config, TESTS, _make, [])
        assert len(plan.shards) == shards
        assert [(c.shards, c.chosen) for c in plan.counts] == [(shards, True)]
        assert plan.counts_by == "target-time"
        summary = plan_summary(plan)[0]
        assert "| chosen |" in summary
        assert NOTE not in summary


def test_auto_without_a_target_points_to_the_other_counts() -> None:
    config = Config(shards="auto", max_shards=8, shard_overhead=30)
    plan = plan_in_tiers(config, TESTS, _make, [])
    assert len(plan.counts) == 1 and plan.counts_by == "auto"
    assert NOTE in plan_summary(plan)[0]
    assert _plan(100).counts_by == "target-time"
