"""``core.report.build``: counts, flaky rate, mode decision, history and exit status agree."""

from __future__ import annotations

from typing import Any

import pytest

from shard_action.commands.report import default_templates
from shard_action.core.history import History, TestRecord
from shard_action.core.manifest import Attempt, Rerun
from shard_action.core.mode import ModeState
from shard_action.core.plan import Plan
from shard_action.core.render import render_comment, render_summary, template_set
from shard_action.core.report import (
    EXIT_FAILED,
    EXIT_HISTORY,
    EXIT_INCOMPLETE,
    EXIT_OK,
    CoverageTotals,
    Problem,
    Settings,
    ShardResult,
    build,
)
from shard_action.core.results import CaseResult, JUnitReport

from .factories import manifest, plan, shard, slice_result

A = [f"tests/test_a.py::test_{n}" for n in range(10)]
B = [f"tests/test_b.py::test_{n}" for n in range(10)]


def flaky_rerun(test: str) -> Rerun:
    return Rerun(
        test=test,
        attempts=[Attempt(attempt=1, outcome="failed"), Attempt(attempt=2, outcome="passed")],
        verdict="flaky",
    )


def broken_rerun(test: str) -> Rerun:
    return Rerun(
        test=test,
        attempts=[Attempt(attempt=n, outcome="failed") for n in (1, 2, 3)],
        verdict="broken",
    )


def two_shards(**b_kwargs: Any) -> tuple[Plan, list[ShardResult]]:
    the_plan = plan([shard("s1", A, predicted=20.0), shard("s2", B, predicted=20.0)], overhead=5)
    results = [
        ShardResult(manifest("s1", A, start=0, seconds=30)),
        ShardResult(manifest("s2", B, start=2, seconds=20, **b_kwargs)),
    ]
    return the_plan, results


def test_coverage_from_fewer_shards_than_planned_says_it_is_partial() -> None:
    the_plan, results = two_shards()
    history = build(
        the_plan, results, history=History(), coverage=CoverageTotals(80.0, 80, 100, 9, 2)
    ).history
    assert history is not None and history.last_coverage() == 80.0
    partial = CoverageTotals(60.0, 60, 100, 9, 1, shards=("s1",))
    fanin = build(the_plan, results[:1], history=history, coverage=partial)
    cover = fanin.report.coverage
    assert (cover.partial, cover.shards, cover.planned_shards) == (True, 1, 2)
    assert cover.percent == 60.0 and cover.previous == 80.0
    assert cover.delta is None  # not "-20 pp": the other shard's code is simply not in it
    assert fanin.history is not None and fanin.history.runs[-1].coverage is None
    assert fanin.history.last_coverage() == 80.0  # the next run compares with a whole figure
    templates = template_set(default_templates())
    summary = render_summary(templates, fanin.report).text
    assert "**Partial coverage**: only 1 of 2 planned shards left coverage data" in summary
    assert "from 1 shard data file (partial)." in summary
    assert "(partial: 1 of 2 shards)" in render_comment(templates, fanin.report).text

    whole = build(the_plan, results, history=history, coverage=CoverageTotals(
        82.0, 82, 100, 9, 2, shards=("s1", "s2")))  # fmt: skip
    assert not whole.report.coverage.partial and whole.report.coverage.delta == pytest.approx(2)


def test_a_clean_run() -> None:
    the_plan, results = two_shards()
    fanin = build(
        the_plan, results, history=History(), coverage=CoverageTotals(81.5, 815, 1000, 9, 2)
    )
    report = fanin.report
    assert report.exit_code == EXIT_OK and report.ok and report.complete
    assert (report.counts.tests, report.counts.passed, report.counts.flaky) == (20, 20, 0)
    assert report.run == 1
    assert report.mode.next.mode == "parallel" and report.mode.recorded
    assert report.coverage.percent == 81.5 and report.coverage.delta is None
    # wall: first start 0 to last end 30; busy 30 + 20; overhead 5 on both sides
    assert report.timing.wall_seconds == 30
    assert report.timing.busy_seconds == 50
    assert report.timing.speedup == pytest.approx(55 / 35)
    assert [
        (s.shard, s.predicted_seconds, s.actual_seconds, s.start_offset) for s in report.shards
    ] == [
        ("s1", 20.0, 30.0, 0.0),
        ("s2", 20.0, 20.0, 2.0),
    ]
    assert fanin.history is not None and fanin.history.runs[-1].coverage == 81.5
    assert len(fanin.tests) == 20


