"""A real shard measures its wall in parts: start-up (with each file's collection), tests, finish.

Real ``shard-action run`` processes on a generated suite whose costs are known by construction:
one file sleeps 0.6 s at import, one test sleeps 0.5 s. The manifest must put each where it falls.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from shard_action.core.history import History
from shard_action.core.plan import Plan
from tests.runner.helpers import QUIET_ENV, manifest, run_shard, save_plan, write_suite
from tests.runner.plans import LaneSlice, plan, shard

pytestmark = pytest.mark.slow

LOCAL = [sys.executable, "-m", "shard_action", "local"]
IMPORT_SLEEP = 0.6
TEST_SLEEP = 0.5


def _suite(root: Path) -> Path:
    return write_suite(
        root,
        {
            "tests/test_heavy_import.py": f"""\
                import time
                time.sleep({IMPORT_SLEEP})
                def test_a(): pass
                def test_b(): pass
            """,
            "tests/test_light.py": f"""\
                import time
                def test_slow(): time.sleep({TEST_SLEEP})
                def test_quick(): pass
            """,
        },
    )


def test_a_shard_measures_start_up_per_file_tests_and_finish(tmp_path: Path) -> None:
    root = _suite(tmp_path / "suite")
    ids = [
        "tests/test_heavy_import.py::test_a",
        "tests/test_heavy_import.py::test_b",
        "tests/test_light.py::test_slow",
        "tests/test_light.py::test_quick",
    ]
    path = save_plan(root, plan(shard("default-1", LaneSlice("default", ids))))
    proc, results = run_shard(root, path, "default-1")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    got = manifest(results)
    assert got.measured is not None
    parts, files = got.measured.parts, got.measured.files
    wall = (got.finished - got.started).total_seconds()
    assert set(files) == {"tests/test_heavy_import.py", "tests/test_light.py"}
    assert IMPORT_SLEEP <= files["tests/test_heavy_import.py"] < IMPORT_SLEEP + 1.0
    assert files["tests/test_light.py"] < IMPORT_SLEEP / 2
    # collection is start-up, not test time; the interpreter is part of start-up
    assert parts.startup >= got.measured.interpreter + IMPORT_SLEEP
    assert 0 < got.measured.interpreter < parts.startup
    assert TEST_SLEEP <= parts.tests < TEST_SLEEP + IMPORT_SLEEP
    assert parts.setup == 0  # a job cannot see its own set-up
    assert parts.finish > 0
    assert parts.startup + parts.tests + parts.finish == pytest.approx(wall, abs=0.01)
    assert not got.measured.reruns


def test_a_shard_with_a_rerun_says_so_and_a_shard_without_tests_measures_nothing(
    tmp_path: Path,
) -> None:
    root = write_suite(
        tmp_path / "suite",
        {
            "tests/test_flaky.py": """\
                import os, pathlib
                def test_once():
                    marker = pathlib.Path(os.environ["MARK"])
                    if not marker.exists():
                        marker.write_text("x")
                        raise AssertionError("first time")
            """,
        },
    )
    ids = ["tests/test_flaky.py::test_once"]
    path = save_plan(root, plan(shard("default-1", LaneSlice("default", ids))))
    proc, results = run_shard(root, path, "default-1", env={"MARK": str(tmp_path / "mark")})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    got = manifest(results)
    assert got.measured is not None and got.measured.reruns

    empty = save_plan(root, plan(shard("default-1", LaneSlice("default", []))))
    proc, results = run_shard(root, empty, "default-1", results=tmp_path / "empty")
    assert manifest(results).measured is None


def test_the_second_plan_predicts_the_costs_the_first_run_measured(tmp_path: Path) -> None:
    """plan → run → report, twice, with the real CLI: the history carries the costs forward."""
    root = _suite(tmp_path / "suite")
    history = tmp_path / "history.json"
    command = [
        *LOCAL,
        str(root),
        "--out",
        str(tmp_path / "out"),
        "--history",
        str(history),
        "--shards",
        "2",
        "--shard-overhead",
        "3",
        "--coverage",
        "false",
        "--jobs",
        "1",
    ]
    for _ in range(2):
        proc = subprocess.run(
            command, cwd=root, env={**os.environ, **QUIET_ENV}, capture_output=True, text=True,
            timeout=240, check=False,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stdout + proc.stderr
    learned = History.model_validate_json(history.read_text("utf-8")).costs["default"]
    assert len(learned.interpreter) == 2  # two runs: one sample each, the median of two shards
    assert min(learned.files["tests/test_heavy_import.py"]) >= IMPORT_SLEEP * 0.9
    # the plan made from that history: the shard holding the heavy file pays its import
    plan = Plan.model_validate_json((tmp_path / "out" / "plan.json").read_text("utf-8"))
    heavy = next(s for s in plan.shards if any("heavy" in t for t in s.tests))
    assert heavy.prediction is not None
    assert heavy.prediction.startup >= IMPORT_SLEEP * 0.9
    assert heavy.prediction.setup == 3.0  # no set-up measured on this machine
    assert heavy.prediction.finish > 0
