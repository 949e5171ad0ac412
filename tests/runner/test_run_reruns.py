"""Re-runs in fresh processes: flaky (passed on a re-run) versus broken (failed every time)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.runner.helpers import (
    collect_ids,
    log_lines,
    manifest,
    only_slice,
    run_shard,
    save_plan,
    write_suite,
)
from tests.runner.plans import LaneSlice, plan, shard
from tests.runner.test_run_pytest_shards import LOGGING_CONFTEST

pytestmark = pytest.mark.slow

SUITE = """\
import os, pathlib
import pytest

def test_fine():
    pass

def test_flaky():
    marker = pathlib.Path(os.environ["FLAKY_DIR"]) / "failed-once"
    if not marker.exists():
        marker.write_text("x")
        pytest.fail("first attempt fails")

def test_broken():
    assert 1 == 2

@pytest.fixture
def bad_fixture():
    raise RuntimeError("setup always fails")

def test_setup_error(bad_fixture):
    pass

def test_skipped():
    pytest.skip("not here")
"""


def _ids(root: Path) -> dict[str, str]:
    return {i.rsplit("::", 1)[1]: i for i in collect_ids(root, "tests")}


def test_flaky_and_broken_are_told_apart(tmp_path: Path) -> None:
    root = write_suite(
        tmp_path / "suite",
        {"tests/conftest.py": LOGGING_CONFTEST, "tests/test_mixed.py": SUITE},
    )
    ids = _ids(root)
    built = plan(shard("m-1", LaneSlice("m", list(ids.values()))), reruns=2, coverage=False)
    log = tmp_path / "run.log"
    flaky_dir = tmp_path / "flaky"
    flaky_dir.mkdir()
    proc, results = run_shard(
        root,
        save_plan(root, built),
        "m-1",
        env={"RUN_LOG": str(log), "FLAKY_DIR": str(flaky_dir)},
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    got = manifest(results)
    assert got.exit_code == 1 and got.failure is None
    ran = only_slice(got)
    assert ran.outcomes == {
        ids["test_fine"]: "passed",
        ids["test_flaky"]: "passed",
        ids["test_broken"]: "failed",
        ids["test_setup_error"]: "error",
        ids["test_skipped"]: "skipped",
    }
    verdicts = {r.test: (r.verdict, [a.outcome for a in r.attempts]) for r in ran.reruns}
    assert verdicts == {
        ids["test_flaky"]: ("flaky", ["failed", "passed"]),
        ids["test_broken"]: ("broken", ["failed", "failed", "failed"]),
        ids["test_setup_error"]: ("broken", ["error", "error", "error"]),
    }
    assert ran.tests == list(ids.values()), "first attempts only, each once"
    assert ran.junit == ["junit-1.xml", "junit-1-rerun1.xml", "junit-1-rerun2.xml"]
    assert len(ran.exit_codes) == 3 and ran.exit_codes[0] == 1
    runs = log_lines(log)
    pids = {r["attempt"]: r["pid"] for r in runs if r["id"] == ids["test_broken"]}
    assert len(set(pids.values())) == 3, "every re-run is a fresh process"
    flaky = [r["attempt"] for r in runs if r["id"] == ids["test_flaky"]]
    assert flaky == ["1", "2"]
    assert [r["id"] for r in runs if r["attempt"] == "3"] == [
        ids["test_broken"],
        ids["test_setup_error"],
    ], "only the still-failing ids are re-run"
    assert "flaky 1  broken 2" in proc.stdout


@pytest.mark.parametrize("fail_on_flaky, code", [(False, 0), (True, 1)])
def test_fail_on_flaky(tmp_path: Path, fail_on_flaky: bool, code: int) -> None:
    root = write_suite(tmp_path / "suite", {"tests/test_mixed.py": SUITE})
    ids = _ids(root)
    built = plan(
        shard("f-1", LaneSlice("f", [ids["test_fine"], ids["test_flaky"]])),
        reruns=1,
        fail_on_flaky=fail_on_flaky,
        coverage=False,
    )
    proc, results = run_shard(root, save_plan(root, built), "f-1", env={"FLAKY_DIR": str(tmp_path)})
    assert proc.returncode == code, proc.stdout + proc.stderr
    reruns = only_slice(manifest(results)).reruns
    assert [(r.test, r.verdict) for r in reruns] == [(ids["test_flaky"], "flaky")]


def test_without_reruns_a_failure_is_broken(tmp_path: Path) -> None:
    root = write_suite(tmp_path / "suite", {"tests/test_mixed.py": SUITE})
    ids = _ids(root)
    built = plan(shard("f-1", LaneSlice("f", [ids["test_flaky"]])), reruns=0, coverage=False)
    proc, results = run_shard(root, save_plan(root, built), "f-1", env={"FLAKY_DIR": str(tmp_path)})
    assert proc.returncode == 1
    ran = only_slice(manifest(results))
    assert ran.outcomes == {ids["test_flaky"]: "failed"}
    assert ran.reruns == [] and ran.junit == ["junit-1.xml"]
