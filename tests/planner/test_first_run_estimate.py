"""A first run without any timing: durations from the test files' size, and how reliable.

The expected seconds are written out by hand from the documented rule (2 ms per test for a file
of 300 bytes per test, proportional, clamped to 0.5 ms-0.5 s), not computed by the estimator.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from shard_action.core.config import Config
from shard_action.core.models import TestItem, Timings
from shard_action.core.plan import Plan
from shard_action.core.planner import make_plan


def _tests(counts: dict[str, int]) -> list[TestItem]:
    return [TestItem(f"{f}::t{i}", f) for f, n in counts.items() for i in range(n)]


def _plan(
    config: Config,
    tests: list[TestItem],
    sizes: dict[str, int],
    known: dict[str, float] | None = None,
) -> Plan:
    timings = Timings(durations=dict(known or {}))
    return make_plan(config, tests, timings, mode="parallel", mode_reason="test", file_bytes=sizes)


def test_source_size_gives_the_seconds_of_the_rule_per_file() -> None:
    tests = _tests({"tests/a.py": 10, "tests/b.py": 2, "tests/big.py": 1, "tests/tiny.py": 4})
    sizes = {
        "tests/a.py": 3000,
        "tests/b.py": 6000,
        "tests/big.py": 10_000_000,
        "tests/tiny.py": 40,
    }
    plan = _plan(Config(shards=1), tests, sizes)
    # a: 300 B/test -> 2 ms; b: 3000 B/test -> 20 ms; big: clamped to 0.5 s; tiny: to 0.5 ms
    expected = 10 * 0.002 + 2 * 0.020 + 0.5 + 4 * 0.0005
    assert math.isclose(plan.totals.seconds, expected, rel_tol=1e-9)
    assert plan.timings.estimate.methods == {"source-size": 17}
    assert math.isclose(plan.timings.estimate.seconds, expected, rel_tol=1e-9)
    assert "source size" in plan.timings.estimate.reliability
    assert "4x" in plan.timings.estimate.reliability


def test_a_file_that_cannot_be_read_gets_the_typical_figure() -> None:
    plan = _plan(Config(shards=1), _tests({"tests/gone.py": 3}), {})
    assert math.isclose(plan.totals.seconds, 3 * 0.002)


def test_measured_neighbours_and_a_configured_default_win_over_the_size() -> None:
    tests = _tests({"tests/a.py": 3, "tests/b.py": 2})
    sizes = {"tests/a.py": 900, "tests/b.py": 600}
    plan = _plan(Config(shards=1), tests, sizes, {"tests/a.py::t0": 1.0})
    # a.py's two others: the file's median (1 s); b.py: the lane's median (1 s)
    assert plan.totals.seconds == 5.0
    assert plan.timings.estimate.methods == {"measured": 1, "same-file": 2, "same-lane": 2}
    assert "same file or lane" in plan.timings.estimate.reliability
    fixed = _plan(Config(shards=1, default_duration=0.25), tests, sizes)
    assert fixed.totals.seconds == 5 * 0.25
    assert fixed.timings.estimate.methods == {"default-duration": 5}
    measured = _plan(Config(shards=1), tests, sizes, {t.id: 0.1 for t in tests})
    assert measured.timings.estimate.methods == {"measured": 5}
    assert measured.timings.estimate.reliability == "every duration was measured"


def test_plan_on_a_real_project_without_history_says_how_it_estimated(tmp_path: Path) -> None:
    """Real pytest collection of a fresh project: a few fast tests are not planned as minutes."""
    tests = tmp_path / "tests"
    tests.mkdir()
    for n in range(3):
        body = "".join(f"def test_{i}():\n    assert {i} + 1 == {i + 1}\n\n" for i in range(20))
        (tests / f"test_m{n}.py").write_text(body, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SHARD_ACTION_", "GITHUB_"))}
    proc = subprocess.run(
        [sys.executable, "-m", "shard_action", "plan", "--out", "out", "--no-history"],
        cwd=tmp_path, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    document = json.loads((tmp_path / "out" / "plan.json").read_text("utf-8"))
    estimate = document["timings"]["estimate"]
    assert estimate["methods"] == {"source-size": 60}
    # 60 one-line tests: well under a second in all (at 1 s per test it read 60 s, 16 shards)
    assert document["totals"]["seconds"] < 1.0
    assert len(document["shards"]) == 1
    assert "source size" in proc.stdout
    summary = (tmp_path / "out" / "plan-summary.md").read_text("utf-8")
    assert "Estimates: 60 from source size" in summary


@pytest.mark.parametrize("bytes_per_test", [0, 1, 299, 300, 75_000, 10**9])
def test_the_estimate_stays_within_its_clamp(bytes_per_test: int) -> None:
    plan = _plan(Config(shards=1), _tests({"tests/a.py": 2}), {"tests/a.py": 2 * bytes_per_test})
    per_test = plan.totals.seconds / 2
    assert 0.0005 <= per_test <= 0.5