def test_flaky_over_the_threshold_turns_the_history_serial_with_the_tests_named() -> None:
    the_plan, results = two_shards(reruns=[flaky_rerun(B[3])])
    fanin = build(
        the_plan, results, history=History(), settings=Settings(flaky_threshold=0.04, max_demoted=0)
    )
    report = fanin.report
    assert report.counts.flaky == 1 and report.mode.flaky_rate == pytest.approx(1 / 20)
    assert report.mode.next.mode == "serial" and report.mode.changed
    assert B[3] in report.mode.next.reason
    assert report.exit_code == EXIT_OK  # flaky is not failing unless fail-on-flaky
    (flaky,) = report.flaky
    assert (flaky.test, flaky.shard, flaky.attempts, flaky.flip_rate) == (B[3], "s2", 2, 1.0)
    assert not flaky.flaky_on_its_own
    history = fanin.history
    assert history is not None and history.mode.mode == "serial" and history.mode.since == 1
    assert history.tests["default"][B[3]].outcomes == "F"


def test_under_the_threshold_stays_parallel() -> None:
    the_plan, results = two_shards(reruns=[flaky_rerun(B[3])])
    fanin = build(the_plan, results, history=History(), settings=Settings(flaky_threshold=0.05))
    assert fanin.report.mode.next.mode == "parallel"


def test_flaky_in_a_serial_run_is_flaky_on_its_own_and_flip_rates_use_the_window() -> None:
    serial_plan = plan([shard("serial", A, "serial", slices=[("default", 10)])], mode="serial")
    history = History(
        mode=ModeState(mode="serial", reason="r"),
        tests={"default": {A[1]: TestRecord(duration=1, outcomes="ppp", last_seen=3)}},
    )
    results = [ShardResult(manifest("serial", A, reruns=[flaky_rerun(A[1])], mode="serial"))]
    report = build(serial_plan, results, history=history).report
    (flaky,) = report.flaky
    assert flaky.flaky_on_its_own
    assert flaky.flip_rate == pytest.approx(1 / 4)  # "pppF"
    assert report.mode.flaky_on_their_own
    # 1 flaky of 3 is over the 5% threshold, but serial cannot fix it: a clean serial run
    assert (report.mode.next.mode, report.mode.next.clean_serial_runs) == ("serial", 1)


def test_broken_tests_fail_the_run_and_fail_on_flaky_is_honoured() -> None:
    the_plan, results = two_shards(reruns=[broken_rerun(B[0])], outcomes={B[0]: "failed"})
    report = build(the_plan, results, history=History()).report
    assert report.exit_code == EXIT_FAILED
    assert (report.counts.broken, report.counts.failed) == (1, 0)
    assert report.failures[0].test == B[0] and report.failures[0].attempts == 3
    strict = plan([shard("s1", A)], fail_on_flaky=True)
    flaky = build(
        strict, [ShardResult(manifest("s1", A, reruns=[flaky_rerun(A[0])]))], history=History()
    )
    assert flaky.report.exit_code == EXIT_FAILED


def test_lost_tests_win_over_everything_and_the_history_still_learns() -> None:
    the_plan, results = two_shards(outcomes={B[0]: "failed"})
    fanin = build(the_plan, results[:1], history=History())
    report = fanin.report
    assert report.exit_code == EXIT_INCOMPLETE and not report.complete
    assert fanin.history is not None and set(fanin.history.tests["default"]) == set(A)
    assert fanin.history.runs[-1].lost == 10
    assert report.counts.lost == 10 and report.counts.lost_shards == 1
    assert [s.status for s in report.shards] == ["passed", "missing"]


