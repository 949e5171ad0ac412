"""A lane with workers: the shard runs under pytest-xdist, each test once, workers measured."""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from pathlib import Path

import pytest
from coverage import CoverageData

from shard_action.core.workers import Workers
from tests.e2e.conftest import clean_env
from tests.runner.helpers import (
    CLI,
    QUIET_ENV,
    collect_ids,
    manifest,
    only_slice,
    run_shard,
    save_plan,
    write_suite,
)
from tests.runner.plans import LaneSlice, plan, shard

LOGGING_CONFTEST = """\
import json, os
import pytest


@pytest.fixture(autouse=True)
def _log(request):
    with open(os.environ["RUN_LOG"], "a") as out:
        out.write(json.dumps({"id": request.node.nodeid,
                              "worker": os.environ.get("PYTEST_XDIST_WORKER")}) + "\\n")
    yield
"""


@pytest.mark.slow
def test_workers_run_each_test_once_in_the_planned_order_and_are_measured(tmp_path: Path) -> None:
    root = write_suite(
        tmp_path / "suite",
        {
            "tests/conftest.py": LOGGING_CONFTEST,
            "helper.py": "def used_in_a_test():\n    return 1\n",
            "tests/test_a.py": """\
                import time

                import helper


                def test_uses_helper():
                    assert helper.used_in_a_test() == 1

                def test_slow():
                    time.sleep(0.5)

                def test_quick():
                    pass
            """,
            "tests/test_b.py": "def test_b1():\n    pass\ndef test_b2():\n    pass\n",
        },
    )
    ids = collect_ids(root)
    order = [ids[1], ids[0], ids[3], ids[2], ids[4]]  # as a planner would list them
    built = plan(shard("w-1", LaneSlice("w", order, workers=2)), coverage=True)
    log = tmp_path / "run.log"
    proc, results = run_shard(
        root, save_plan(root, built), "w-1", env={"RUN_LOG": str(log), "PYTEST_ADDOPTS": ""}
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    ran = only_slice(manifest(results))
    assert Counter(ran.tests) == Counter(ids)
    assert ran.outcomes == dict.fromkeys(ids, "passed")
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert Counter(r["id"] for r in lines) == Counter(ids)
    assert {r["worker"] for r in lines} <= {"gw0", "gw1"}
    assert None not in {r["worker"] for r in lines}, "a test ran outside xdist's workers"
    data = CoverageData(basename=str(results / ".coverage.w-1"))
    data.read()
    helper = next(f for f in data.measured_files() if f.endswith("helper.py"))
    assert 2 in (data.lines(helper) or [])  # the body of used_in_a_test ran in a worker
    assert ran.coverage_core is not None


MODULE_FIXTURE = """\
import time

import pytest


@pytest.fixture(scope="module")
def database():
    time.sleep(0.6)
    return 1


def test_m1(database):
    assert database == 1

def test_m2(database):
    assert database == 1
"""


@pytest.mark.slow
@pytest.mark.parametrize("workers", [1, "auto"])
def test_one_worker_is_one_plain_process_in_file_order_with_its_fixtures_charged(
    tmp_path: Path, workers: Workers
) -> None:
    """``auto`` on one CPU (``taskset``: the affinity the runner reads) or ``1``: no xdist,
    so pytest's order, not the plan's longest-first, and the module fixture charged to its
    scope (under xdist neither is known)."""
    root = write_suite(
        tmp_path / "suite",
        {
            "tests/conftest.py": LOGGING_CONFTEST,
            "tests/test_a.py": "import time\n\ndef test_first():\n    pass\n\n"
            "def test_slow():\n    time.sleep(0.3)\n",
            "tests/test_m.py": MODULE_FIXTURE,
        },
    )
    ids = collect_ids(root)
    assert [i.rsplit("::", 1)[1] for i in ids] == ["test_first", "test_slow", "test_m1", "test_m2"]
    longest_first = [ids[1], ids[3], ids[0], ids[2]]  # as a planner lists a lane with workers
    built = plan(shard("w-1", LaneSlice("w", longest_first, workers=workers)))
    log = tmp_path / "run.log"
    command = [*CLI, "--plan", str(save_plan(root, built)), "--shard", "w-1"]
    command += ["--results", str(root / "results")]
    proc = subprocess.run(
        ["taskset", "-c", "0", *command], cwd=root, capture_output=True, text=True,
        env={**clean_env(QUIET_ENV), "RUN_LOG": str(log)},
        timeout=240, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert [r["id"] for r in lines] == ids, "not pytest's file order"
    assert {r["worker"] for r in lines} == {None}, "ran under xdist"
    got = manifest(root / "results")
    assert only_slice(got).outcomes == dict.fromkeys(ids, "passed")
    assert got.measured is not None
    assert got.measured.scopes.get("tests/test_m.py") == pytest.approx(0.6, abs=0.3)
