"""Planned vs executed: lost tests and shards, tests run twice, unplanned tests, drift."""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import given
from hypothesis import strategies as st

from shard_action.core.completeness import Executed, ExecutedRun, check
from shard_action.core.manifest import Drift
from shard_action.core.plan import Plan

from .factories import plan, shard


def ran(
    shard_id: str,
    tests: Sequence[str],
    *,
    lane: str = "default",
    drift: Sequence[Drift] = (),
    failure: str | None = None,
) -> Executed:
    """A shard that executed ``tests`` in one run of ``lane``."""
    return Executed(shard_id, [ExecutedRun(lane, tests, drift)], failure)


A = [f"tests/test_a.py::test_{n}" for n in range(3)]
B = [f"tests/test_b.py::test_{n}" for n in range(3)]


def test_everything_ran_once() -> None:
    result = check(plan([shard("s1", A), shard("s2", B)]), [ran("s1", A), ran("s2", B)])
    assert result.complete
    assert result.planned == 6
    assert [(i.test, i.shard, i.kind) for i in result.executed] == [
        *((t, "s1", "planned") for t in A),
        *((t, "s2", "planned") for t in B),
    ]


def test_a_missing_shard_loses_all_its_tests_by_name() -> None:
    result = check(plan([shard("s1", A), shard("s2", B)]), [ran("s1", A)])
    assert not result.complete
    assert [(s.shard, s.tests) for s in result.lost_shards] == [("s2", 3)]
    assert [(t.test, t.shard) for t in result.lost] == [(t, "s2") for t in B]
    assert all("left no results" in t.reason for t in result.lost)


def test_a_shard_that_stopped_early_names_its_missing_tests_and_why() -> None:
    result = check(plan([shard("s1", A)]), [ran("s1", A[:1], failure="exceeded the lane timeout")])
    assert [t.test for t in result.lost] == A[1:]
    # the cause is the shard's (said once, from its manifest), not copied onto every test
    assert all(t.reason == "not run: the shard stopped early" for t in result.lost)
    assert not result.lost_shards


def test_run_twice_across_shards_and_within_one() -> None:
    result = check(
        plan([shard("s1", A), shard("s2", B)]),
        [ran("s1", [*A, A[0]]), ran("s2", [*B, A[1]])],
    )
    twice = {t.test: t.shards for t in result.run_twice}
    assert twice == {A[0]: ("s1", "s1"), A[1]: ("s1", "s2")}
    assert not result.unplanned and not result.lost
    assert not result.complete
    assert len(result.executed) == 6  # each test counted once


def test_unplanned_tests_are_named_with_where_they_ran() -> None:
    result = check(plan([shard("s1", A)]), [ran("s1", [*A, "tests/test_z.py::test_new"])])
    assert [(u.test, u.shard, u.planned_in) for u in result.unplanned] == [
        ("tests/test_z.py::test_new", "s1", ())
    ]
    assert not result.complete
    assert result.executed[-1].kind == "unplanned"


def test_a_test_run_in_the_wrong_shard_is_unplanned_there_and_lost_where_planned() -> None:
    result = check(
        plan([shard("s1", A), shard("s2", B)]),
        [ran("s1", [*A[:2], B[0]]), ran("s2", [*B[1:], A[2]])],
    )
    assert {(u.test, u.shard, u.planned_in) for u in result.unplanned} == {
        (B[0], "s1", ("s2",)),
        (A[2], "s2", ("s1",)),
    }
    assert {(t.test, t.shard) for t in result.lost} == {(B[0], "s2"), (A[2], "s1")}


