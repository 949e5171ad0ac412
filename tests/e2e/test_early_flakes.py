"""Catching new flakes early, through the real pipeline: ``local`` twice on a tiny project.

The first run makes the history; then two new tests appear (in the second test: the tests of a
file the run names in ``--changed-files``), one of which fails on exactly one planned invocation
(a counter file, so the outcome is planned, not random). With ``early-flake-runs = 2`` the second
plan gives both two more runs in the spare time of the shard that finishes early; the one that
failed there is reported flaky, nothing else changes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import shard_action
from tests.e2e.test_local_command import tiny_project

pytestmark = pytest.mark.slow

CONFIG = """
[tool.shard-action]
shard-overhead = 0.0
coverage = false
early-flake-runs = 2
probe = 0  # the invocation counters would count the first plan's sample of the tests too
"""
SLOW = "import time\n\ndef test_takes_its_time():\n    time.sleep(10)\n"
"""10 s: the spare time must hold both rounds even when a loaded machine slows the short shard."""
NEW = """\
import pathlib

COUNTER = pathlib.Path(__file__).with_name("invocations.txt")


def test_new_and_flaky():
    seen = int(COUNTER.read_text()) if COUNTER.exists() else 0
    COUNTER.write_text(str(seen + 1))
    assert seen != 1, "fails on its second invocation only"


def test_new_and_steady():
    assert True
"""
FLAKY = "tests/test_new.py::test_new_and_flaky"
STEADY = "tests/test_new.py::test_new_and_steady"


def _local(project: Path, *args: str) -> dict[str, Any]:
    proc = shard_action(["local", "--shards", "2", *args], cwd=project)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr
    report: dict[str, Any] = json.loads(
        (project / "shard-action-out" / "report" / "report.json").read_text()
    )
    return report


def test_a_new_test_that_fails_in_an_extra_run_is_reported_flaky(tmp_path: Path) -> None:
    project = tiny_project(tmp_path / "project")
    (project / "pyproject.toml").write_text((project / "pyproject.toml").read_text() + CONFIG)
    (project / "tests" / "test_slow.py").write_text(SLOW)
    first = _local(project)
    assert first["counts"]["flaky"] == 0
    out = project / "shard-action-out"
    assert all(s["early"] == [] for s in json.loads((out / "plan.json").read_text())["shards"])

    (project / "tests" / "test_new.py").write_text(NEW)
    report = _local(project)
    plan = json.loads((out / "plan.json").read_text())
    assert plan["runner"]["early_flake_runs"] == 2
    early = [(s["id"], e["tests"]) for s in plan["shards"] for e in s["early"]]
    slow_shard = next(s["id"] for s in plan["shards"] if "tests/test_slow.py" in str(s))
    assert len(early) == 1 and sorted(early[0][1]) == [FLAKY, STEADY], early
    assert early[0][0] != slow_shard, "the spare time is in the shard that finishes early"

    manifests = [json.loads(p.read_text()) for p in out.rglob("manifest.json")]
    rounds = {t: o for m in manifests for e in m["early"] for t, o in e["outcomes"].items()}
    assert rounds == {FLAKY: ["failed", "passed"], STEADY: ["passed", "passed"]}
    assert (project / "tests" / "invocations.txt").read_text() == "3", "1 planned + 2 extra"
    # the rounds ran in the shard's clock after its tests: its finish is no sample to learn from
    by_shard = {m["shard"]: m["measured"] for m in manifests}
    assert by_shard[early[0][0]]["reruns"] is True, by_shard
    assert by_shard[slow_shard]["reruns"] is False, by_shard

    assert report["exit_code"] == 0 and report["complete"] is True
    assert report["counts"]["failed"] == 0 and report["lost"] == []
    assert report["run_twice"] == [], "nothing ran twice in the main pass"
    (flaky,) = report["flaky"]
    assert flaky["test"] == FLAKY and flaky["status"] == "flaky"
    assert "failed 1 of 2 early-flake runs (new or changed test)" in flaky["evidence"]
    history = json.loads((project / ".shard-action" / "history.json").read_text())
    assert history["tests"]["default"][FLAKY]["outcomes"].endswith("F")
    assert history["tests"]["default"][STEADY]["outcomes"].endswith("p")


EDITED = """\
import pathlib

COUNTER = pathlib.Path(__file__).with_name("edited.txt")


def test_edited_and_flaky():
    seen = int(COUNTER.read_text()) if COUNTER.exists() else 0
    COUNTER.write_text(str(seen + 1))
    assert seen != 2, "fails on its third invocation only"


def test_edited_and_steady():
    assert True
"""
EDITED_FLAKY = "tests/test_edited.py::test_edited_and_flaky"
EDITED_STEADY = "tests/test_edited.py::test_edited_and_steady"


def test_the_tests_of_a_changed_file_get_the_extra_runs_too(tmp_path: Path) -> None:
    """Known tests, not new: only ``--changed-files`` makes them candidates. The flaky one
    passes in run 1 and in its own run of run 2, and fails in the first extra round."""
    project = tiny_project(tmp_path / "project")
    (project / "pyproject.toml").write_text((project / "pyproject.toml").read_text() + CONFIG)
    # slower than the first test's: two known tests need room for two rounds each
    (project / "tests" / "test_slow.py").write_text(SLOW)
    (project / "tests" / "test_edited.py").write_text(EDITED)
    assert _local(project)["counts"]["flaky"] == 0
    changed = tmp_path / "changed.txt"
    changed.write_text("tests/test_edited.py\nREADME.md\n")

    report = _local(project, "--changed-files", str(changed))
    out = project / "shard-action-out"
    plan = json.loads((out / "plan.json").read_text())
    early = sorted(t for s in plan["shards"] for e in s["early"] for t in e["tests"])
    assert early == [EDITED_FLAKY, EDITED_STEADY]
    manifests = [json.loads(p.read_text()) for p in out.rglob("manifest.json")]
    rounds = {t: o for m in manifests for e in m["early"] for t, o in e["outcomes"].items()}
    assert rounds == {EDITED_FLAKY: ["failed", "passed"], EDITED_STEADY: ["passed", "passed"]}
    assert (project / "tests" / "edited.txt").read_text() == "4", "2 own runs + 2 extra"
    (flaky,) = report["flaky"]
    assert flaky["test"] == EDITED_FLAKY
    assert "failed 1 of 2 early-flake runs (new or changed test)" in flaky["evidence"]
    assert report["exit_code"] == 0 and report["counts"]["failed"] == 0
