"""The whole pipeline on the bundled example: `shard-action local` as a user runs it.

One full run with the planted flaky test switched on answers most questions at once (merged
coverage, merged JUnit, flakiness, the switch to serial mode); smaller runs on one test file then
walk the history back to parallel mode, so the suite stays within a couple of minutes.
"""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from statistics import median
from typing import Any

import pytest

from tests.e2e.conftest import clean_env, copy_examples, shard_action
from tests.plan_json import plan_tests

pytestmark = pytest.mark.slow

FLAKY_TEST = "tests/test_flaky.py::test_price_table_cache_warms_up"


@dataclass
class LocalRun:
    project: Path
    out: Path
    history: Path
    proc: subprocess.CompletedProcess[str]

    def json(self, name: str) -> Any:
        return json.loads((self.out / name).read_text(encoding="utf-8"))


def run_local(
    project: Path, out: Path, history: Path, env: dict[str, str], *extra: str
) -> LocalRun:
    proc = shard_action(
        ["local", str(project), "--out", str(out), "--history", str(history), *extra],
        cwd=project.parent,
        env=env,
    )
    return LocalRun(project, out, history, proc)


@pytest.fixture(scope="module")
def flaky_run(tmp_path_factory: pytest.TempPathFactory) -> LocalRun:
    base = tmp_path_factory.mktemp("flaky-run")
    project = copy_examples(base / "project")
    flaky_dir = base / "flaky-state"
    flaky_dir.mkdir()
    env = {"EXAMPLE_FLAKY_DIR": str(flaky_dir)}
    # one flaky test in ~100 is about 1%: over this threshold, under the default 5%. Given as
    # options of `local`, they must reach the report through the plan. Demotion off: this is the
    # all-or-nothing serial rollback (tests/demotion drives demotion).
    return run_local(
        project, base / "out", base / "history.json", env,
        "--flaky-threshold", "0.005", "--recover-after", "2", "--max-demoted", "0",
    )  # fmt: skip


@pytest.fixture(scope="module")
def serial_reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A plain `coverage run -m pytest` of the same suite, without shard-action."""
    project = copy_examples(tmp_path_factory.mktemp("reference") / "project")
    run = subprocess.run(
        [sys.executable, "-m", "coverage", "run", "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=project,
        env=clean_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    subprocess.run(
        [sys.executable, "-m", "coverage", "json", "-o", "reference.json"],
        cwd=project,
        env=clean_env(),
        check=True,
        capture_output=True,
    )
    data: dict[str, Any] = json.loads((project / "reference.json").read_text())
    return data


def test_flaky_run_reports_exactly_the_planted_flaky_test(flaky_run: LocalRun) -> None:
    assert flaky_run.proc.returncode == 0, flaky_run.proc.stdout[-4000:] + flaky_run.proc.stderr
    report = flaky_run.json("report/report.json")
    assert [entry["test"] for entry in report["flaky"]] == [FLAKY_TEST]
    assert report["counts"]["flaky"] == 1
    assert report["counts"]["broken"] == 0
    assert report["counts"]["lost"] == 0
    assert report["complete"] is True


def test_the_first_run_predicts_each_shard_within_a_small_factor(flaky_run: LocalRun) -> None:
    """No history: start-up from the plan's own collection and a default finish are predicted
    (before, only the tests and shard-overhead: a shard of 0.9 s predicted took 20 s). ``local``
    has no job set-up, so the prediction's set-up (shard-overhead) is left out."""
    plan = {s["id"]: s["prediction"] for s in flaky_run.json("plan.json")["shards"]}
    ratios = []
    for shard in flaky_run.json("report/report.json")["shards"]:
        parts = plan[shard["shard"]]
        assert parts["startup"] > 0 and parts["finish"] > 0
        predicted = parts["startup"] + parts["tests"] + parts["finish"]
        ratios.append(shard["actual_seconds"] / predicted)
    assert 1 / 2.5 <= median(ratios) <= 2.5, ratios  # loaded CI machines: a factor, not 10 %
    # Per shard a wider factor: the slow lane's three tests sleep 9.6 s against the example's
    # `default-duration = 0.3` (0.9 s), and a loaded machine doubles the finish (coverage save,
    # re-runs: 3-4.6 s measured at load 6 against 1.5 s predicted); the bug this guards
    # against was 20x (only the tests and shard-overhead predicted).
    assert all(1 / 8 <= r <= 8 for r in ratios), ratios


