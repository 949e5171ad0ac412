"""``shard-action report`` on real results: pytest's own JUnit and coverage data from shards run
in two different folders, with a corrupt file, a missing shard, a fork, user templates, the
GitHub runtime files, and the serial fallback and recovery over a chain of histories."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from shard_action.adapters.history_file import read_history
from shard_action.commands import report as command
from shard_action.commands.run import load_plan
from shard_action.core.history import History
from shard_action.core.manifest import Attempt, Rerun, ShardManifest
from shard_action.core.mode import ModeState, plan_mode
from shard_action.core.report import EXIT_FAILED, EXIT_HISTORY, EXIT_INCOMPLETE, EXIT_OK

from .factories import manifest, plan, shard

pytestmark = pytest.mark.slow

TEST_A = """\
import pathlib

from lib import calc


def test_one() -> None:
    assert calc.add(1, 2) == 3


def test_two() -> None:
    assert calc.sign(4) == 1


def test_flaky() -> None:
    marker = pathlib.Path(__file__).with_name("flaky.marker")
    if not marker.exists():
        marker.write_text("seen")
        assert False, "fails the first time only"
"""
TEST_B = """\
import pytest

from lib import calc


@pytest.mark.parametrize("value", ["a|b", "<b>x</b>", "`tick`"])
def test_hostile(value) -> None:
    assert calc.sign(len(value)) == 1


def test_broken() -> None:
    assert calc.sign(-1) == 1, "sign is wrong"
"""
CALC = (
    "def add(a, b):\n    return a + b\n\n\n"
    "def sign(x):\n    if x > 0:\n        return 1\n    return -1\n"
)

A_IDS = ["tests/test_a.py::test_one", "tests/test_a.py::test_two", "tests/test_a.py::test_flaky"]
B_IDS = [
    "tests/test_b.py::test_hostile[a|b]",
    "tests/test_b.py::test_hostile[<b>x</b>]",
    "tests/test_b.py::test_hostile[`tick`]",
    "tests/test_b.py::test_broken",
]


def _project(folder: Path) -> Path:
    (folder / "lib").mkdir(parents=True)
    (folder / "tests").mkdir()
    (folder / "lib" / "__init__.py").write_text("")
    (folder / "lib" / "calc.py").write_text(CALC)
    (folder / "tests" / "test_a.py").write_text(TEST_A)
    (folder / "tests" / "test_b.py").write_text(TEST_B)
    (folder / "pytest.ini").write_text("[pytest]\n")
    return folder


def _pytest(workdir: Path, results: Path, junit: str, ids: Sequence[str]) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COVERAGE", "PYTEST"))}
    env["COVERAGE_FILE"] = str(results / ".coverage")
    env["PYTHONPATH"] = str(workdir)
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # hypothesis & co. cost ~2 s per process
    subprocess.run(
        [
            sys.executable,
            "-m",
            "coverage",
            "run",
            "--parallel-mode",
            "--source=lib,tests",
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-o",
            "junit_family=xunit1",
            f"--junitxml={results / junit}",
            *ids,
        ],
        cwd=workdir,
        env=env,
        capture_output=True,
        check=False,
    )


def _rerun(test: str, outcomes: Sequence[str]) -> Rerun:
    attempts = [Attempt(attempt=n, outcome=o) for n, o in enumerate(outcomes, start=1)]
    return Rerun(
        test=test, attempts=attempts, verdict="flaky" if outcomes[-1] == "passed" else "broken"
    )


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two shards, each run by real pytest under coverage in its own checkout, plus re-runs."""
    base = tmp_path_factory.mktemp("fanin")
    results = base / "shard-results"
    for shard_id, ids, rerun_ids in (("s1", A_IDS, A_IDS[2:]), ("s2", B_IDS, B_IDS[3:])):
        workdir = _project(base / f"checkout-{shard_id}" / "repo")
        folder = results / shard_id
        folder.mkdir(parents=True)
        _pytest(workdir, folder, "junit-1.xml", ids)
        _pytest(workdir, folder, "junit-1-rerun1.xml", rerun_ids)
        assert (folder / "junit-1.xml").is_file() and (folder / "junit-1-rerun1.xml").is_file()
        outcomes = {t: "passed" for t in ids}
        reruns = [_rerun(A_IDS[2], ["failed", "passed"])]
        if shard_id == "s2":
            outcomes[B_IDS[3]] = "failed"
            reruns = [_rerun(B_IDS[3], ["failed", "failed"])]
        data = manifest(
            shard_id,
            ids,
            outcomes=outcomes,  # type: ignore[arg-type]
            reruns=reruns,
            workdir=str(workdir),
            junit=["junit-1.xml", "junit-1-rerun1.xml"],
            coverage=sorted(p.name for p in folder.glob(".coverage.*")),
            start=0 if shard_id == "s1" else 1,
            seconds=12 if shard_id == "s1" else 9,
            exit_code=0 if shard_id == "s1" else 1,
        )
        (folder / "manifest.json").write_text(data.model_dump_json())
    _project(base / "report-checkout")
    (base / "plan.json").write_text(
        plan([shard("s1", A_IDS, predicted=10), shard("s2", B_IDS, predicted=8)]).model_dump_json()
    )
    return base