def test_drift_with_a_replacement_is_reported_not_lost() -> None:
    planned_id = "tests/test_t.py::test_time[12:00:01]"
    replacement = "tests/test_t.py::test_time[12:00:09]"
    result = check(
        plan([shard("s1", [*A, planned_id])]),
        [
            ran(
                "s1",
                [*A, replacement],
                drift=[
                    Drift(file="tests/test_t.py", planned=[planned_id], collected=[replacement])
                ],
            )
        ],
    )
    assert result.complete
    assert not result.lost and not result.unplanned
    (note,) = result.drift
    assert note.replaced and note.planned == (planned_id,)
    assert result.executed[-1].kind == "drift"


def test_drift_replaced_in_the_owning_shard_counts_for_the_other_shard() -> None:
    p1 = "tests/test_t.py::test_time[1]"
    p2 = "tests/test_t.py::test_time[2]"
    new = ["tests/test_t.py::test_time[7]", "tests/test_t.py::test_time[8]"]
    result = check(
        plan([shard("s1", [p1]), shard("s2", [p2])]),
        [
            ran("s1", new, drift=[Drift(file="tests/test_t.py", planned=[p1], collected=new)]),
            ran("s2", [], drift=[Drift(file="tests/test_t.py", planned=[p2])]),
        ],
    )
    assert result.complete
    assert [d.replaced for d in result.drift] == [True, True]


def test_drift_without_any_replacement_is_lost() -> None:
    planned_id = "tests/test_t.py::test_time[1]"
    result = check(
        plan([shard("s1", [planned_id])]),
        [ran("s1", [], drift=[Drift(file="tests/test_t.py", planned=[planned_id])])],
    )
    (lost,) = result.lost
    assert lost.test == planned_id and "drifted" in lost.reason


DB = ["tests/test_db.py::test_q", "tests/test_db.py::test_r"]


def serial_fan_out() -> Plan:
    runs = [("db-a", 2), ("db-b", 2), ("default", 3)]
    return plan([shard("serial", [*DB, *DB, *A], "serial", slices=runs)], mode="serial")


def test_serial_shard_runs_a_fan_out_lane_once_per_instance_and_that_is_complete() -> None:
    the_plan = serial_fan_out()
    executed = Executed(
        "serial",
        [ExecutedRun("db-a", DB), ExecutedRun("db-b", DB), ExecutedRun("default", A)],
    )
    result = check(the_plan, [executed])
    assert result.complete
    assert [(i.test, i.lane, i.run) for i in result.executed] == [
        (DB[0], "db-a", 0),
        (DB[1], "db-a", 0),
        (DB[0], "db-b", 1),
        (DB[1], "db-b", 1),
        *((t, "default", 2) for t in A),
    ]
    assert result.fanned_out == frozenset(DB)


def test_the_second_instance_of_a_fanned_out_id_is_lost_on_its_own() -> None:
    the_plan = serial_fan_out()
    executed = Executed(
        "serial",
        [ExecutedRun("db-a", DB), ExecutedRun("db-b", DB[:1]), ExecutedRun("default", A)],
        failure="shard serial, lane db-b: killed by signal 9",
    )
    result = check(the_plan, [executed])
    assert [(t.test, t.lane, t.shard) for t in result.lost] == [(DB[1], "db-b", "serial")]
    assert result.lost[0].reason == "not run: the shard stopped early"  # the why: the shard's
    assert not result.run_twice and not result.unplanned


def test_an_id_twice_in_one_lane_instance_ran_twice_and_a_run_of_an_unplanned_lane_is_named() -> (
    None
):
    the_plan = serial_fan_out()
    executed = Executed(
        "serial",
        [
            ExecutedRun("db-a", [*DB, DB[0]]),
            ExecutedRun("db-c", DB),  # a lane instance this shard was not given
            ExecutedRun("default", A),
        ],
    )
    result = check(the_plan, [executed])
    assert [(t.test, t.lane, t.shards) for t in result.run_twice] == [
        (DB[0], "db-a", ("serial", "serial"))
    ]
    assert [(u.test, u.lane, u.planned_in) for u in result.unplanned] == [
        (DB[0], "db-c", ("serial",)),
        (DB[1], "db-c", ("serial",)),
    ]
    assert {(t.test, t.lane) for t in result.lost} == {(DB[0], "db-b"), (DB[1], "db-b")}
    assert not result.complete


