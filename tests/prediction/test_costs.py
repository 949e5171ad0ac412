"""The prediction model's arithmetic: speed factor, learned costs, predicted parts, the fan-in.

Expected figures are written out by hand (or follow from a transformation of the input: a run
twice as slow), never computed by the code under test.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shard_action.adapters.timing_files import read_timings
from shard_action.core.history import History
from shard_action.core.prediction import (
    SAMPLES,
    SPEED_RANGE,
    Costs,
    LaneCosts,
    Measured,
    Parts,
    ProcessTimes,
    costs_of,
    learned,
    measure,
    predict,
    recent_speed,
    speed_factor,
)
from shard_action.core.report import ShardResult, build
from shard_action.core.results import CaseResult, JUnitReport
from tests.report.factories import manifest, plan, shard

seconds = st.floats(min_value=0.05, max_value=100, allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(st.lists(seconds, min_size=5, max_size=40), st.floats(min_value=0.3, max_value=3.5))
def test_a_run_uniformly_slower_by_c_has_speed_factor_c(before: list[float], c: float) -> None:
    assert speed_factor((b * c, b) for b in before) == pytest.approx(c, rel=1e-9)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(seconds, seconds), max_size=40),
    st.floats(min_value=0.01, max_value=100, allow_nan=False),
)
def test_the_speed_factor_stays_in_its_range_and_scales_with_the_run(
    pairs: list[tuple[float, float]], c: float
) -> None:
    low, high = SPEED_RANGE
    factor = speed_factor(pairs)
    scaled = speed_factor((now * c, before) for now, before in pairs)
    if len(pairs) < 5:  # every pair here is usable: fewer than five compare nothing
        assert factor is None and scaled is None
        return
    assert factor is not None and scaled is not None
    assert low <= factor <= high
    if low < factor * c < high and low < factor < high:
        assert scaled == pytest.approx(factor * c, rel=1e-6)


def test_few_or_tiny_timings_give_no_factor() -> None:
    assert speed_factor([(2.0, 1.0)] * 4) is None  # fewer than five tests
    assert speed_factor([(0.5, 0.001)] * 50) is None  # history times too small to judge
    assert speed_factor([]) is None  # the history's first run
    assert speed_factor([(100.0, 1.0)] * 9) == SPEED_RANGE[1]


def _measured(setup: float, interpreter: float, finish: float, **files: float) -> Measured:
    return Measured(
        parts=Parts(setup=setup, startup=interpreter + sum(files.values()), tests=3, finish=finish),
        interpreter=interpreter,
        files={f"tests/{name}.py": s for name, s in files.items()},
    )


def test_costs_are_medians_of_recent_samples_normalised_by_the_runs_speed() -> None:
    lanes: dict[str, LaneCosts] = {}
    for interpreter in (1.0, 1.2, 9.0):  # one outlier
        lanes = learned(lanes, [("db", _measured(20.0, interpreter, 0.5, a=0.3))])
    # a run twice as slow: its CPU-bound samples are halved, its set-up is kept as measured
    lanes = learned(lanes, [("db", _measured(40.0, 2.2, 1.0, a=0.6, b=0.8))], speed=2.0)
    got = costs_of(lanes)["db"]
    assert got.interpreter == pytest.approx((1.1 + 1.2) / 2)  # median of 1.0 1.1 1.2 9.0
    assert got.setup == pytest.approx(20.0)  # median of 20 20 20 40
    assert got.finish == pytest.approx(0.5)
    assert got.files == {"tests/a.py": pytest.approx(0.3), "tests/b.py": pytest.approx(0.4)}
    for _ in range(2 * SAMPLES):
        lanes = learned(lanes, [("db", _measured(10.0, 1.0, 0.5))])
    assert lanes["db"].setup == [10.0] * SAMPLES  # the window forgets old samples


def test_a_shard_with_reruns_gives_no_finish_sample() -> None:
    rerun = _measured(5.0, 1.0, 30.0).model_copy(update={"reruns": True})
    assert learned({}, [("x", rerun)])["x"].finish == []


def test_unusable_samples_in_a_history_file_are_dropped_not_the_history() -> None:
    read = History.model_validate(
        {
            "costs": {
                "db": {
                    "setup": [1.0, "x", -2, 1e300, True, 3.0],
                    "files": {"tests/a.py": [0.5, None], "tests/b.py": ["bad"]},
                    "finish": "nope",
                }
            }
        }
    )
    assert read.costs["db"].setup == [1.0, 3.0]
    assert read.costs["db"].files == {"tests/a.py": [0.5]}
    assert read.costs["db"].finish == []


def test_a_prediction_adds_set_up_start_up_per_file_tests_and_finish() -> None:
    costs = Costs(
        setup=12.0, interpreter=1.5, finish=0.75, files={"tests/a.py": 2.0, "tests/b.py": 0.5}
    )
    got = predict(costs, ["tests/a.py", "tests/a.py", "tests/c.py"], 10.0, overhead=30.0)
    # c.py was never measured: the median of the measured files, (2.0 + 0.5) / 2
    assert got == Parts(setup=12.0, startup=1.5 + 2.0 + 1.25, tests=10.0, finish=0.75)
    assert got.total == pytest.approx(12 + 4.75 + 10 + 0.75)
    assert predict(None, ["tests/a.py"], 10.0, overhead=30.0) == Parts(setup=30.0, tests=10.0)
    assert predict(Costs(), [], 1.0, overhead=7.0) == Parts(setup=7.0, tests=1.0)


def test_measure_splits_the_shard_wall_where_each_part_falls() -> None:
    # the shard starts at 100; our CLI reads the plan until 100.2; pytest configures at 100.9,
    # runs tests from 101.5 to 104.5; a second (serial) process from 105 to 106 (tests 105.8-106)
    processes = [ProcessTimes(100.2, 100.9, 101.5, 104.5), ProcessTimes(105.0, 105.3, 105.8, 106.0)]
    got = measure(100.0, 107.0, processes, {"tests/a.py": 0.25}, reruns=False)
    assert got is not None
    assert got.parts.startup == pytest.approx(0.2 + 1.3 + 0.8)
    assert got.parts.tests == pytest.approx(3.0 + 0.2)
    assert got.interpreter == pytest.approx(0.2 + 0.7 + 0.3)
    assert got.parts.finish == pytest.approx(7.0 - 2.3 - 3.2)
    assert measure(0.0, 1.0, [], {}, reruns=False) is None


A = [f"tests/test_a.py::test_{n}" for n in range(8)]


def _junit(factor: float) -> JUnitReport:
    return JUnitReport(
        source="junit-1.xml",
        cases=tuple(
            CaseResult(f"test_{n}", "tests.test_a", "tests/test_a.py", (n + 1) * factor, "passed")
            for n in range(8)
        ),
    )


def _result(factor: float, interpreter: float) -> ShardResult:
    made = manifest("s1", A, junit=["junit-1.xml"], seconds=60.0 * factor)
    parts = Parts(startup=interpreter + 0.5 * factor, tests=36 * factor, finish=2 * factor)
    measured = Measured(
        parts=parts, interpreter=interpreter, files={"tests/test_a.py": 0.5 * factor}
    )
    return ShardResult(
        made.model_copy(update={"measured": measured}), {"junit-1.xml": _junit(factor)}
    )


def test_a_loaded_run_leaves_durations_and_costs_where_a_clean_run_put_them() -> None:
    the_plan = plan([shard("s1", A)])
    first = build(the_plan, [_result(1.0, 1.0)], history=History()).history
    assert first is not None
    clean = build(the_plan, [_result(1.0, 1.0)], history=first).history
    loaded = build(the_plan, [_result(3.0, 3.0)], history=first, setups={"s1": 25.0}).history
    assert clean is not None and loaded is not None
    assert loaded.runs[-1].speed == pytest.approx(3.0)
    assert clean.runs[-1].speed == pytest.approx(1.0)
    for n, test in enumerate(A):
        assert loaded.tests["default"][test].recent == pytest.approx([n + 1.0, n + 1.0])
    assert loaded.costs["default"].interpreter == pytest.approx([1.0, 1.0])
    assert loaded.costs["default"].files == {"tests/test_a.py": pytest.approx([0.5, 0.5])}
    assert loaded.costs["default"].finish == pytest.approx([2.0, 2.0])
    assert loaded.costs["default"].setup == [25.0]


def test_the_first_run_casts_no_vote_on_the_speed_the_next_plan_uses() -> None:
    # a loaded first run defines the history's speed; it measured no speed against anything,
    # so the next plan takes the second run's factor, not the mean of a made-up 1.0 and it
    the_plan = plan([shard("s1", A)])
    first = build(the_plan, [_result(2.0, 1.0)], history=History()).history
    assert first is not None
    assert first.runs[-1].speed is None
    for n, test in enumerate(A):
        assert first.tests["default"][test].recent == pytest.approx([2 * (n + 1.0)])
    second = build(the_plan, [_result(1.0, 1.0)], history=first).history
    assert second is not None
    assert second.runs[-1].speed == pytest.approx(0.5)
    assert second.speed() == pytest.approx(0.5)  # was (1.0 + 0.5) / 2 = 0.75


def test_the_report_compares_the_same_parts_it_predicted() -> None:
    prediction = Parts(setup=20.0, startup=2.0, tests=30.0, finish=1.0)
    planned = shard("s1", A, predicted=prediction.total).model_copy(
        update={"prediction": prediction}
    )
    without = build(plan([planned]), [_result(1.0, 1.0)], history=History()).report.shards[0]
    # no set-up measured: both columns leave it out
    assert without.predicted_seconds == pytest.approx(33.0)
    assert without.actual_seconds == pytest.approx(60.0)
    assert without.measured is not None and without.measured.setup == 0
    given = build(
        plan([planned]), [_result(1.0, 1.0)], history=History(), setups={"s1": 18.0}
    ).report.shards[0]
    assert given.predicted_seconds == pytest.approx(53.0)
    assert given.actual_seconds == pytest.approx(78.0)
    assert given.measured is not None and given.measured.setup == 18.0
    assert given.prediction == prediction
    assert math.isclose(given.measured.tests, 36.0)


def test_a_run_of_many_shards_gives_each_lane_one_sample_so_the_window_spans_runs() -> None:
    lanes: dict[str, LaneCosts] = {}
    for run in range(3):
        # five shards a run; within a run the median shard is what counts
        shards = [("db", _measured(10.0 + run, 1.0 + run, 0.5, a=0.1 * (k + 1))) for k in range(5)]
        lanes = learned(lanes, shards)
    assert lanes["db"].interpreter == [1.0, 2.0, 3.0]  # one per run, not the last run's five
    assert lanes["db"].setup == [10.0, 11.0, 12.0]
    assert lanes["db"].files == {"tests/a.py": [pytest.approx(0.3)] * 3}


@pytest.mark.parametrize(
    ("speeds", "expected"),
    [
        ([], 1.0),
        ([None, None], 1.0),
        ([1.0], 1.0),
        ([1.0, 0.278, 0.278], 0.278),  # a loaded first run is forgotten once others agree
        ([1.0, 1.0, 1.0, 1.0, 3.0], 1.0),  # one odd run does not move it
        ([9.0, 1.0, 2.0, 2.0, 2.0, 2.0, 2.0], 2.0),  # a suite that got slower: the last five
    ],
)
def test_the_recent_speed_is_the_median_of_the_last_runs_factors(
    speeds: list[float | None], expected: float
) -> None:
    assert recent_speed(speeds) == pytest.approx(expected)


RUN = {"mode": "parallel", "tests": 1, "flaky": 0, "flaky_rate": 0.0}


def test_a_history_written_before_the_first_run_kept_no_factor_still_skips_it() -> None:
    # histories from before e711756 say 1.0 for their first run, a figure nothing measured
    history = History.model_validate(
        {"runs": [{"index": 1, "speed": 1.0, **RUN}, {"index": 2, "speed": 0.45, **RUN}]}
    )
    assert history.speed() == pytest.approx(0.45)  # was (1.0 + 0.45) / 2


def test_the_plan_predicts_at_the_recent_runs_speed_not_the_first_runs(tmp_path: Path) -> None:
    # the history started on a loaded machine (3.6 s, factor 1.0); later runs ran at 0.278
    history = History.model_validate(
        {
            "tests": {"default": {"tests/a.py::t": {"duration": 3.6, "last_seen": 3}}},
            "costs": {"default": {"interpreter": [2.0], "finish": [1.0], "setup": [20.0]}},
            "runs": [
                {"index": 1, "speed": 1.0, **RUN},
                {"index": 2, "speed": 0.278, **RUN},
                {"index": 3, "speed": 0.278, **RUN},
            ],
        }
    )
    assert history.speed() == pytest.approx(0.278)  # index 1 skipped: 0.278 either way
    got = costs_of(history.costs, speed=history.speed())["default"]
    assert got.interpreter == pytest.approx(2.0 * 0.278)
    assert got.finish == pytest.approx(0.278)
    assert got.setup == pytest.approx(20.0), "set-up is stored as measured"
    saved = tmp_path / "history.json"
    saved.write_text(history.model_dump_json(), encoding="utf-8")
    (read,) = read_timings([str(saved)]).observations
    assert read.seconds == pytest.approx(3.6 * 0.278)
