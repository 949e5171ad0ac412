"""Outages are not flakes: a run whose failures point at the world (most tests failing, one
shard, one error, a dead shard) does not move the flaky rate, the mode or the flip history."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shard_action.commands.report import default_templates
from shard_action.core.history import History, TestRecord
from shard_action.core.mode import ModeState
from shard_action.core.outage import MIN_FAILURES, Ran, detect, signature
from shard_action.core.render import render_comment, render_summary, template_set
from shard_action.core.report import EXIT_FAILED, Settings, ShardResult, build

from .factories import manifest, plan, shard
from .test_report_build import flaky_rerun

A = [f"tests/test_a.py::test_{n}" for n in range(10)]
B = [f"tests/test_b.py::test_{n}" for n in range(10)]


def ran(shard_id: str, n: int, failing: int, *, error: str | None = None) -> list[Ran]:
    return [
        Ran(shard_id, i < failing, error=error is not None and i < failing, message=error)
        for i in range(n)
    ]


def test_most_tests_failing_is_an_outage_and_the_threshold_is_strict() -> None:
    assert detect(ran("s1", 10, 9), threshold=0.8, shards=1) == (
        "9 of 10 tests failed (90%, over the 80% outage threshold)"
    )
    assert detect(ran("s1", 10, 8), threshold=0.8, shards=1) is None  # 80% is not over 80%
    assert detect(ran("s1", 10, 10), threshold=1.0, shards=1) is None  # 1 turns the rule off


def test_a_tiny_suite_with_few_failures_is_never_an_outage() -> None:
    assert detect(ran("s1", 2, 2), threshold=0.8, shards=1) is None
    assert MIN_FAILURES == 3


def test_failures_clustered_in_one_shard() -> None:
    tests = ran("s1", 10, 9) + ran("s2", 10, 1)
    assert detect(tests, threshold=0.8, shards=2) == (
        "9 of the 10 failures are in shard s1: 90% of its 10 tests failed "
        "(over the 80% outage threshold)"
    )
    # the same failures spread over two shards are not one shard's outage
    spread = ran("s1", 10, 5) + ran("s2", 10, 4)
    assert detect(spread, threshold=0.8, shards=2) is None


def test_one_error_message_numbers_left_out() -> None:
    refused = [
        Ran(f"s{p % 2}", True, error=True, message=f"OperationalError: port {p} refused")
        for p in (5432, 5433, 5434, 5435)
    ]
    tests = [*refused, Ran("s2", True, message="assert 1 == 2"), *ran("s3", 20, 0)]
    reason = detect(tests, threshold=0.75, shards=3)
    assert reason == (
        "4 of the 5 failing tests ended in the same error (OperationalError: port # refused)"
    )
    # assertion failures alike are a real regression, not an outage
    same_assert = [Ran(f"s{n % 3}", True, message="assert 1 == 2") for n in range(5)]
    same_assert += ran("s1", 20, 0)
    assert detect(same_assert, threshold=0.75, shards=3) is None
    assert signature("E  boom 0x7f3a at 12.5 s\nmore") == "E  boom # at # s"


def test_a_dead_shard_is_always_an_outage() -> None:
    assert detect(ran("s1", 10, 0), threshold=1.0, shards=2, dead_shards=["s2"]) == (
        "1 shard died or left no results (s2)"
    )


@given(
    st.lists(st.tuples(st.sampled_from(["s1", "s2", "s3"]), st.booleans()), max_size=40),
    st.floats(0, 1),
)
def test_fewer_than_min_failures_or_none_over_the_threshold_is_no_outage(
    rows: list[tuple[str, bool]], threshold: float
) -> None:
    tests = [Ran(s, failed) for s, failed in rows]
    failing = sum(failed for _, failed in rows)
    reason = detect(tests, threshold=threshold, shards=3)
    if failing < MIN_FAILURES:
        assert reason is None
    if reason is not None:
        shares = [failing / len(tests)] + [
            sum(f for s, f in rows if s == x) / max(1, sum(1 for s, _ in rows if s == x))
            for x in ("s1", "s2", "s3")
        ]
        assert max(shares) > threshold


def _history() -> History:
    records = {t: TestRecord(duration=1.0, outcomes="ppp", last_seen=3) for t in A + B}
    return History(tests={"default": records}, mode=ModeState(reason="calm"))


def test_an_outage_run_does_not_change_the_mode_nor_the_flip_history() -> None:
    the_plan = plan([shard("s1", A), shard("s2", B)])
    # shard s1: every test errors in its fixture (the database did not start); two flake
    down = dict.fromkeys(A, "error")
    results = [
        ShardResult(manifest("s1", A, outcomes=down, exit_code=1)),  # type: ignore[arg-type]
        ShardResult(manifest("s2", B, reruns=[flaky_rerun(B[0]), flaky_rerun(B[1])])),
    ]
    fanin = build(the_plan, results, history=_history(), settings=Settings())
    report = fanin.report
    assert report.mode.outage == (
        "10 of the 12 failures are in shard s1: 100% of its 10 tests failed "
        "(over the 80% outage threshold)"
    )
    # 2 flaky of 20 is 10%, over the 5% threshold: without the outage rule this goes serial.
    assert report.mode.flaky_rate == pytest.approx(0.1)
    assert report.mode.next.mode == "parallel" and not report.mode.changed
    assert report.mode.next.reason.startswith("run #1 looked like an outage (10 of the 12")
    assert report.exit_code == EXIT_FAILED  # the failures still fail the job
    assert fanin.history is not None
    assert fanin.history.mode.mode == "parallel"
    assert fanin.history.runs[-1].outage == report.mode.outage
    tests = fanin.history.tests["default"]
    assert tests[A[0]].outcomes == "ppp" and tests[A[0]].last_seen == 3  # no 'f' written
    assert tests[B[5]].outcomes == "pppp"  # the healthy shard's passes are kept
    templates = template_set(default_templates())
    summary = render_summary(templates, report).text
    comment = render_comment(templates, report).text
    shown = re.sub(r"\\([^\w\s])", r"\1", summary)
    assert "**This run looks like an outage, not flakiness**: 10 of the 12 failures" in shown
    assert "(`outage-threshold` 80%)" in shown
    assert "**Looks like an outage, not flakiness**" in comment


def test_the_same_run_without_the_outage_rule_goes_serial() -> None:
    the_plan = plan([shard("s1", A), shard("s2", B)])
    down = dict.fromkeys(A, "error")
    results = [
        ShardResult(manifest("s1", A, outcomes=down, exit_code=1)),  # type: ignore[arg-type]
        ShardResult(manifest("s2", B, reruns=[flaky_rerun(B[0]), flaky_rerun(B[1])])),
    ]
    settings = Settings(outage_threshold=1.0, max_demoted=0)
    report = build(the_plan, results, history=_history(), settings=settings).report
    assert report.mode.outage is None
    assert report.mode.next.mode == "serial"


def test_an_outage_while_serial_neither_counts_nor_resets_recovery() -> None:
    the_plan = plan([shard("s1", A), shard("s2", B)], mode="serial")
    history = _history().model_copy(
        update={
            "mode": ModeState(
                mode="serial",
                reason="r",
                cause="flaky rate 30% in run #1",
                since=1,
                clean_serial_runs=2,
            )
        }
    )
    results = [ShardResult(manifest("s1", A))]  # s2 died: no results at all
    report = build(the_plan, results, history=history, settings=Settings()).report
    assert report.mode.outage == "1 shard died or left no results (s2)"
    assert report.mode.next.mode == "serial" and report.mode.next.clean_serial_runs == 2
    assert "2 of 3 clean serial runs so far" in report.mode.next.reason