def test_parallel_fan_out_each_instance_in_its_own_shards() -> None:
    the_plan = plan([shard("db-a-1", DB, "db-a"), shard("db-b-1", DB, "db-b")])
    both = check(the_plan, [ran("db-a-1", DB, lane="db-a"), ran("db-b-1", DB, lane="db-b")])
    assert both.complete and len(both.executed) == 4
    # the db-b shard ran its tests under the wrong lane: unplanned there, lost in db-b
    wrong = check(the_plan, [ran("db-a-1", DB, lane="db-a"), ran("db-b-1", DB, lane="db-a")])
    assert {(t.test, t.lane) for t in wrong.run_twice} == {(t, "db-a") for t in DB}
    assert {(t.test, t.lane) for t in wrong.lost} == {(t, "db-b") for t in DB}


def test_drift_is_replaced_per_lane_instance_under_fan_out() -> None:
    p1 = "tests/test_t.py::test_time[1]"
    new = "tests/test_t.py::test_time[7]"
    the_plan = plan(
        [shard("serial", [p1, p1], "serial", slices=[("t-a", 1), ("t-b", 1)])], mode="serial"
    )
    bases = [lane.model_copy(update={"base": "t"}) for lane in the_plan.lanes]
    the_plan = the_plan.model_copy(update={"lanes": bases})
    lost_in_b = Drift(file="tests/test_t.py", planned=[p1])
    replaced_in_a = Drift(file="tests/test_t.py", planned=[p1], collected=[new])
    only_a = Executed(
        "serial", [ExecutedRun("t-a", [new], [replaced_in_a]), ExecutedRun("t-b", [], [lost_in_b])]
    )
    result = check(the_plan, [only_a])
    assert [(d.lane, d.replaced) for d in result.drift] == [("t-a", True), ("t-b", False)]
    assert [(t.test, t.lane) for t in result.lost] == [(p1, "t-b")]
    assert [(i.test, i.lane, i.kind) for i in result.executed] == [(new, "t-a", "drift")]
    other = "tests/test_t.py::test_time[8]"
    both = Executed(
        "serial",
        [
            ExecutedRun("t-a", [new], [replaced_in_a]),
            ExecutedRun("t-b", [other], [replaced_in_a.model_copy(update={"collected": [other]})]),
        ],
    )
    assert check(the_plan, [both]).complete


def test_drift_replaced_by_the_lane_that_owns_the_file_counts_for_another_lane() -> None:
    p1 = "tests/test_t.py::test_time[1]"
    p2 = "tests/test_t.py::test_time[2]"
    new = "tests/test_t.py::test_time[7]"
    the_plan = plan([shard("fast-1", [p1], "fast"), shard("slow-1", [p2], "slow")])
    result = check(
        the_plan,
        [
            ran("fast-1", [new], lane="fast", drift=[Drift(file="tests/test_t.py", planned=[p1],
                                                           collected=[new])]),
            ran("slow-1", [], lane="slow", drift=[Drift(file="tests/test_t.py", planned=[p2])]),
        ],
    )  # fmt: skip
    assert result.complete and [d.replaced for d in result.drift] == [True, True]


def test_file_granularity_counts_a_file_run_when_its_tests_ran() -> None:
    result = check(
        plan([shard("s1", ["tests/test_a.py", "tests/test_b.py"])]),
        [ran("s1", [*A, "tests/test_c.py::test_x"])],
    )
    assert [(i.test, i.members) for i in result.executed[:1]] == [("tests/test_a.py", tuple(A))]
    assert [t.test for t in result.lost] == ["tests/test_b.py"]
    assert [u.test for u in result.unplanned] == ["tests/test_c.py::test_x"]