@pytest.fixture
def site(pristine: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the results; the report runs in the report's own checkout."""
    copy = tmp_path / "site"
    shutil.copytree(pristine, copy)
    monkeypatch.chdir(copy / "report-checkout")
    for name in ("GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "GITHUB_ACTIONS", "GITHUB_REPOSITORY"):
        monkeypatch.delenv(name, raising=False)
    for name in [n for n in os.environ if n.startswith("SHARD_ACTION_")]:
        monkeypatch.delenv(name, raising=False)
    return copy


def report_site(site: Path, *extra: str) -> int:
    """``shard-action report`` through its own argument parser, on the site's plan and results,
    writing to ``site/out``; ``extra`` adds flags."""
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command")
    command.register(sub)
    args = parser.parse_args(
        [
            "report",
            "--plan", str(site / "plan.json"),
            "--results", str(site / "shard-results"),
            "--out", str(site / "out"),
            *extra,
        ]
    )  # fmt: skip
    code: int = args.func(args)
    return code


def _junit_cases(path: Path) -> list[tuple[str, str]]:
    root = ET.parse(path).getroot()
    return [
        (
            next(
                p.get("value") for p in case.iter("property") if p.get("name") == "shard-action.id"
            )
            or "",
            next(
                p.get("value")
                for p in case.iter("property")
                if p.get("name") == "shard-action.status"
            )
            or "",
        )
        for case in root.iter("testcase")
    ]


def test_the_whole_fan_in(site: Path) -> None:
    out = site / "out"
    code = report_site(site, "--history", str(site / "history.json"))
    assert code == EXIT_FAILED  # one broken test, nothing lost
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == [
        "comment.md",
        "coverage.json",
        "coverage.xml",
        "history.json",
        "junit.xml",
        "report.json",
        "summary.md",
    ]
    report = json.loads((out / "report.json").read_text())
    counts = report["counts"]
    assert (counts["tests"], counts["passed"], counts["broken"], counts["flaky"]) == (7, 5, 1, 1)
    assert report["complete"] and report["problems"] == []
    assert [f["test"] for f in report["flaky"]] == [A_IDS[2]]
    # pytest writes 0-based lines: `def test_flaky` is on line 14
    assert report["flaky"][0]["line"] == 13 and report["flaky"][0]["file"] == "tests/test_a.py"
    assert report["failures"][0]["message"].startswith("AssertionError: sign is wrong")
    assert sorted(_junit_cases(out / "junit.xml")) == sorted(
        [(t, "passed") for t in A_IDS[:2]]
        + [(A_IDS[2], "flaky")]
        + [(t, "passed") for t in B_IDS[:3]]
        + [(B_IDS[3], "broken")]
    )
    coverage = json.loads((out / "coverage.json").read_text())
    # remapped from two checkouts onto this one: each file once, by its relative path
    assert sorted(coverage["files"]) == [
        "lib/__init__.py",
        "lib/calc.py",
        "tests/test_a.py",
        "tests/test_b.py",
    ]
    assert coverage["files"]["lib/calc.py"]["missing_lines"] == []
    assert report["coverage"]["percent"] == pytest.approx(coverage["totals"]["percent_covered"])
    history = read_history(out / "history.json")
    assert history.mode.mode == "serial"  # 1 flaky of 7 run > 5%
    assert set(history.tests["default"]) == set(A_IDS + B_IDS)
    assert history.tests["default"][A_IDS[2]].outcomes == "F"


def test_a_corrupt_junit_file_is_named_and_the_other_shard_kept(site: Path) -> None:
    junit = site / "shard-results" / "s2" / "junit-1.xml"
    junit.write_bytes(junit.read_bytes()[:300])
    out = site / "out"
    code = report_site(site)
    assert code == EXIT_INCOMPLETE
    report = json.loads((out / "report.json").read_text())
    (problem,) = report["problems"]
    assert problem["source"] == str(junit.resolve()) and problem["shard"] == "s2"
    assert problem["message"].startswith("line 1: malformed XML")
    assert report["complete"]  # the manifest still accounts for s2's tests
    assert report["counts"]["tests"] == 7
    s1 = [t for t in _junit_cases(out / "junit.xml") if t[0] in A_IDS]
    assert len(s1) == 3
    assert "junit-1.xml" in (out / "summary.md").read_text()


def test_a_missing_shard_names_its_tests_and_fails_loudly(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (site / "shard-results" / "s2" / "manifest.json").unlink()
    out = site / "out"
    code = report_site(site)
    assert code == EXIT_INCOMPLETE
    report = json.loads((out / "report.json").read_text())
    assert [t["test"] for t in report["lost"]] == B_IDS
    assert report["lost_shards"][0]["shard"] == "s2"
    statuses = dict(_junit_cases(out / "junit.xml"))
    assert all(statuses[t] == "lost" for t in B_IDS)
    printed = capsys.readouterr().out
    assert "LOST 4 tests of shard s2 (lane default): the shard left no results" in printed
    assert f"lost: {B_IDS[0]} (shard s2)" in printed
    assert printed.count("the shard left no results") == 1, "the reason once, not per test"
    summary = (out / "summary.md").read_text()
    assert summary.index("[!CAUTION]") < summary.index("| Tests |")


def test_results_given_as_shard_folders_and_run_twice(site: Path) -> None:
    twin = site / "more" / "s1-again"
    shutil.copytree(site / "shard-results" / "s1", twin)
    data = ShardManifest.model_validate_json((twin / "manifest.json").read_text())
    (run,) = data.slices
    twice = run.model_copy(update={"tests": [A_IDS[0], *B_IDS]})
    (twin / "manifest.json").write_text(
        data.model_copy(update={"shard": "s2", "slices": [twice]}).model_dump_json()
    )
    (site / "shard-results" / "s2" / "manifest.json").unlink()
    out = site / "out"
    files = command.make_report(
        plan=load_plan(site / "plan.json"),
        results=[site / "shard-results" / "s1", twin],
        out=out,
    )
    report = files.report
    assert [(t.test, t.shards) for t in report.run_twice] == [(A_IDS[0], ("s1", "s2"))]
    assert report.exit_code == EXIT_INCOMPLETE


def _old_version(data: dict[str, Any]) -> dict[str, Any]:
    old = {k: v for k, v in data.items() if k != "slices"}
    old.update(version=2, runs=data["slices"])
    return old


def _missing_key(data: dict[str, Any]) -> dict[str, Any]:
    broken = {k: v for k, v in data.items() if k != "shard"}
    broken["slices"] = "not a list"
    return broken


@pytest.mark.parametrize(
    ("shard", "damage", "message", "lost"),
    [
        (
            "s2",
            _old_version,
            "shard result manifest version 2 is not supported (this shard-action reads version "
            "3): run the shards and the report with the same release",
            B_IDS,
        ),
        (
            "s1",
            _missing_key,
            "not a valid shard result manifest: key 'shard': Field required (and 1 more problems)",
            A_IDS,
        ),
    ],
    ids=["another-version", "missing-key"],
)
def test_a_bad_manifest_is_refused_by_name_and_its_tests_lost(
    site: Path,
    shard: str,
    damage: Callable[[dict[str, Any]], dict[str, Any]],
    message: str,
    lost: list[str],
) -> None:
    path = site / "shard-results" / shard / "manifest.json"
    path.write_text(json.dumps(damage(json.loads(path.read_text()))))
    assert report_site(site) == EXIT_INCOMPLETE
    report = json.loads((site / "out" / "report.json").read_text())
    (problem,) = report["problems"]
    assert problem["source"] == str(path.resolve())
    assert problem["message"] == message
    assert [t["test"] for t in report["lost"]] == lost


def test_thresholds_come_from_the_plan_then_variables_then_flags(
    site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 1 flaky test of 7: 14%. The plan job's config said 50%, so this run stays parallel.
    path = site / "plan.json"
    planned = json.loads(path.read_text())
    planned["fan_in"] = {"flaky_threshold": 0.5, "recover_after": 4, "max_demoted": 0}
    path.write_text(json.dumps(planned))

    def mode(*extra: str) -> dict[str, Any]:
        report_site(site, "--history", str(site / "history.json"), *extra)
        entry: dict[str, Any] = json.loads((site / "out" / "report.json").read_text())["mode"]
        return entry

    from_plan = mode()
    assert (from_plan["flaky_threshold"], from_plan["recover_after"]) == (0.5, 4)
    assert from_plan["next"]["mode"] == "parallel"
    monkeypatch.setenv("SHARD_ACTION_FLAKY_THRESHOLD", "0.1")
    monkeypatch.setenv("SHARD_ACTION_SHARDS", "not-a-number")  # the plan's business, not ours
    from_variable = mode()
    assert (from_variable["flaky_threshold"], from_variable["next"]["mode"]) == (0.1, "serial")
    from_flag = mode("--flaky-threshold", "0.9")
    assert (from_flag["flaky_threshold"], from_flag["next"]["mode"]) == (0.9, "parallel")
    monkeypatch.setenv("SHARD_ACTION_RECOVER_AFTER", "zero")
    report_site(site, "--history", str(site / "history.json"))
    report = json.loads((site / "out" / "report.json").read_text())
    (problem,) = report["problems"]
    assert problem["kind"] == "config" and "SHARD_ACTION_RECOVER_AFTER" in problem["message"]
    assert problem["message"].endswith("the plan's thresholds used")
    assert report["mode"]["recover_after"] == 4


def test_fork_runs_leave_no_history(site: Path) -> None:
    previous = site / "history.json"
    previous.write_text(History(mode=ModeState(reason="default branch")).model_dump_json())
    before = previous.read_bytes()
    out = site / "out"
    report_site(site, "--history", str(previous), "--fork")
    assert not (out / "history.json").exists()
    assert previous.read_bytes() == before
    report = json.loads((out / "report.json").read_text())
    assert report["fork"] and report["mode"]["next"]["mode"] == "parallel"
    assert not report["mode"]["recorded"]


def test_an_unreadable_history_still_writes_everything_else(site: Path) -> None:
    bad = site / "history.json"
    bad.write_text('{"kind": "shard-action-history", "version": 99}')
    out = site / "out"
    code = report_site(site, "--history", str(bad))
    assert code == EXIT_HISTORY
    assert not (out / "history.json").exists()
    assert (out / "summary.md").exists() and (out / "junit.xml").exists()
    problems = json.loads((out / "report.json").read_text())["problems"]
    assert [p["kind"] for p in problems] == ["history"] and "version 99" in problems[0]["message"]


def test_user_templates_and_a_broken_one(site: Path) -> None:
    folder = site / "templates"
    folder.mkdir()
    (folder / "comment.md.j2").write_text(
        "Custom: {{ report.counts.flaky }} flaky, {{ report.flaky[0].test | code }}\n"
    )
    (folder / "summary.md.j2").write_text("{% for %}\n")
    out = site / "out"
    files = command.make_report(
        plan=load_plan(site / "plan.json"),
        results=[site / "shard-results"],
        out=out,
        templates=folder,
    )
    assert (out / "comment.md").read_text() == (
        "Custom: 1 flaky, <code>tests/<wbr>test&#95;a.py&#58;&#58;<wbr>test&#95;flaky</code>\n"
    )
    assert (
        (out / "summary.md")
        .read_text()
        .startswith("## ❌ shard-action: 1 of 7 tests failing: 1 broken; 1 flaky\n")
    )
    (problem,) = files.report.problems
    assert problem.kind == "template" and problem.source == str(folder / "summary.md.j2")
    assert "summary.md.j2:1: TemplateSyntaxError" in problem.message
    assert files.report.exit_code == EXIT_FAILED  # a template problem is not a test problem


def test_github_runtime_outputs_summary_and_annotations(
    site: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    outputs = site / "github_output"
    summary = site / "step_summary"
    monkeypatch.setenv("GITHUB_OUTPUT", str(outputs))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_REPOSITORY", "octo/repo")
    monkeypatch.setenv("GITHUB_RUN_ID", "77")
    report_site(site)
    values: dict[str, str] = {}
    lines = outputs.read_text().splitlines()
    for n, line in enumerate(lines):
        if "<<" in line:
            name, _ = line.split("<<", 1)
            values[name] = lines[n + 1]
    report = json.loads((site / "out" / "report.json").read_text())
    assert values == {
        "flaky-rate": f"{1 / 7:.4f}",
        "mode": "serial",
        "coverage": f"{report['coverage']['percent']:.2f}",
        "tests": "7",
        "test-cases": "7",  # split by test: one JUnit case per test
        "failed": "1",
        "lost": "0",
    }
    assert summary.read_text().startswith("## ❌ shard-action")
    assert (
        "https://github.com/octo/repo/actions/runs/77" in (site / "out" / "comment.md").read_text()
    )
    printed = capsys.readouterr().out
    assert "::error file=tests/test_b.py,line=11,title=shard-action%3A broken test::" in printed
    assert "::warning file=tests/test_a.py,line=14,title=shard-action%3A flaky test::" in printed


def test_serial_fallback_and_recovery_through_the_history(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Flaky over the threshold → the next plan is serial → after 2 clean serial runs, parallel."""
    monkeypatch.chdir(tmp_path)
    tests = [f"tests/test_{n}.py::test_x" for n in range(10)]
    history_file = tmp_path / "history.json"
    modes: list[str] = []

    def one_run(number: int, flaky: Sequence[str]) -> None:
        history = read_history(history_file)
        mode, reason = plan_mode("auto", history if history_file.exists() else None)
        modes.append(mode)
        if mode == "serial":
            the_plan = plan(
                [shard("serial", tests, "serial", slices=[("default", 10)])], mode="serial"
            )
            shards = {"serial": tests}
        else:
            the_plan = plan([shard("p1", tests[:5]), shard("p2", tests[5:])])
            shards = {"p1": tests[:5], "p2": tests[5:]}
        results = tmp_path / f"results-{number}"
        for shard_id, ids in shards.items():
            folder = results / shard_id
            folder.mkdir(parents=True)
            reruns = [_rerun(t, ["failed", "passed"]) for t in flaky if t in ids]
            folder.joinpath("manifest.json").write_text(
                manifest(shard_id, ids, reruns=reruns, mode=mode).model_dump_json()
            )
        out = tmp_path / f"out-{number}"
        files = command.make_report(
            plan=the_plan.model_copy(update={"mode_reason": reason}),
            results=[results],
            out=out,
            history_path=history_file if history_file.exists() else None,
            flaky_threshold=0.05,
            recover_after=2,
        )
        assert files.report.exit_code == EXIT_OK
        shutil.copy(out / "history.json", history_file)

    reasons: list[str] = []
    for number, flaky in enumerate([[], [tests[3]], [], [], []], start=1):
        one_run(number, flaky)  # run 2: 1 of 10 flaky (10%) is over 5%
        reasons.append(read_history(history_file).mode.reason)
    assert modes == ["parallel", "parallel", "serial", "serial", "parallel"]
    assert tests[3] in reasons[1] and "over the 5.0% threshold" in reasons[1]
    assert "1 of 2 clean serial runs so far" in reasons[2]
    assert reasons[3].startswith("back to parallel after 2 clean serial runs")
    assert [r.mode for r in read_history(history_file).runs] == modes
