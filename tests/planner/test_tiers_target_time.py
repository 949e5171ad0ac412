"""A target-time with a first tier is the whole stage's, and ``plan --explain`` plans the tier."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from shard_action.core.config import Config
from shard_action.core.models import TestItem, Timings
from shard_action.core.plan import Plan
from shard_action.core.planner import make_plan
from shard_action.core.tiers import count_options, plan_in_tiers

# 4 smoke tests of 2 s and 40 other tests of 3 s, one file each; 10 s set-up per job
SMOKE = [TestItem(f"tests/s{i}.py::t", f"tests/s{i}.py", frozenset({"smoke"})) for i in range(4)]
REST = [TestItem(f"tests/r{i:02}.py::t", f"tests/r{i:02}.py") for i in range(40)]
TIMINGS = Timings(durations={**{t.id: 2.0 for t in SMOKE}, **{t.id: 3.0 for t in REST}})
TIERS = [{"name": "smoke", "markers": ["smoke"]}]


def _make(tests: Sequence[TestItem], notes: Sequence[str], config: Config) -> Plan:
    return make_plan(config, tests, TIMINGS, mode="parallel", mode_reason="t", warnings=notes)


def _config(**settings: object) -> Config:
    return Config.model_validate(
        {"tiers": TIERS, "first_tier": "smoke", "shard_overhead": 10, **settings}
    )


def test_the_first_tier_and_the_rest_together_finish_within_the_target() -> None:
    plan = plan_in_tiers(
        _config(shards="auto", target_time=60, max_shards=8), [*SMOKE, *REST], _make, []
    )
    first = max(s.predicted_seconds for s in plan.shards if s.first)
    rest = max(s.predicted_seconds for s in plan.shards if not s.first)
    # by hand: the smoke tier alone (auto) is one job of 10 + 8 s = 18 s; 42 s are left for the
    # rest: 120 s of tests need 4 shards (10 + 30 = 40 s); planned for 60 s on its own, the rest
    # took 2 shards (10 + 60 = 70 s) and the stage 88 s
    assert first == pytest.approx(18.0)
    assert rest <= 42.0
    assert plan.makespan == pytest.approx(first + rest) and plan.makespan <= 60
    assert any("the whole stage's: the first tier takes 18 s" in w for w in plan.warnings)
    # the counts table is the stage's: the first tier's 18 s are in every wall
    assert all(option.wall >= 18.0 + 10 for option in plan.counts)
    assert [o.shards for o in plan.counts if o.chosen] == [len(plan.shards) - 1]


def test_explain_plans_each_count_for_the_tier_and_its_first_tier() -> None:
    config = _config(tier="smoke", shards="auto", max_shards=4)
    # the smoke tier is 4 tests of 2 s: one shard is 18 s, two 14 s, four 12 s; never the
    # full suite's 120 s of other tests
    options = count_options(config, [*SMOKE, *REST], _make)
    assert [o.shards for o in options] == [1, 2, 3, 4]
    assert [o.wall for o in options] == pytest.approx([18.0, 14.0, 14.0, 12.0])
