"""The adopter's path the README describes, on a fresh project (no ``examples/`` involved).

Migrating from pytest-split: its own plugin writes ``.test_durations`` (real pytest-split, from
the ``bench`` extra), and ``plan --timings .test_durations`` plans from those times.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import clean_env, shard_action
from tests.e2e.test_local_command import TESTS, tiny_project
from tests.plan_json import plan_tests, shard_tests

pytestmark = pytest.mark.slow


def test_migrating_from_pytest_split_plans_from_its_durations(tmp_path: Path) -> None:
    pytest.importorskip("pytest_split", reason="pytest-split comes with the bench extra")
    project = tiny_project(tmp_path / "project")
    stored = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "--store-durations"],
        cwd=project, env=clean_env(), capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    assert stored.returncode == 0, stored.stdout + stored.stderr
    durations = json.loads((project / ".test_durations").read_text())
    expected = sorted(f"{path}::test_{path[11:-3]}_{i}" for path in TESTS for i in range(4))
    assert sorted(durations) == expected

    proc = shard_action(
        ["plan", "--timings", ".test_durations", "--shards", "2", "--out", "plan"], cwd=project
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    plan = json.loads((project / "plan" / "plan.json").read_text())
    assert plan["timings"]["measured"] == 12 and plan["timings"]["estimated"] == 0
    assert sorted(plan_tests(plan)) == expected
    assert len(plan["shards"]) == 2


SMOKE_CONFIG = """
[tool.shard-action]
shard-overhead = 0.0

[[tool.shard-action.tiers]]
name = "smoke"
markers = ["smoke"]
"""
SLOWED = "tests/test_slowed.py::test_gets_slower"


def test_a_fresh_project_local_plan_tiers_and_trends(tmp_path: Path) -> None:
    """The issue's "done when": a fresh project, `local` with no argument, `plan` from the
    history `local` keeps, a tier, a first tier, and trends once there are runs to compare."""
    project = tiny_project(tmp_path / "fresh")
    config = project / "pyproject.toml"
    config.write_text(
        config.read_text().replace("addopts", 'markers = ["smoke: quick checks"]\naddopts')
        + SMOKE_CONFIG
    )
    (project / "tests" / "test_smoke.py").write_text(
        "import pytest\n\n@pytest.mark.smoke\ndef test_imports():\n    assert True\n"
    )
    (project / "tests" / "test_slowed.py").write_text(
        "import os, time\n\ndef test_gets_slower():\n"
        "    time.sleep(float(os.environ.get('TINY_SLEEP', '0.05')))\n"
    )
    every = 4 * len(TESTS) + 2
    history = project / ".shard-action" / "history.json"

    def local(*args: str, env: dict[str, str] | None = None) -> dict[str, object]:
        proc = shard_action(["local", *args], cwd=project, env=env)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr
        report: dict[str, object] = json.loads(
            (project / "shard-action-out" / "report" / "report.json").read_text()
        )
        return report

    for _ in range(2):  # 1, 2: no argument, the project in the current folder
        assert local()["counts"]["tests"] == every  # type: ignore[index]
    assert history.is_file()

    proc = shard_action(["plan", "--out", "by-hand"], cwd=project)
    assert proc.returncode == 0, proc.stderr
    by_hand = json.loads((project / "by-hand" / "plan.json").read_text())
    assert by_hand["timings"]["measured"] == every and by_hand["timings"]["estimated"] == 0

    staged = local("--first-tier", "smoke")  # 3: the smoke test first, then the rest
    plan = json.loads((project / "shard-action-out" / "plan.json").read_text())
    first = [t for s in plan["shards"] if s["first"] for t in shard_tests(s)]
    assert first == ["tests/test_smoke.py::test_imports"]
    assert staged["counts"]["tests"] == every and staged["counts"]["not_run"] == 0  # type: ignore[index]

    smoke = local("--tier", "smoke")  # 4: only the tier
    assert smoke["counts"]["tests"] == 1  # type: ignore[index]

    # 5: one test got much slower. The bottleneck is that test only while it is at least half
    # of its shard: 10 s was not, once, at a load average of 10 on 2 cores (the shard's start-up
    # under coverage took longer); 20 s stays above it
    slow = local(env={"TINY_SLEEP": "20"})
    trends = slow["trends"]
    assert isinstance(trends, dict)
    (slower,) = trends["slower"]
    assert slower["test"] == SLOWED and slower["since"] == 5
    assert slower["seconds"] >= 5 and slower["baseline"] < 1
    assert [p["run"] for p in trends["runs"]] == [1, 2, 3, 4, 5]
    assert [p["tier"] for p in trends["runs"]] == ["full", "full", "full", "smoke", "full"]
    assert trends["bottleneck"]["kind"] == "test"
    assert trends["bottleneck"]["detail"] == SLOWED
    summary = (project / "shard-action-out" / "report" / "summary.md").read_text()
    assert "### 📈 Trends" in summary and "run #5" in summary and "xychart-beta" in summary

    shown = shard_action(["history", "show"], cwd=project)
    assert shown.returncode == 0, shown.stderr
    assert SLOWED in shown.stdout and "Since: run #5" in shown.stdout
    assert "xychart" not in shown.stdout  # the chart is for the browser