def test_results_of_a_shard_not_in_the_plan() -> None:
    result = check(plan([shard("s1", A)]), [ran("s1", A), ran("zz", ["x::y"], lane="q")])
    assert result.unknown_shards == ("zz",)
    assert [(u.test, u.lane, u.shard) for u in result.unplanned] == [("x::y", "q", "zz")]
    assert not result.complete


def test_an_empty_shard_that_left_nothing_loses_nothing() -> None:
    result = check(plan([shard("none", [])]), [])
    assert result.lost_shards and result.lost_shards[0].tests == 0
    assert result.complete


@given(
    st.lists(st.integers(0, 11), max_size=30),
    st.sets(st.sampled_from(["s1", "s2", "s3"])),
)
def test_every_planned_test_is_executed_lost_or_accounted(
    executed_picks: list[int], present: set[str]
) -> None:
    ids = [f"tests/test_{n // 4}.py::test_{n}" for n in range(12)]
    shards = {"s1": ids[:4], "s2": ids[4:8], "s3": ids[8:]}
    owner = {t: s for s, tests in shards.items() for t in tests}
    runs: dict[str, list[str]] = {s: [] for s in present}
    for n in executed_picks:
        if owner[ids[n]] in present:
            runs[owner[ids[n]]].append(ids[n])
    result = check(
        plan([shard(s, t) for s, t in shards.items()]), [ran(s, r) for s, r in runs.items()]
    )
    executed = {i.test for i in result.executed}
    lost = {t.test for t in result.lost}
    assert executed | lost == set(ids)
    assert not executed & lost
    assert len(result.executed) == len(executed)
    twice = {t.test for t in result.run_twice}
    assert twice == {t for r in runs.values() for t in r if r.count(t) > 1}
    assert result.complete == (not lost and not twice)


FAN_IDS = [f"tests/test_{n // 3}.py::test_{n}" for n in range(6)]
FAN_LANES = ["x-a", "x-b"]


@given(
    serial=st.booleans(),
    picks=st.lists(st.tuples(st.sampled_from(FAN_LANES), st.sampled_from(FAN_IDS)), max_size=20),
    died=st.sets(st.sampled_from(FAN_LANES)),
)
def test_fan_out_pairs_are_executed_lost_or_run_twice_never_confused(
    serial: bool, picks: list[tuple[str, str]], died: set[str]
) -> None:
    """Same ids in two lane instances, in one serial shard or in a shard each: the (lane, id)
    pairs, not the ids, are what is counted."""
    if serial:
        the_plan = plan(
            [shard("serial", FAN_IDS * 2, "serial", slices=[(lane, 6) for lane in FAN_LANES])],
            mode="serial",
        )
        executed = [] if died == set(FAN_LANES) else [
            Executed("serial", [ExecutedRun(lane, [t for lz, t in picks if lz == lane])
                                for lane in FAN_LANES if lane not in died])
        ]  # fmt: skip
    else:
        the_plan = plan([shard(f"{lane}-1", FAN_IDS, lane) for lane in FAN_LANES])
        executed = [
            ran(f"{lane}-1", [t for lz, t in picks if lz == lane], lane=lane)
            for lane in FAN_LANES
            if lane not in died
        ]
    result = check(the_plan, executed)
    planned = {(lane, t) for lane in FAN_LANES for t in FAN_IDS}
    ran_pairs = [(lane, t) for lane, t in picks if lane not in died]
    assert {(i.lane, i.test) for i in result.executed} == set(ran_pairs)
    assert len(result.executed) == len(set(ran_pairs)), "each pair counted once"
    assert {(t.lane, t.test) for t in result.lost} == planned - set(ran_pairs)
    assert {(t.lane, t.test) for t in result.run_twice} == {
        pair for pair in ran_pairs if ran_pairs.count(pair) > 1
    }
    assert not result.unplanned
    assert result.fanned_out == frozenset(FAN_IDS)
