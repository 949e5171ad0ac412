"""A first run without history predicts start-up and finish from the plan's own collection.

Expected seconds are written out by hand from the documented rule (start-up: the collection's
interpreter + 0.2 s, + 0.5 s with coverage, each file's collection x 1.5; finish: 0.5 s, + 1 s
with coverage), not computed by the code under test.
"""

from __future__ import annotations

import json
import math
import statistics
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shard_action.adapters.collect import collect_pytest
from shard_action.core.config import Config
from shard_action.core.estimate import Collection, first_costs
from shard_action.core.models import TestItem, Timings
from shard_action.core.planner import make_plan
from shard_action.core.prediction import Costs, with_first_run


def test_first_costs_from_a_collection_by_hand() -> None:
    measured = Collection(interpreter=0.8, files={"tests/a.py": 0.2, "tests/b.py": 0.4})
    costs = first_costs(measured, coverage=False)
    assert costs is not None
    assert costs.setup is None  # a job's set-up is still the config's shard-overhead
    assert costs.interpreter == pytest.approx(1.0)
    assert costs.finish == pytest.approx(0.5)
    assert dict(costs.files) == pytest.approx({"tests/a.py": 0.3, "tests/b.py": 0.6})
    covered = first_costs(measured, coverage=True)
    assert covered is not None
    assert (covered.interpreter, covered.finish) == pytest.approx((1.5, 1.5))
    assert dict(covered.files) == dict(costs.files)


def test_nothing_measured_keeps_the_old_prediction() -> None:
    assert first_costs(None, coverage=True) is None
    assert first_costs(Collection(interpreter=math.nan), coverage=False) is None
    odd_files = {"a.py": -1.0, "b.py": 2.0}
    odd = first_costs(Collection(interpreter=1.0, files=odd_files), coverage=False)
    assert odd is not None and dict(odd.files) == pytest.approx({"b.py": 3.0})


def test_a_learned_lane_keeps_its_costs_a_new_one_gets_the_first_run_estimate() -> None:
    learned = Costs(setup=5.0, interpreter=1.0, finish=0.2)
    first = Costs(interpreter=9.0, finish=9.0)
    filled = with_first_run({"db": learned}, ["db", "default"], first)
    assert filled == {"db": learned, "default": first}
    assert with_first_run({"db": learned}, ["db", "default"], None) == {"db": learned}


def _items(spec: dict[str, int]) -> list[TestItem]:
    return [TestItem(id=f"{f}::t{i}", file=f) for f, n in spec.items() for i in range(n)]


def test_the_first_plan_predicts_each_shards_start_up_and_finish() -> None:
    tests = _items({"tests/a.py": 1, "tests/b.py": 1})
    timings = Timings(durations={t.id: 10.0 for t in tests})
    first = first_costs(
        Collection(interpreter=1.0, files={"tests/a.py": 2.0, "tests/b.py": 0.2}), coverage=False
    )
    config = Config(shards=2, shard_overhead=4.0)
    plan = make_plan(config, tests, timings, mode="parallel", mode_reason="t", first_run=first)
    by_file = {s.slices[0].tests[0].split("::")[0]: s for s in plan.shards}
    a, b = by_file["tests/a.py"].prediction, by_file["tests/b.py"].prediction
    assert a is not None and b is not None
    # a: 4 set-up + (1.0 + 0.2 + 2.0 x 1.5) start-up + 10 tests + 0.5 finish
    assert (a.setup, a.startup, a.tests, a.finish) == pytest.approx((4.0, 4.2, 10.0, 0.5))
    assert b.startup == pytest.approx(1.0 + 0.2 + 0.3)
    assert by_file["tests/a.py"].predicted_seconds == pytest.approx(18.7)
    assert "this plan's own collection" in plan.timings.estimate.reliability
    old = make_plan(config, tests, timings, mode="parallel", mode_reason="t")
    assert "collection" not in old.timings.estimate.reliability
    assert {s.predicted_seconds for s in old.shards} == {14.0}


@given(
    interpreter=st.floats(0, 30),
    # two files at most: too few to tell a shared import (tests/prediction/test_shared_import.py)
    files=st.dictionaries(st.sampled_from(["a.py", "b.py", "c.py"]), st.floats(0, 10), max_size=2),
)
def test_a_first_run_adds_fixed_costs_and_plans_every_test_once(
    interpreter: float, files: dict[str, float]
) -> None:
    tests = _items({"a.py": 2, "b.py": 3, "c.py": 1})
    timings = Timings(durations={t.id: 1.0 for t in tests})
    config = Config(shards=2, shard_overhead=1.0)
    first = first_costs(Collection(interpreter, files), coverage=False)
    plan = make_plan(config, tests, timings, mode="parallel", mode_reason="t", first_run=first)
    for shard in plan.shards:
        own = {t.split("::")[0] for sl in shard.slices for t in sl.tests}
        tests_s = sum(1.0 for sl in shard.slices for _ in sl.tests)
        # a file the collection did not time costs the median of those it did
        typical = statistics.median(files.values()) * 1.5 if files else 0.0
        startup = interpreter + 0.2 + sum(files[f] * 1.5 if f in files else typical for f in own)
        assert shard.predicted_seconds == pytest.approx(1.0 + startup + tests_s + 0.5)
    planned = sorted(t for s in plan.shards for sl in s.slices for t in sl.tests)
    assert planned == sorted(t.id for t in tests)


def test_pytest_collection_measures_its_interpreter_and_each_file(tmp_path: Path) -> None:
    """A real collection: a file that sleeps 0.3 s at import is charged at least that."""
    (tmp_path / "pytest.ini").write_text("[pytest]\n", "utf-8")
    (tmp_path / "test_slow.py").write_text(
        "import time\ntime.sleep(0.3)\n\ndef test_a():\n    pass\n", "utf-8"
    )
    (tmp_path / "test_fast.py").write_text("def test_b():\n    pass\n", "utf-8")
    cache = tmp_path / ".cache"
    collected = collect_pytest(tmp_path, cache_dir=cache)
    assert collected.times is not None
    assert collected.times.files["test_slow.py"] >= 0.3
    assert collected.times.files["test_fast.py"] < 0.3
    assert 0 < collected.times.interpreter < 60
    again = collect_pytest(tmp_path, cache_dir=cache)
    assert again.cached and again.times == collected.times  # what the collection took then


def test_the_plan_command_predicts_fixed_costs_on_a_first_run(tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text("[pytest]\n", "utf-8")
    for n in range(4):
        (tmp_path / f"test_m{n}.py").write_text("def test_a():\n    pass\n", "utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "shard_action", "plan", "--no-history", "--shards", "2",
         "--coverage", "false", "--out", "out"],
        cwd=tmp_path, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    plan = json.loads((tmp_path / "out" / "plan.json").read_text("utf-8"))
    for shard in plan["shards"]:
        assert shard["prediction"]["startup"] > 0.2  # at least the run's own lead
        assert shard["prediction"]["finish"] == 0.5
    assert "this plan's own collection" in plan["timings"]["estimate"]["reliability"]
    assert "this plan's own collection" in " ".join(proc.stdout.split())  # told to the user
