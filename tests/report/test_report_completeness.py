"""Planned vs executed: lost tests and shards, tests run twice, unplanned tests, drift."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from shard_action.core.completeness import Executed, check
from shard_action.core.manifest import Drift

from .factories import plan, shard

A = [f"tests/test_a.py::test_{n}" for n in range(3)]
B = [f"tests/test_b.py::test_{n}" for n in range(3)]


def test_everything_ran_once() -> None:
    result = check(plan([shard("s1", A), shard("s2", B)]), [Executed("s1", A), Executed("s2", B)])
    assert result.complete
    assert result.planned == 6
    assert [(i.test, i.shard, i.kind) for i in result.executed] == [
        *((t, "s1", "planned") for t in A),
        *((t, "s2", "planned") for t in B),
    ]


def test_a_missing_shard_loses_all_its_tests_by_name() -> None:
    result = check(plan([shard("s1", A), shard("s2", B)]), [Executed("s1", A)])
    assert not result.complete
    assert [(s.shard, s.tests) for s in result.lost_shards] == [("s2", 3)]
    assert [(t.test, t.shard) for t in result.lost] == [(t, "s2") for t in B]
    assert all("left no results" in t.reason for t in result.lost)


def test_a_shard_that_stopped_early_names_its_missing_tests_and_why() -> None:
    result = check(
        plan([shard("s1", A)]), [Executed("s1", A[:1], failure="exceeded the lane timeout")]
    )
    assert [t.test for t in result.lost] == A[1:]
    assert all("exceeded the lane timeout" in t.reason for t in result.lost)
    assert not result.lost_shards


def test_run_twice_across_shards_and_within_one() -> None:
    result = check(
        plan([shard("s1", A), shard("s2", B)]),
        [Executed("s1", [*A, A[0]]), Executed("s2", [*B, A[1]])],
    )
    twice = {t.test: t.shards for t in result.run_twice}
    assert twice == {A[0]: ("s1", "s1"), A[1]: ("s1", "s2")}
    assert not result.unplanned and not result.lost
    assert not result.complete
    assert len(result.executed) == 6  # each test counted once


def test_unplanned_tests_are_named_with_where_they_ran() -> None:
    result = check(plan([shard("s1", A)]), [Executed("s1", [*A, "tests/test_z.py::test_new"])])
    assert [(u.test, u.shard, u.planned_in) for u in result.unplanned] == [
        ("tests/test_z.py::test_new", "s1", ())
    ]
    assert not result.complete
    assert result.executed[-1].kind == "unplanned"


def test_a_test_run_in_the_wrong_shard_is_unplanned_there_and_lost_where_planned() -> None:
    result = check(
        plan([shard("s1", A), shard("s2", B)]),
        [Executed("s1", [*A[:2], B[0]]), Executed("s2", [*B[1:], A[2]])],
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
            Executed(
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
            Executed("s1", new, drift=[Drift(file="tests/test_t.py", planned=[p1], collected=new)]),
            Executed("s2", [], drift=[Drift(file="tests/test_t.py", planned=[p2])]),
        ],
    )
    assert result.complete
    assert [d.replaced for d in result.drift] == [True, True]


def test_drift_without_any_replacement_is_lost() -> None:
    planned_id = "tests/test_t.py::test_time[1]"
    result = check(
        plan([shard("s1", [planned_id])]),
        [Executed("s1", [], drift=[Drift(file="tests/test_t.py", planned=[planned_id])])],
    )
    (lost,) = result.lost
    assert lost.test == planned_id and "drifted" in lost.reason


def test_serial_shard_lanes_come_from_its_runs_and_fan_out_runs_twice_on_purpose() -> None:
    ids = ["tests/test_db.py::test_q", "tests/test_db.py::test_r"]
    serial = shard(
        "serial", [*ids, *ids, *A], "serial", runs=[("db-a", 2), ("db-b", 2), ("default", 3)]
    )
    result = check(plan([serial], mode="serial"), [Executed("serial", [*ids, *ids, *A])])
    assert result.complete
    assert [(i.test, i.lane) for i in result.executed] == [
        (ids[0], "db-a"),
        (ids[1], "db-a"),
        (ids[0], "db-b"),
        (ids[1], "db-b"),
        *((t, "default") for t in A),
    ]


def test_file_granularity_counts_a_file_run_when_its_tests_ran() -> None:
    result = check(
        plan([shard("s1", ["tests/test_a.py", "tests/test_b.py"])]),
        [Executed("s1", [*A, "tests/test_c.py::test_x"])],
    )
    assert [(i.test, i.members) for i in result.executed[:1]] == [("tests/test_a.py", tuple(A))]
    assert [t.test for t in result.lost] == ["tests/test_b.py"]
    assert [u.test for u in result.unplanned] == ["tests/test_c.py::test_x"]


def test_results_of_a_shard_not_in_the_plan() -> None:
    result = check(plan([shard("s1", A)]), [Executed("s1", A), Executed("zz", ["x::y"], lane="q")])
    assert result.unknown_shards == ("zz",)
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
        plan([shard(s, t) for s, t in shards.items()]), [Executed(s, r) for s, r in runs.items()]
    )
    executed = {i.test for i in result.executed}
    lost = {t.test for t in result.lost}
    assert executed | lost == set(ids)
    assert not executed & lost
    assert len(result.executed) == len(executed)
    twice = {t.test for t in result.run_twice}
    assert twice == {t for r in runs.values() for t in r if r.count(t) > 1}
    assert result.complete == (not lost and not twice)
