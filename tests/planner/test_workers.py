"""Workers inside a shard: the model (LPT over w plus start-up) and how the planner uses it."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from shard_action.core.config import Config, LaneConfig
from shard_action.core.models import TestItem, Timings
from shard_action.core.planner import make_plan
from shard_action.core.prediction import LaneCosts, ProcessTimes, costs_of, learned, measure
from shard_action.core.workers import (
    AUTO_UNKNOWN,
    WORKER_STARTUP,
    longest_first,
    resolve,
    schedule,
    shard_seconds,
    startup,
)

durations = st.lists(
    st.floats(min_value=0.0, max_value=500.0, allow_nan=False, allow_infinity=False),
    max_size=60,
)
worker_counts = st.integers(min_value=1, max_value=8)
startups = st.floats(min_value=0.0, max_value=5.0, allow_nan=False)


@given(durations, worker_counts, startups)
def test_every_test_runs_on_exactly_one_worker(seconds: list[float], w: int, up: float) -> None:
    plan = schedule(seconds, w, up)
    assert len(plan.assignment) == w
    assert Counter(i for worker in plan.assignment for i in worker) == Counter(range(len(seconds)))


@given(durations, worker_counts, startups)
def test_makespan_is_within_the_bounds_of_list_scheduling(
    seconds: list[float], w: int, up: float
) -> None:
    """Never under the bound (start-up + max(sum / w, longest)); LPT is within Graham's
    bound above it (start-up + sum / w + longest)."""
    makespan = schedule(seconds, w, up).makespan
    total, longest = sum(seconds), max(seconds, default=0.0)
    assert makespan >= up + max(total / w, longest) - 1e-6
    assert makespan <= up + total / w + longest + 1e-6


@given(durations, startups)
def test_one_worker_is_start_up_plus_the_sum(seconds: list[float], up: float) -> None:
    assert schedule(seconds, 1, up).makespan == pytest.approx(up + sum(seconds))
    assert shard_seconds(seconds, 1) == pytest.approx(sum(seconds))


@given(durations)
def test_longest_first_is_a_non_increasing_permutation(seconds: list[float]) -> None:
    order = longest_first(list(range(len(seconds))), seconds)
    assert sorted(order) == list(range(len(seconds)))
    ranked = [seconds[i] for i in order]
    assert ranked == sorted(seconds, reverse=True)


def test_a_small_schedule_by_hand() -> None:
    # 4 -> w0 (ends 1.5 + 4 = 5.5), 3 -> w1 (4.5), 3 -> w1 (7.5), 2 -> w0 (7.5)
    plan = schedule([3.0, 4.0, 2.0, 3.0], 2, 1.5)
    assert plan.assignment == ((1, 2), (0, 3))
    assert plan.finish == (7.5, 7.5)


def test_resolve() -> None:
    assert resolve(None, 8) == 1
    assert resolve(3, 8) == 3
    assert resolve("auto", 4) == 4
    assert resolve("auto", None) == AUTO_UNKNOWN


def _items(counts: dict[str, int]) -> list[TestItem]:
    return [TestItem(id=f"{f}::t{i}", file=f) for f, n in counts.items() for i in range(n)]


def test_a_lane_with_workers_is_planned_longest_first_with_the_worker_model() -> None:
    tests = _items({"tests/a.py": 2, "tests/b.py": 2})
    seconds = {
        "tests/a.py::t0": 3.0,
        "tests/a.py::t1": 4.0,
        "tests/b.py::t0": 2.0,
        "tests/b.py::t1": 3.0,
    }
    config = Config(shards=1, lanes=[LaneConfig(name="default", workers=2)])
    plan = make_plan(
        config, tests, Timings(durations=seconds), mode="parallel", mode_reason="test", cpus=8
    )
    (shard,) = plan.shards
    assert shard.tests == ["tests/a.py::t1", "tests/a.py::t0", "tests/b.py::t1", "tests/b.py::t0"]
    assert plan.lane(shard.lane).workers == 2
    assert shard.prediction is not None
    assert shard.prediction.tests == pytest.approx(6.0)  # 4+2 | 3+3
    # the workers' start is start-up, where the runner measures it (process start to first test)
    assert shard.prediction.startup == pytest.approx(WORKER_STARTUP)
    assert shard.predicted_seconds == pytest.approx(config.shard_overhead + WORKER_STARTUP + 6)
    bound = config.shard_overhead + WORKER_STARTUP + 6.0  # max(sum 12 / (1 shard * 2), 4)
    assert plan.lanes[0].lower_bound == pytest.approx(bound)


def test_auto_workers_are_planned_with_the_cpus_given_and_one_worker_means_none() -> None:
    tests = _items({"tests/a.py": 4})
    timings = Timings(durations={t.id: 1.0 for t in tests})

    def runs(workers: int | str, cpus: int | None) -> object:
        lane = LaneConfig.model_validate({"name": "default", "workers": workers})
        config = Config(shards=1, lanes=[lane])
        plan = make_plan(config, tests, timings, mode="parallel", mode_reason="t", cpus=cpus)
        prediction = plan.shards[0].prediction
        assert prediction is not None
        return plan.lanes[0].workers, prediction.startup + prediction.tests

    assert runs("auto", 4) == ("auto", pytest.approx(WORKER_STARTUP + 1.0))
    # planned on one CPU, but "auto" is the test job's CPU count: it stays for the runner
    assert runs("auto", 1) == ("auto", 4.0)
    assert runs(1, 8) == (None, 4.0)


@pytest.mark.parametrize("workers", [4, "auto"])
def test_serial_mode_never_uses_workers(workers: int | str) -> None:
    tests = _items({"tests/a.py": 3})
    lane = LaneConfig.model_validate({"name": "default", "workers": workers})
    for cpus in (1, 4, None):
        plan = make_plan(
            Config(lanes=[lane]), tests, Timings(durations={}), mode="serial", mode_reason="t",
            cpus=cpus,
        )  # fmt: skip
        assert [lane.workers for lane in plan.lanes] == [None], (workers, cpus)


def test_a_sequential_lane_with_workers_is_a_config_error() -> None:
    with pytest.raises(ValidationError, match="sequential lane must not"):
        LaneConfig(name="serial", mode="sequential", workers=2)
    with pytest.raises(ValidationError):
        LaneConfig(name="x", workers=0)


def test_an_ordered_selection_puts_collected_ids_in_plan_order() -> None:
    from shard_action.core.selection import Selection  # noqa: PLC0415

    keep = ("b.py::slow", "a.py::mid", "c.py")  # c.py: a whole file, planned as one unit
    chosen = Selection(keep, frozenset(keep), frozenset({"a.py"}), ordered=True)
    collected = ["a.py::drifted", "a.py::mid", "b.py::slow", "c.py::x", "c.py::y"]
    assert sorted(collected, key=chosen.rank()) == [
        "b.py::slow",
        "a.py::mid",
        "c.py::x",
        "c.py::y",
        "a.py::drifted",
    ]
    assert Selection.from_json(chosen.to_json()) == chosen
    assert Selection.from_json({"keep": [], "known": [], "owned_files": []}).ordered is False


def test_a_lane_s_learned_worker_start_replaces_the_first_run_figure() -> None:
    """Measured under xdist: start-up 2.0 = interpreter 0.3 + files 0.2 + 1.5 (workers) at speed
    2 → 0.75 stored; planned at speed 1 from a history of 0.75 and 0.5: median 0.625."""
    times = ProcessTimes(began=10.0, configured=10.3, first=12.0, last=14.0, xdist=True)
    files = {"tests/a.py": 0.1, "tests/b.py": 0.1}
    got = measure(10.0, 15.0, [times], files, reruns=False)
    assert got is not None and got.workers == pytest.approx(1.5)
    plain = measure(10.0, 15.0, [replace(times, xdist=False)], files, reruns=False)
    assert plain is not None and plain.workers is None
    lanes = learned({"default": LaneCosts(workers=[0.5])}, [("default", got)], speed=2.0)
    assert lanes["default"].workers == [0.5, 0.75]
    assert LaneCosts.model_validate({"workers": [0.5, "x", -1]}).workers == [0.5]
    assert LaneCosts.model_validate({}).workers == []  # an older history: none measured
    costs = costs_of(lanes)["default"]
    assert costs.workers == pytest.approx(0.625)
    assert startup(None) == WORKER_STARTUP and startup(0.625) == 0.625

    tests = _items({"tests/a.py": 2, "tests/b.py": 2})
    seconds = dict.fromkeys((t.id for t in tests), 1.0)
    config = Config(shards=1, lanes=[LaneConfig(name="default", workers=2)])
    plan = make_plan(
        config, tests, Timings(durations=seconds), mode="parallel", mode_reason="test",
        cpus=8, costs={"default": costs},
    )  # fmt: skip
    (shard,) = plan.shards
    assert shard.prediction is not None
    # interpreter 0.3 / 2, the files' collection 0.1 / 2 each, the learned workers' start
    assert shard.prediction.startup == pytest.approx(0.15 + 0.1 + 0.625)
    assert shard.prediction.tests == pytest.approx(2.0)
    # the lower bound starts the workers alike (it was 1.5 s above the prediction): one shard,
    # both are the fixed costs + 0.625 + the collection 0.1 + 4 s over 2 workers
    assert plan.lanes[0].lower_bound == pytest.approx(shard.predicted_seconds)