def test_every_planned_test_is_in_the_merged_junit_exactly_once(flaky_run: LocalRun) -> None:
    plan = flaky_run.json("plan.json")
    planned = Counter(plan_tests(plan))
    root = ET.parse(flaky_run.out / "report" / "junit.xml").getroot()

    def prop(case: ET.Element, name: str) -> str | None:
        found = case.find(f"properties/property[@name='shard-action.{name}']")
        return None if found is None else found.get("value")

    # Identity, not just a count: one run twice and another lost would balance a count.
    merged = Counter(
        (prop(case, "lane"), prop(case, "id"))
        for case in root.iter("testcase")
        if prop(case, "status") != "lost"
    )
    expected = Counter(
        (p["lane"], t) for s in plan["shards"] for p in s["slices"] for t in p["tests"]
    )
    assert merged == expected
    assert set(merged.values()) == {1}
    # the fan-out lane plans the storage tests once per backend: twice in all, never more
    assert max(planned.values()) == 2
    assert all(test.startswith("tests/storage/") for test, n in planned.items() if n == 2)


def test_merged_coverage_equals_a_serial_run_line_for_line(
    flaky_run: LocalRun, serial_reference: dict[str, Any]
) -> None:
    merged = json.loads((flaky_run.out / "report" / "coverage.json").read_text())
    ours = {name: sorted(f["executed_lines"]) for name, f in merged["files"].items()}
    theirs = {name: sorted(f["executed_lines"]) for name, f in serial_reference["files"].items()}
    assert ours.keys() == theirs.keys()
    for name, lines in theirs.items():
        assert ours[name] == lines, name
    assert merged["totals"]["percent_covered"] == serial_reference["totals"]["percent_covered"]


def test_flaky_rate_over_threshold_turns_history_serial_then_recovers(
    flaky_run: LocalRun,
) -> None:
    history = json.loads(flaky_run.history.read_text())
    assert history["mode"]["mode"] == "serial"
    assert "threshold" in history["mode"]["reason"]
    report = flaky_run.json("report/report.json")
    assert report["mode"]["next"]["mode"] == "serial"

    assert report["mode"]["flaky_threshold"] == 0.005 and report["mode"]["recover_after"] == 2

    # The next runs follow the history: serial, flaky test off, a small part of the suite; the
    # settings now come from a --config file, which only the plan reads.
    out = flaky_run.out.parent / "after"
    config = out / "ci.toml"
    config.parent.mkdir(parents=True)
    config.write_text('collect-args = ["tests/test_models.py"]\nrecover-after = 2\n')

    def local(run: Path) -> LocalRun:
        return run_local(flaky_run.project, run, flaky_run.history, {}, "--config", str(config))

    first = local(out / "1")
    assert first.proc.returncode == 0, first.proc.stdout[-3000:] + first.proc.stderr
    plan = first.json("plan.json")
    assert plan["mode"] == "serial"
    assert [s["id"] for s in plan["shards"]] == ["serial"]
    kept = json.loads(flaky_run.history.read_text())["mode"]
    assert (kept["mode"], kept["clean_serial_runs"]) == ("serial", 1)  # 1 clean run of 2

    second = local(out / "2")
    assert second.proc.returncode == 0, second.proc.stdout[-3000:] + second.proc.stderr
    assert second.json("plan.json")["mode"] == "serial"
    recovered = json.loads(flaky_run.history.read_text())
    assert recovered["mode"]["mode"] == "parallel"

    third = local(out / "3")
    assert third.json("plan.json")["mode"] == "parallel"


def test_local_leaves_every_file_where_the_readme_says(flaky_run: LocalRun) -> None:
    out = flaky_run.out
    plan = flaky_run.json("plan.json")
    for shard in plan["shards"]:
        assert (out / "shards" / shard["id"] / "manifest.json").is_file()
    for name in ("junit.xml", "coverage.json", "coverage.xml", "summary.md", "comment.md",
                 "history.json", "report.json"):  # fmt: skip
        assert (out / "report" / name).is_file(), name
    assert "```mermaid" in (out / "report" / "summary.md").read_text()
