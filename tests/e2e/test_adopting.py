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
    assert sorted(t for s in plan["shards"] for t in s["tests"]) == expected
    assert len(plan["shards"]) == 2
