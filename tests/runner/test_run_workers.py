"""A lane with workers: the shard runs under pytest-xdist, each test once, workers measured."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from coverage import CoverageData

from tests.runner.helpers import (
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
