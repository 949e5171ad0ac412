"""The real pipeline in serial mode on the bundled ``examples/``: plan → run → report.

The ``storage`` lane fans out over ``sqlite`` and ``memory``, so the single ``serial`` shard runs
the storage ids twice, once per backend, lane after lane. Each (lane instance, test id) must be
planned once, executed once, judged once, written once in the merged JUnit and timed under its
own lane in the history; nothing lost, nothing run twice, exit status 0.

Every step is the real command in a subprocess, as a workflow would run it. The expected pairs
come from plain ``pytest --collect-only`` and the plan file; the per-lane timings from the JUnit
file each backend's run wrote.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import pytest

from shard_action.core.plan import Plan
from tests.runner.helpers import QUIET_ENV, collect_ids, copy_examples

pytestmark = pytest.mark.slow

FLAKY = "tests/test_flaky.py::test_price_table_cache_warms_up"
BACKENDS = ("storage-sqlite", "storage-memory")


def _env(flaky_dir: Path) -> dict[str, str]:
    """No variables of an outer CI job or coverage run; the planted flaky test switched on."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("COVERAGE", "SHARD_ACTION_", "GITHUB_", "PYTEST_", "INVENTORY_"))
    }
    return {**env, **QUIET_ENV, "EXAMPLE_FLAKY_DIR": str(flaky_dir)}


def _shard_action(root: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shard_action", *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _cases(junit: Path) -> list[tuple[str, str, str]]:
    """(suite, lane, id) of every test case of the merged JUnit, from its properties."""
    found = []
    for suite in ET.parse(junit).getroot():
        for case in suite.iter("testcase"):
            props = {p.get("name"): p.get("value") or "" for p in case.iter("property")}
            found.append(
                (suite.get("name") or "", props["shard-action.lane"], props["shard-action.id"])
            )
    return found


def _times(junit: Path) -> dict[tuple[str, str], float]:
    """(classname, name) -> seconds, straight from a JUnit file pytest wrote."""
    cases = ET.parse(junit).getroot().iter("testcase")
    return {
        (c.get("classname") or "", c.get("name") or ""): float(c.get("time", "0")) for c in cases
    }


def test_serial_mode_runs_every_lane_instance_of_every_test_once(tmp_path: Path) -> None:
    root = copy_examples(tmp_path / "examples")
    env = _env(tmp_path / "flaky")
    ids = collect_ids(root, "tests")
    storage = [t for t in ids if t.startswith("tests/storage/")]
    assert len(storage) >= 10 and FLAKY in ids

    planned = _shard_action(root, env, "plan", "--mode", "serial", "--out", str(tmp_path / "plan"))
    assert planned.returncode == 0, planned.stdout + planned.stderr
    plan_file = tmp_path / "plan" / "plan.json"
    plan = Plan.model_validate_json(plan_file.read_text("utf-8"))
    (shard,) = plan.shards
    assert plan.mode == "serial" and shard.id == "serial"
    pairs = [(piece.lane, t) for piece in shard.slices for t in piece.tests]
    assert Counter(t for _, t in pairs) == Counter(
        {**dict.fromkeys(ids, 1), **dict.fromkeys(storage, 2)}
    )
    for backend in BACKENDS:
        assert sorted(t for lane, t in pairs if lane == backend) == sorted(storage)

    results = tmp_path / "shard-results"
    ran = _shard_action(
        root, env, "run", "--plan", str(plan_file), "--shard", "serial",
        "--results", str(results / "serial"),
    )  # fmt: skip
    assert ran.returncode == 0, ran.stdout + ran.stderr
    manifest = json.loads((results / "serial" / "manifest.json").read_text("utf-8"))
    assert manifest["version"] == 3
    executed = [(run["lane"], t) for run in manifest["slices"] for t in run["tests"]]
    assert Counter(executed) == Counter(pairs), "every (lane, id) executed once as planned"

    out = tmp_path / "report"
    reported = _shard_action(
        root, env, "report", "--plan", str(plan_file), "--results", str(results),
        "--out", str(out),
    )  # fmt: skip
    assert reported.returncode == 0, reported.stdout + reported.stderr
    report = json.loads((out / "report.json").read_text("utf-8"))
    assert report["complete"] and report["exit_code"] == 0
    assert (report["lost"], report["run_twice"], report["unplanned"]) == ([], [], [])
    assert report["shards"][0]["unmatched_cases"] == 0, "every JUnit case found its run's test"
    counts = report["counts"]
    assert counts["planned"] == counts["tests"] == len(pairs)
    assert [(f["test"], f["lane"], f["fanned_out"]) for f in report["flaky"]] == [
        (FLAKY, "default", False)
    ]
    assert report["mode"]["flaky_rate"] == pytest.approx(1 / (len(pairs) - counts["skipped"]))

    cases = _cases(out / "junit.xml")
    assert Counter((lane, t) for _, lane, t in cases) == Counter(pairs), "one case per (lane, id)"
    for backend in BACKENDS:
        assert {suite for suite, lane, _ in cases if lane == backend} == {f"serial / {backend}"}

    history = json.loads((out / "history.json").read_text("utf-8"))["tests"]
    # a test that carried no module fixture: its history sample is its JUnit time as it is
    carried = {t for tests in manifest["measured"]["carried"].values() for t in tests}
    probe = next(t for t in storage if "[" not in t and t.count("::") == 1 and t not in carried)
    path, name = probe.split("::")
    key = (path.removesuffix(".py").replace("/", "."), name)
    for run in manifest["slices"]:
        if run["lane"] in BACKENDS:
            first = results / "serial" / run["junit"][0]
            measured = round(_times(first)[key], 3)
            assert history[run["lane"]][probe]["recent"] == [measured], run["lane"]
    assert set(history["storage-sqlite"]) == set(history["storage-memory"]) == set(storage)
