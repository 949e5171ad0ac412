"""History arithmetic: robust durations, outcome windows, flip rates, pruning and the size bound."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shard_action.core.history import (
    History,
    Limits,
    Observed,
    RunRecord,
    TestRecord,
    flip_rate,
    letter_of,
    record_of,
    update_tests,
    with_run,
)
from shard_action.core.mode import ModeState
from shard_action.core.models import smoothed


@pytest.mark.parametrize(
    ("outcomes", "rate"),
    [
        ("", 0.0),
        ("ssss", 0.0),
        ("pppp", 0.0),
        ("ffff", 0.0),
        ("FFFF", 1.0),
        ("pppf", 0.25),  # broke once: one flip in four runs
        ("pfpf", 0.75),
        ("pFp", 1 / 3),
        ("psf", 0.5),  # skips are left out: p then f
        ("fF", 0.5),  # the first run has nothing to flip from; F flips from f, and in itself
        ("Ff", 1.0),
    ],
)
def test_flip_rate(outcomes: str, rate: float) -> None:
    assert flip_rate(outcomes) == pytest.approx(rate)


@given(st.text(alphabet="pfFs", max_size=60))
def test_flip_rate_is_a_fraction(outcomes: str) -> None:
    assert 0.0 <= flip_rate(outcomes) <= 1.0


def test_one_outlier_run_does_not_move_the_duration() -> None:
    history = History()
    durations = [2.0, 2.1, 1.9, 60.0, 2.0]  # one run on a slow machine
    for index, seconds in enumerate(durations, start=1):
        tests = update_tests(
            history, [Observed("default", "t", "p", seconds)], index=index, serial=False
        )
        history = with_run(
            history,
            RunRecord(index=index, mode="parallel", tests=1, flaky=0, flaky_rate=0.0),
            tests,
            mode=ModeState(mode="parallel", reason=""),
        )
    record = history.tests["default"]["t"]
    assert record.duration == 2.0
    assert record.recent == durations
    assert record.outcomes == "ppppp"


def test_a_real_slowdown_wins_once_most_samples_agree() -> None:
    history = History()
    seen = []
    for index, seconds in enumerate([1.0] * 5 + [5.0] * 3, start=1):
        tests = update_tests(
            history, [Observed("lane", "t", "p", seconds)], index=index, serial=False
        )
        history = History(tests=tests)
        seen.append(tests["lane"]["t"].duration)
    assert seen == [1.0] * 7 + [5.0]  # 2 slow runs of 5 samples: no; 3 of 5: yes
    assert smoothed([1.0, 3.0]) == 2.0


def test_window_and_sample_limits() -> None:
    limits = Limits(window=3, samples=2)
    history = History()
    for index, letter in enumerate("pfFsp", start=1):
        tests = update_tests(
            history,
            [Observed("lane", "t", letter, float(index))],  # type: ignore[arg-type]
            index=index,
            serial=False,
            limits=limits,
        )
        history = History(tests=tests)
    record = history.tests["lane"]["t"]
    assert record.outcomes == "Fsp"
    assert record.recent == [4.0, 5.0]
    assert record.last_seen == 5


def test_missing_seconds_keep_the_old_duration_and_old_records_migrate() -> None:
    old = History(tests={"lane": {"t": TestRecord(duration=3.0, outcomes="pp", last_seen=4)}})
    tests = update_tests(old, [Observed("lane", "t", "p", None)], index=5, serial=False)
    assert tests["lane"]["t"].duration == 3.0
    assert tests["lane"]["t"].recent == [3.0]


def test_flaky_in_serial_mode_is_remembered() -> None:
    tests = update_tests(History(), [Observed("lane", "t", "F", 1.0)], index=7, serial=True)
    assert tests["lane"]["t"].last_serial_flake == 7
    tests = update_tests(History(), [Observed("lane", "t", "F", 1.0)], index=7, serial=False)
    assert tests["lane"]["t"].last_serial_flake is None


def test_tests_not_seen_for_prune_after_runs_are_dropped() -> None:
    history = History(
        tests={
            "a": {
                "old": TestRecord(duration=1, last_seen=2),
                "edge": TestRecord(duration=1, last_seen=3),
            }
        }
    )
    tests = update_tests(
        history,
        [Observed("b", "new", "p", 1.0)],
        index=12,
        serial=False,
        limits=Limits(prune_after=10),
    )
    # "old" was not seen in runs 3..12 (10 runs): gone; "edge" missed only 9
    assert set(tests["a"]) == {"edge"}
    assert set(tests["b"]) == {"new"}


@settings(max_examples=60)
@given(
    st.lists(
        st.lists(st.tuples(st.sampled_from(["x", "y"]), st.integers(0, 30)), max_size=25),
        min_size=1,
        max_size=8,
    ),
    st.integers(1, 40),
    st.integers(1, 6),
)
def test_pruning_keeps_the_size_bound_and_the_newest(
    runs: list[list[tuple[str, int]]], max_tests: int, prune_after: int
) -> None:
    limits = Limits(max_tests=max_tests, prune_after=prune_after)
    history = History()
    for index, seen in enumerate(runs, start=1):
        observed = [Observed(lane, f"t{n}", "p", 0.1) for lane, n in seen]
        tests = update_tests(history, observed, index=index, serial=False, limits=limits)
        total = sum(len(records) for records in tests.values())
        assert total <= max_tests
        for records in tests.values():
            for record in records.values():
                assert record.last_seen > index - prune_after
        distinct_now = len({(lane, n) for lane, n in seen})
        seen_now = sum(r.last_seen == index for recs in tests.values() for r in recs.values())
        assert seen_now == min(distinct_now, max_tests)  # this run's tests go last, if ever
        history = History(tests=tests)


def test_runs_are_bounded_and_flaky_lists_capped() -> None:
    limits = Limits(max_runs=3, max_flaky_listed=2)
    history = History()
    for index in range(1, 6):
        run = RunRecord(
            index=index,
            mode="parallel",
            tests=3,
            flaky=3,
            flaky_rate=1.0,
            flaky_tests=["a", "b", "c"],
            coverage=float(index),
        )
        history = with_run(
            history,
            run,
            {},
            mode=ModeState(mode="serial", reason="r", since=1, cause="c"),
            limits=limits,
        )
    assert [r.index for r in history.runs] == [3, 4, 5]
    assert history.runs[-1].flaky_tests == ["a", "b"]
    assert history.next_index() == 6
    assert history.last_coverage() == 5.0


def test_letters() -> None:
    assert [letter_of(s) for s in ("passed", "flaky", "failed", "broken", "skipped")] == list(
        "pFffs"
    )


def test_a_history_written_before_the_new_fields_still_reads() -> None:
    document = {
        "kind": "shard-action-history",
        "version": 1,
        "mode": "parallel",
        "mode_reason": "no history yet",
        "clean_serial_runs": 0,
        "runs": [{"index": 0, "mode": "parallel", "tests": 2, "flaky": 0, "flaky_rate": 0.0}],
        "tests": {"default": {"t": {"duration": 1.5, "outcomes": "p", "last_seen": 0}}},
    }
    history = History.model_validate(History.from_older(json.loads(json.dumps(document))))
    assert history.tests["default"]["t"].recent == []
    assert history.next_index() == 1
    assert history.last_coverage() is None


def test_a_demoted_run_is_recorded_and_found_under_its_home_lane() -> None:
    """One test, one series: a run in ``db.demoted`` extends the record of ``db`` and every
    lookup (``History.record``, ``record_of``) finds it from either lane name."""
    first = update_tests(History(), [Observed("db", "t", "p", 1.0)], index=1, serial=False)
    history = History(tests=first)
    tests = update_tests(history, [Observed("db.demoted", "t", "F", 2.0)], index=2, serial=False)
    assert list(tests) == ["db"]
    assert tests["db"]["t"].outcomes == "pF"
    after = History(tests=tests)
    assert after.record("db.demoted", "t") == after.record("db", "t") == tests["db"]["t"]
    assert record_of(tests, "db.demoted", "t") is tests["db"]["t"]
    assert after.record("other", "t") is None