def test_an_unreadable_result_file_is_incomplete_even_if_all_tests_are_accounted() -> None:
    the_plan, results = two_shards()
    problem = Problem(kind="results", source="s2/junit-1.xml", message="line 3: bad", shard="s2")
    report = build(the_plan, results, history=History(), problems=[problem]).report
    assert report.complete and report.exit_code == EXIT_INCOMPLETE
    coverage_only = Problem(kind="coverage", source=".coverage.s2", message="corrupt")
    assert (
        build(the_plan, results, history=History(), problems=[coverage_only]).report.exit_code
        == EXIT_OK
    )


def test_an_unreadable_history_is_not_written_and_exits_2() -> None:
    the_plan, results = two_shards()
    problem = Problem(kind="history", source="history.json", message="bad")
    fanin = build(the_plan, results, history=None, problems=[problem])
    assert fanin.history is None and fanin.report.exit_code == EXIT_HISTORY
    assert not fanin.report.mode.recorded and fanin.report.run is None


def test_a_fork_never_changes_the_history() -> None:
    the_plan, results = two_shards(reruns=[flaky_rerun(B[3]), flaky_rerun(B[4])])
    previous = History(mode=ModeState(reason="fine"))
    fanin = build(the_plan, results, history=previous, settings=Settings(fork=True))
    assert fanin.history is None
    assert fanin.report.mode.next.mode == "parallel" and not fanin.report.mode.recorded
    assert "fork" in fanin.report.mode.next.reason
    assert fanin.report.counts.flaky == 2  # still reported


def test_coverage_delta_against_the_previous_history() -> None:
    the_plan, results = two_shards()
    previous = History.model_validate(
        {
            "runs": [
                {
                    "index": 4,
                    "mode": "parallel",
                    "tests": 1,
                    "flaky": 0,
                    "flaky_rate": 0,
                    "coverage": 80.0,
                },
                {"index": 5, "mode": "parallel", "tests": 1, "flaky": 0, "flaky_rate": 0},
            ]
        }
    )
    report = build(the_plan, results, history=previous, coverage=CoverageTotals(80.25)).report
    assert report.coverage.previous == 80.0 and report.coverage.delta == pytest.approx(0.25)
    assert report.run == 6
    none = build(
        the_plan, results, history=previous, coverage=CoverageTotals(None, note="no data")
    ).report
    assert not none.coverage.measured and none.coverage.note == "no data"


def test_junit_details_reach_the_entries() -> None:
    the_plan = plan([shard("s1", A[:2])])
    junit = JUnitReport(
        source="junit-1.xml",
        cases=(
            CaseResult("test_0", "tests.test_a", "tests/test_a.py", 1.25, "passed", line=3),
            CaseResult(
                "test_1", "tests.test_a", "tests/test_a.py", 0.5, "failed", message="boom", line=9
            ),
            CaseResult("test_9", "tests.test_q", "tests/test_q.py", 0.5, "passed"),
        ),
    )
    results = [
        ShardResult(
            manifest("s1", A[:2], outcomes={A[1]: "failed"}, junit=["junit-1.xml"]),
            {"junit-1.xml": junit},
        )
    ]
    fanin = build(the_plan, results, history=History())
    first, second = fanin.tests
    assert (first.seconds, first.line, first.classname) == (1.25, 3, "tests.test_a")
    assert (second.status, second.message, second.line) == ("failed", "boom", 9)
    assert fanin.report.shards[0].unmatched_cases == 1
    assert fanin.history is not None
    assert fanin.history.tests["default"][A[0]].duration == 1.25


DB = ["tests/test_db.py::test_q", "tests/test_db.py::test_r"]


def _cases(*cases: tuple[str, str, float]) -> JUnitReport:
    return JUnitReport(
        source="junit.xml",
        cases=tuple(
            CaseResult(name, "tests.test_db", "tests/test_db.py", seconds, outcome)  # type: ignore[arg-type]
            for name, outcome, seconds in cases
        ),
    )


