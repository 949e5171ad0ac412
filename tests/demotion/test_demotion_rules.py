"""The demotion rules of ``core.demotion``, one run at a time, and the history field."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from shard_action.core.demotion import (
    FORGET_AFTER,
    DemotedTest,
    Demotion,
    NotHelped,
    Seen,
    Step,
    update,
)
from shard_action.core.history import History, RunRecord, with_run


def step(
    before: Demotion, *seen: Seen, index: int = 2, mode: str = "parallel", **kw: object
) -> Step:
    options = {"outage": False, "promote_after": 3, "max_demoted": 10, **kw}
    return update(before, seen, index=index, mode=mode, **options)  # type: ignore[arg-type]


def demoted(test: str = "t::a", clean: int = 0) -> DemotedTest:
    return DemotedTest(lane="default", test=test, since=1, clean_runs=clean, reason="r")


def test_a_parallel_flake_that_passed_alone_is_demoted_and_explained() -> None:
    result = step(Demotion(), Seen("default", "t::a", "flaky", alone=True), index=4)
    assert [(d.lane, d.test, d.since) for d in result.demotion.demoted] == [("default", "t::a", 4)]
    assert "run #4" in result.demotion.demoted[0].reason
    assert result.explained == ("t::a",)


def test_no_demotion_without_a_re_run_alone_in_serial_or_in_a_sequential_lane() -> None:
    cases = [
        (Seen("default", "t::a", "flaky"), "parallel"),  # in-process retry: not alone
        (Seen("default", "t::a", "flaky", alone=True), "serial"),
        (Seen("default", "t::a", "flaky", alone=True, own=True), "parallel"),
        (Seen("default", "t::a", "flaky", alone=True, sequential=True), "parallel"),
        (Seen("default", "t::a", "broken", alone=True), "parallel"),
    ]
    for seen, mode in cases:
        result = step(Demotion(), seen, mode=mode)
        assert result.demotion.demoted == [], seen
        assert result.explained == ()


def test_promoted_after_promote_after_clean_runs_and_a_failure_resets_the_count() -> None:
    state = Demotion(demoted=[demoted()])
    ran = Seen("default", "t::a", "passed", demoted=True)
    state = step(state, ran, index=2).demotion
    state = step(state, Seen("default", "t::a", "broken", demoted=True), index=3).demotion
    assert state.demoted[0].clean_runs == 0
    for index in (4, 5):
        state = step(state, ran, index=index).demotion
    assert state.demoted[0].clean_runs == 2
    last = step(state, ran, index=6)
    assert last.demotion.demoted == []
    assert [e.change for e in last.events] == ["promoted"]


def test_flaky_in_the_demoted_lane_is_not_helped_counts_and_is_not_demoted_again() -> None:
    state = Demotion(demoted=[demoted()])
    result = step(state, Seen("default", "t::a", "flaky", demoted=True, alone=True), index=5)
    assert result.demotion.demoted == []
    assert result.demotion.not_helped == [NotHelped(lane="default", test="t::a", run=5)]
    assert result.explained == ()
    again = step(result.demotion, Seen("default", "t::a", "flaky", alone=True), index=6)
    assert again.demotion.demoted == []
    later = step(
        result.demotion, Seen("default", "t::a", "flaky", alone=True), index=5 + FORGET_AFTER
    )
    assert [d.test for d in later.demotion.demoted] == ["t::a"]
    assert later.demotion.not_helped == []


def test_flaky_in_serial_while_demoted_is_flaky_on_its_own() -> None:
    state = Demotion(demoted=[demoted()])
    seen = Seen("default", "t::a", "flaky", demoted=True, own=True)
    result = step(state, seen, mode="serial")
    assert result.demotion.demoted == []
    assert [e.change for e in result.events] == ["flaky on its own"]


def test_the_cap_leaves_candidates_over_it_counted() -> None:
    state = Demotion(demoted=[demoted("t::old")])
    seen = [Seen("default", f"t::{n}", "flaky", alone=True) for n in "abc"]
    result = step(state, *seen, max_demoted=2)
    assert [d.test for d in result.demotion.demoted] == ["t::a", "t::old"]
    assert result.explained == ("t::a",)
    assert [e.change for e in result.events] == ["demoted", "cap reached", "cap reached"]


def test_an_outage_changes_nothing() -> None:
    state = Demotion(demoted=[demoted()])
    result = step(
        state,
        Seen("default", "t::a", "flaky", demoted=True),
        Seen("default", "t::b", "flaky", alone=True),
        outage=True,
    )
    assert result.demotion == state
    assert result.events == ()


def test_a_demoted_test_that_did_not_run_stays() -> None:
    state = Demotion(demoted=[demoted(clean=2)])
    assert step(state, Seen("default", "t::z", "passed")).demotion == state


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["t::a", "t::b", "t::c", "t::d"]),
            st.sampled_from(["passed", "flaky", "broken", "skipped"]),
            st.booleans(),
            st.booleans(),
        ),
        max_size=30,
    ),
    st.integers(0, 3),
)
def test_never_more_than_the_cap_and_never_demoted_and_blocked(
    runs: list[tuple[str, str, bool, bool]], cap: int
) -> None:
    state = Demotion()
    for index, (test, status, alone, serial) in enumerate(runs, start=1):
        on = {d.test for d in state.demoted}
        seen = Seen("default", test, status, alone=alone, demoted=test in on)
        state = step(
            state, seen, index=index, mode="serial" if serial else "parallel", max_demoted=cap
        ).demotion
        assert len(state.demoted) <= cap
        assert not {d.test for d in state.demoted} & {n.test for n in state.not_helped}


def test_the_history_keeps_the_field_and_reads_a_file_without_it() -> None:
    state = Demotion(demoted=[demoted()])
    run = RunRecord(index=1, mode="parallel", tests=1, flaky=0, flaky_rate=0.0)
    after = with_run(
        History(),
        run,
        {},
        mode="parallel",
        mode_reason="r",
        clean_serial_runs=0,
        mode_since=None,
        mode_cause=None,
        demotion=state,
    )
    assert History.model_validate_json(after.model_dump_json()).demotion == state
    kept = with_run(
        after, run, {}, mode="parallel", mode_reason="r", clean_serial_runs=0,
        mode_since=None, mode_cause=None,
    )  # fmt: skip
    assert kept.demotion == state
    raw = after.model_dump(mode="json")
    del raw["demotion"]
    assert History.model_validate(raw).demotion == Demotion()
    assert Demotion(demoted=[demoted("t::b"), demoted("t::a")]).tests() == {
        "default": frozenset({"t::a", "t::b"})
    }
