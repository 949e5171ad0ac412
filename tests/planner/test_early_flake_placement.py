"""Where the plan puts the extra runs of new tests (``core.early_flakes``): spare time only."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from shard_action.core.early_flakes import STARTUP_SECONDS, place_early_runs
from shard_action.core.plan import Plan
from shard_action.core.prediction import Parts
from tests.report.factories import plan, shard


def _lanes_cost(built: Plan, per_test: float) -> Plan:
    """Give every lane ``per_test`` seconds per test on average (the placement's cost)."""
    lanes = [
        lane.model_copy(update={"tests": 10, "seconds": 10 * per_test, "longest": per_test})
        for lane in built.lanes
    ]
    return built.model_copy(update={"lanes": lanes})


def test_new_tests_go_to_the_shard_with_room_and_known_ones_stay() -> None:
    built = _lanes_cost(
        plan(
            [
                shard("a-1", ["t/a.py::old_1", "t/a.py::new_1"], predicted=20.0),
                shard("a-2", ["t/b.py::old_2", "t/b.py::new_2"], predicted=8.0),
                shard("a-3", ["t/c.py::old_3"], predicted=19.0),
            ]
        ),
        per_test=0.5,
    )
    placed = place_early_runs(built, {"t/a.py::old_1", "t/b.py::old_2", "t/c.py::old_3"}, 3)
    # a-2 has 12 s of room: 3 starts (3 s) and 3 runs of each new test (1.5 s each) fit there.
    assert [(s.id, [(e.lane, e.tests) for e in s.early]) for s in placed.plan.shards] == [
        ("a-1", []),
        ("a-2", [("default", ["t/a.py::new_1", "t/b.py::new_2"])]),
        ("a-3", []),
    ]
    assert (placed.new, placed.placed) == (2, 2)
    assert placed.plan.runner.early_flake_runs == 3
    assert placed.plan.shards[1].slices == built.shards[1].slices, "the main pass is unchanged"


def test_off_without_history_in_serial_mode_and_without_room() -> None:
    one = plan([shard("a-1", ["t/a.py::x"], predicted=5.0), shard("a-2", [], predicted=5.0)])
    assert place_early_runs(one, set(), 2).plan == one, "no history: every test would be new"
    assert place_early_runs(one, {"t/a.py::y"}, 0).plan == one
    serial = plan([shard("serial", ["t/a.py::x"], "*", slices=[("default", 1)])], mode="serial")
    assert place_early_runs(serial, {"t/a.py::y"}, 2).plan == serial
    even = place_early_runs(one, {"t/a.py::y"}, 2)
    assert (even.new, even.placed) == (1, 0), "two shards of 5 s: no room anywhere"
    assert all(s.early == [] for s in even.plan.shards)


@settings(max_examples=150, deadline=None)
@given(
    walls=st.lists(st.floats(0.0, 60.0), min_size=1, max_size=6),
    new_mask=st.lists(st.booleans(), min_size=24, max_size=24),
    runs=st.integers(1, 5),
    per_test=st.floats(0.0, 5.0),
)
def test_placement_stays_within_each_shards_room(
    walls: list[float], new_mask: list[bool], runs: int, per_test: float
) -> None:
    lanes = ["a", "b"]
    shards = [
        shard(f"s{i}", [f"t/{i}.py::t{j}" for j in range(4)], lanes[i % 2], predicted=wall)
        for i, wall in enumerate(walls)
    ]
    built = _lanes_cost(plan(shards), per_test)
    every = [t for s in shards for t in s.tests]
    known = {t for t, new in zip(every, new_mask, strict=False) if not new} | {"t/old.py::x"}
    placed = place_early_runs(built, known, runs)
    assert placed == place_early_runs(built, known, runs), "deterministic"
    makespan = max(walls)
    seen: list[str] = []
    for planned in placed.plan.shards:
        extra = [t for e in planned.early for t in e.tests]
        seen += extra
        for early in planned.early:
            assert early.lane == planned.lane, "a new test runs again with its own lane's rules"
            assert not set(early.tests) & known, "only new tests run again"
        cost = runs * per_test * len(extra) + (runs * STARTUP_SECONDS if extra else 0.0)
        assert cost <= makespan - planned.predicted_seconds + 1e-9, "only in spare time"
    assert len(seen) == len(set(seen)) == placed.placed <= placed.new
    assert placed.new == sum(1 for t in every if t not in known)


def test_each_round_pays_its_process_start_up_and_finish_once_per_lane() -> None:
    # stage 20 s; a-2 predicted 10 s of which start-up 1 s and finish 2 s: a round costs 3 s
    roomy = shard("a-2", ["t/b.py::old_2", "t/b.py::new_2"], predicted=10.0).model_copy(
        update={"prediction": Parts(setup=2.0, startup=1.0, tests=5.0, finish=2.0)}
    )
    built = _lanes_cost(plan([shard("a-1", ["t/a.py::old_1"], predicted=20.0), roomy]), 0.5)
    known = {"t/a.py::old_1", "t/b.py::old_2"}
    # 3 rounds: 3 x 0.5 s of the test + 3 x 3 s of processes = 10.5 s > 10 s of room
    assert place_early_runs(built, known, 3).placed == 0
    # 2 rounds: 2 x 0.5 + 2 x 3 = 7 s fits
    assert place_early_runs(built, known, 2).placed == 1


def test_a_second_lane_in_the_same_shard_pays_its_own_processes() -> None:
    two = shard(
        "s-1",
        ["t/a.py::old", "t/a.py::new_a", "t/b.py::new_b"],
        "a",
        slices=[("a", 2), ("b", 1)],
        predicted=10.0,
    ).model_copy(update={"prediction": Parts(startup=1.0, tests=8.0, finish=1.0)})
    built = _lanes_cost(plan([two, shard("s-2", ["t/c.py::old"], "a", predicted=15.0)]), 0.5)
    placed = place_early_runs(built, {"t/a.py::old", "t/c.py::old"}, 2)
    # 5 s of room: lane a's new test 2 x 0.5 + 2 x 2 s = 5 s fits; lane b's would need 5 s more
    assert [(e.lane, e.tests) for e in placed.plan.shards[0].early] == [("a", ["t/a.py::new_a"])]
    assert (placed.new, placed.placed) == (2, 1)


def test_one_long_test_in_the_lane_does_not_make_every_new_test_cost_as_much() -> None:
    # the lane: one 10 s test and eleven of 0.01 s; a-1 holds the long one (12 s), a-2 has 8 s
    # of room. A new test costs the lane's other tests' mean, 0.01 s: 2 rounds of the 2 new
    # tests (0.04 s) and 2 processes (2 x 1 s) fit; at the lane's plain mean (0.84 s) they
    # needed 5.4 s, and at a smaller room nothing would fit
    built = plan(
        [
            shard("a-1", ["t/slow.py::t"], predicted=12.0),
            shard("a-2", ["t/b.py::old", "t/b.py::new_1", "t/b.py::new_2"], predicted=4.0),
        ]
    )
    lanes = [
        lane.model_copy(update={"tests": 12, "seconds": 10.11, "longest": 10.0})
        for lane in built.lanes
    ]
    built = built.model_copy(update={"lanes": lanes})
    placed = place_early_runs(built.model_copy(), {"t/slow.py::t", "t/b.py::old"}, 2)
    assert (placed.new, placed.placed) == (2, 2)
    tight = built.model_copy(
        update={
            "shards": [
                built.shards[0],
                built.shards[1].model_copy(update={"predicted_seconds": 9.5}),
            ]
        }
    )
    # 2.5 s of room: 2 processes (2 s) + 0.04 s fit; at the plain mean (5.4 s) they did not
    assert place_early_runs(tight, {"t/slow.py::t", "t/b.py::old"}, 2).placed == 2