def test_serial_fan_out_judges_and_times_each_lane_instance_from_its_own_run() -> None:
    """The same ids in two runs of the serial shard: two tests each, never one test seen twice."""
    serial_plan = plan(
        [shard("serial", [*DB, *DB], "serial", slices=[("db-a", 2), ("db-b", 2)])], mode="serial"
    )
    runs = [
        slice_result("db-a", DB, junit=["junit-1.xml"]),
        slice_result(
            "db-b", DB, reruns=[flaky_rerun(DB[1])], junit=["junit-2.xml", "junit-2-rerun1.xml"]
        ),
    ]
    reports = {
        "junit-1.xml": _cases(("test_q", "passed", 1.0), ("test_r", "passed", 2.0)),
        "junit-2.xml": _cases(("test_q", "passed", 3.0), ("test_r", "failed", 4.0)),
        "junit-2-rerun1.xml": _cases(("test_r", "passed", 5.0)),
    }
    result = ShardResult(manifest("serial", slices=runs, mode="serial"), reports)
    fanin = build(serial_plan, [result], history=History())
    report = fanin.report
    assert report.complete and report.counts.tests == 4
    assert [(e.lane, e.test, e.status, e.seconds, e.attempts) for e in fanin.tests] == [
        ("db-a", DB[0], "passed", 1.0, 1),
        ("db-a", DB[1], "passed", 2.0, 1),
        ("db-b", DB[0], "passed", 3.0, 1),
        ("db-b", DB[1], "flaky", 4.0, 2),
    ]
    assert all(e.fanned_out for e in fanin.tests)
    assert report.mode.flaky_rate == pytest.approx(1 / 4), "(lane, id) pairs are the tests run"
    assert f"{DB[1]} (lane db-b)" in report.mode.next.reason
    assert report.shards[0].unmatched_cases == 0
    history = fanin.history
    assert history is not None
    assert {
        lane: {t: r.duration for t, r in tests.items()} for lane, tests in history.tests.items()
    } == {
        "db-a": {DB[0]: 1.0, DB[1]: 2.0},
        "db-b": {DB[0]: 3.0, DB[1]: 4.0},
    }
    assert (history.tests["db-a"][DB[1]].outcomes, history.tests["db-b"][DB[1]].outcomes) == (
        "p",
        "F",
    )
    assert history.runs[-1].flaky_tests == [f"{DB[1]} (lane db-b)"]


def test_serial_fan_out_a_lost_instance_is_named_with_its_lane() -> None:
    serial_plan = plan(
        [shard("serial", [*DB, *DB], "serial", slices=[("db-a", 2), ("db-b", 2)])], mode="serial"
    )
    runs = [slice_result("db-a", DB), slice_result("db-b", DB[:1], planned=2)]
    result = ShardResult(manifest("serial", slices=runs, mode="serial", failure="killed"))
    report = build(serial_plan, [result], history=History()).report
    assert report.exit_code == EXIT_INCOMPLETE
    assert [(x.test, x.lane, x.fanned_out) for x in report.lost] == [(DB[1], "db-b", True)]
    # report.json embeds the completeness record as it is: the documented keys, nothing else
    assert report.model_dump(mode="json")["lost"] == [
        {
            "test": DB[1],
            "lane": "db-b",
            "shard": "serial",
            "reason": "not run: the shard stopped early",
            "fanned_out": True,
        }
    ]


def test_the_report_names_the_coverage_cores_that_measured_the_shards() -> None:
    the_plan = plan([shard("s1", A, predicted=20.0), shard("s2", B, predicted=20.0)], overhead=5)
    runs = {
        "s1": slice_result("default", A).model_copy(update={"coverage_core": "sysmon"}),
        "s2": slice_result("default", B).model_copy(update={"coverage_core": "ctrace"}),
    }
    results = [ShardResult(manifest(s, slices=[r])) for s, r in runs.items()]
    fanin = build(
        the_plan, results, history=History(), coverage=CoverageTotals(80.0, 80, 100, 9, 2)
    )
    assert fanin.report.coverage.cores == ["ctrace", "sysmon"]
    templates = template_set(default_templates())
    summary = render_summary(templates, fanin.report).text
    assert "Measured with coverage.py's <code>ctrace</code>, <code>sysmon</code> cores." in summary
    one = build(
        the_plan,
        [ShardResult(manifest("s1", slices=[runs["s1"]]))],
        history=History(),
        coverage=CoverageTotals(80.0, 80, 100, 9, 1),
    )
    assert (
        "Measured with coverage.py's <code>sysmon</code> core."
        in render_summary(templates, one.report).text
    )
