"""The fan-in reads what the real ``shard-action run`` leaves behind (contract check)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from shard_action.commands.report import make_report
from shard_action.commands.run import run_shard

from .factories import plan, shard

pytestmark = pytest.mark.slow

TESTS = """\
import pathlib


def test_ok() -> None:
    assert True


def test_flaky() -> None:
    marker = pathlib.Path(__file__).with_name("flaky.marker")
    if not marker.exists():
        marker.write_text("seen")
        assert False, "first attempt fails"


def test_broken() -> None:
    assert False, "always"
"""
OTHER = "def test_other():\n    assert 1 + 1 == 2\n"


def test_runner_results_fan_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = tmp_path / "project"
    (project / "tests").mkdir(parents=True)
    (project / "tests" / "test_mix.py").write_text(TESTS)
    (project / "tests" / "test_other.py").write_text(OTHER)
    (project / "pytest.ini").write_text("[pytest]\n")
    for name in [n for n in os.environ if n.startswith(("COVERAGE", "SHARD_ACTION_"))]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")  # ~2 s per runner process
    mix = [
        "tests/test_mix.py::test_ok",
        "tests/test_mix.py::test_flaky",
        "tests/test_mix.py::test_broken",
    ]
    the_plan = plan([shard("s1", mix), shard("s2", ["tests/test_other.py::test_other"])])
    results = tmp_path / "shard-results"
    for shard_id in ("s1", "s2"):
        run_shard(the_plan, shard_id, results=results / shard_id, root=project)
    monkeypatch.chdir(project)
    files = make_report(plan=the_plan, results=[results], out=tmp_path / "out")
    report = files.report
    assert report.complete and not report.problems
    statuses = {e.test: e.status for e in [*report.failures, *report.flaky]}
    assert statuses == {
        "tests/test_mix.py::test_flaky": "flaky",
        "tests/test_mix.py::test_broken": "broken",
    }
    assert (report.counts.tests, report.counts.passed) == (4, 2)
    assert report.failures[0].attempts == 3  # reruns: 2 in the plan's runner settings
    assert report.flaky[0].evidence == ["re-run in a fresh process"]
    coverage = json.loads((tmp_path / "out" / "coverage.json").read_text())
    assert sorted(coverage["files"]) == ["tests/test_mix.py", "tests/test_other.py"]
