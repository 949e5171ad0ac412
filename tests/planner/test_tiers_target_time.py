"""A target-time with a first tier is the whole stage's, and ``plan --explain`` plans the tier."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

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
    # each row is the whole stage: the first tier's shard and the rest's (1 + 4 = 5 shards,
    # 18 + 40 = 58 s, 1 + 4 x 1 = 5 billed minutes), the chosen row the plan itself
    assert [(o.shards, o.wall, o.billed_minutes) for o in plan.counts if o.chosen] == [
        (len(plan.shards), plan.makespan, 5)
    ]
    assert len(plan.shards) == 5 and plan.makespan == pytest.approx(58)
    assert [o.shards for o in plan.counts] == [2, 3, 4, 5, 7, 9]


def test_explain_plans_each_count_for_the_tier_and_its_first_tier() -> None:
    config = _config(tier="smoke", shards="auto", max_shards=4)
    # the smoke tier is 4 tests of 2 s: one shard is 18 s, two 14 s, four 12 s; never the
    # full suite's 120 s of other tests
    plan = plan_in_tiers(config, [*SMOKE, *REST], _make, [])
    options = count_options(config, [*SMOKE, *REST], _make, plan)
    assert [o.shards for o in options] == [1, 2, 3, 4]
    assert [o.wall for o in options] == pytest.approx([18.0, 14.0, 14.0, 12.0])


def test_a_plan_all_in_the_first_tier_keeps_its_own_counts() -> None:
    # only the 4 smoke tests: one shard of 10 + 8 = 18 s, 1 billed minute; the rows were
    # counted twice (the plan's 18 s added to each as a first stage)
    plan = plan_in_tiers(_config(shards="auto", target_time=60, max_shards=4), SMOKE, _make, [])
    assert len(plan.shards) == 1 and plan.makespan == pytest.approx(18)
    assert [(o.shards, o.billed_minutes, o.chosen) for o in plan.counts] == [
        (1, 1, True),
        (2, 2, False),
        (3, 3, False),
        (4, 4, False),
    ]
    assert [o.wall for o in plan.counts] == pytest.approx([18.0, 14.0, 14.0, 12.0])


def test_explain_marks_the_chosen_row_as_the_summary_does(tmp_path: Path) -> None:
    tests = tmp_path / "tests"
    tests.mkdir()
    durations = {}
    for name, seconds in [
        *((f"s{i}", 2.0) for i in range(4)),
        *((f"r{i:02}", 3.0) for i in range(40)),
    ]:
        (tests / f"test_{name}.py").write_text("def test_a():\n    pass\n", encoding="utf-8")
        durations[f"tests/test_{name}.py::test_a"] = seconds
    (tmp_path / "d.json").write_text(json.dumps(durations), encoding="utf-8")
    (tmp_path / "ids.txt").write_text("\n".join(durations), encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text(
        '[tool.shard-action]\nshards = "auto"\ntarget-time = 60\nmax-shards = 8\n'
        'shard-overhead = 10\nfirst-tier = "smoke"\n'
        '[[tool.shard-action.tiers]]\nname = "smoke"\npaths = ["tests/test_s*.py"]\n',
        encoding="utf-8",
    )
    proc = subprocess.run(
        [sys.executable, "-m", "shard_action", "plan", "--explain", "--no-history",
         "--timings", "d.json", "--tests-from", "ids.txt", "--out", "out"],
        cwd=tmp_path, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    plan = json.loads((tmp_path / "out" / "plan.json").read_text(encoding="utf-8"))
    assert len(plan["shards"]) == 5
    assert [c["shards"] for c in plan["counts"] if c["chosen"]] == [5]
    rows = proc.stdout.split("shard counts", 1)[1].splitlines()[1:]
    marked = [row.split()[0] for row in rows if row.endswith("<- chosen")]
    assert marked == ["5"], rows
    summary = (tmp_path / "out" / "plan-summary.md").read_text(encoding="utf-8")
    assert "| 5 | 58 s | 5 | " in summary and "| chosen |" in summary
