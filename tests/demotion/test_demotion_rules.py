"""The demotion rules of ``core.demotion``, one run at a time, and the history field."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from shard_action.core.demotion import (
    FORGET_AFTER,
    DemotedTest,
    Demotion,
    NotHelped,
    Seen,
    Step,
    Suspect,
    update,
)
from shard_action.core.history import History, RunRecord, with_run
from shard_action.core.mode import ModeState


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


def test_the_serial_route_demotes_after_a_parallel_failure_and_two_serial_passes() -> None:
    failed = Seen("default", "t::a", "failed")  # re-runs off: nothing re-ran it alone
    passed = Seen("default", "t::a", "passed")
    state = step(Demotion(), failed, index=3).demotion
    assert state.demoted == []
    assert state.suspects == [
        Suspect(lane="default", test="t::a", parallel_failures=1, serial_passes=0, last=3)
    ]
    state = step(state, passed, index=4, mode="serial").demotion
    assert state.demoted == [] and state.suspects[0].serial_passes == 1
    last = step(state, passed, index=5, mode="serial")
    assert [(d.lane, d.test, d.since) for d in last.demotion.demoted] == [("default", "t::a", 5)]
    assert last.demotion.demoted[0].reason == (
        "failed in 1 parallel run (last #3) and passed in 2 serial runs after"
    )
    assert last.demotion.suspects == []
    assert [e.change for e in last.events] == ["demoted"]


def test_the_serial_route_counts_parallel_failures_of_every_retry_dialect() -> None:
    state = Demotion()
    # a retry inside the process (flaky, not alone), a failure, a pass between them
    for index, status in [(1, "flaky"), (2, "passed"), (3, "failed"), (4, "broken")]:
        state = step(state, Seen("default", "t::a", status), index=index).demotion
    assert state.suspects == [
        Suspect(lane="default", test="t::a", parallel_failures=3, serial_passes=0, last=4)
    ]
    for index in (5, 6):
        state = step(state, Seen("default", "t::a", "passed"), index=index, mode="serial").demotion
    assert state.demoted[0].reason == (
        "failed in 3 parallel runs (last #4) and passed in 2 serial runs after"
    )


def test_the_serial_route_leaves_alone_what_serial_does_not_help() -> None:
    failed = Seen("default", "t::a", "failed")
    suspected = step(Demotion(), failed, index=1).demotion
    # failing (or flaky on its own) in a serial run ends the tally
    for seen in (
        Seen("default", "t::a", "failed"),
        Seen("default", "t::a", "broken"),
        Seen("default", "t::a", "flaky", own=True),
    ):
        assert step(suspected, seen, index=2, mode="serial").demotion.suspects == [], seen
    # no tally: re-run alone by our runner (the first route decides), a sequential lane,
    # flaky on its own before, a pass, an outage, demotion off
    cases: list[tuple[Seen, dict[str, Any]]] = [
        (Seen("default", "t::a", "broken", alone=True), {}),
        (Seen("default", "t::a", "failed", sequential=True), {}),
        (Seen("default", "t::a", "failed", own=True), {}),
        (Seen("default", "t::a", "passed"), {}),
        (failed, {"outage": True}),
        (failed, {"max_demoted": 0}),
    ]
    for seen, kw in cases:
        assert step(Demotion(), seen, **kw).demotion.suspects == [], (seen, kw)
    # a serial pass without a parallel failure before proves nothing
    passed = Seen("default", "t::a", "passed")
    assert step(Demotion(), passed, mode="serial").demotion.suspects == []
    # forgotten FORGET_AFTER runs after its last parallel failure
    later = step(suspected, Seen("default", "t::z", "passed"), index=1 + FORGET_AFTER)
    assert later.demotion.suspects == []
    kept = step(suspected, Seen("default", "t::z", "passed"), index=FORGET_AFTER)
    assert [s.test for s in kept.demotion.suspects] == ["t::a"]


def test_the_serial_route_keeps_a_suspect_over_the_cap_until_there_is_room() -> None:
    tally = Suspect(lane="default", test="t::a", parallel_failures=1, serial_passes=1, last=1)
    full = Demotion(demoted=[demoted("t::old", clean=1)], suspects=[tally])
    passed = Seen("default", "t::a", "passed")
    capped = step(full, passed, index=2, mode="serial", max_demoted=1)
    assert [e.change for e in capped.events] == ["cap reached"]
    assert [d.test for d in capped.demotion.demoted] == ["t::old"]
    assert capped.demotion.suspects[0].serial_passes == 2
    # t::old is promoted (its third clean run, promote-after 3), which leaves room for t::a
    old = Seen("default", "t::old", "passed", demoted=True)
    freed = step(capped.demotion, old, index=3, mode="parallel", max_demoted=1)
    assert freed.demotion.demoted[0].clean_runs == 2
    freed = step(
        freed.demotion,
        Seen("default", "t::old", "passed", demoted=True),
        passed,
        index=4,
        mode="serial",
        max_demoted=1,
    )
    assert [e.change for e in freed.events] == ["promoted", "demoted"]
    assert [(d.test, d.since) for d in freed.demotion.demoted] == [("t::a", 4)]
    assert freed.demotion.demoted[0].reason.endswith("passed in 3 serial runs after")


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["t::a", "t::b", "t::c", "t::d"]),
            st.sampled_from(["passed", "flaky", "failed", "broken", "skipped"]),
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
        on = {d.test for d in state.demoted}
        assert not on & {n.test for n in state.not_helped}
        assert not on & {s.test for s in state.suspects}
        assert all(s.parallel_failures >= 1 for s in state.suspects)


def test_the_history_keeps_the_field_and_reads_a_file_without_it() -> None:
    state = Demotion(demoted=[demoted()])
    run = RunRecord(index=1, mode="parallel", tests=1, flaky=0, flaky_rate=0.0)
    after = with_run(
        History(),
        run,
        {},
        mode=ModeState(mode="parallel", reason="r"),
        demotion=state,
    )
    assert History.model_validate_json(after.model_dump_json()).demotion == state
    kept = with_run(
        after, run, {}, mode=ModeState(mode="parallel", reason="r"),
    )  # fmt: skip
    assert kept.demotion == state
    raw = after.model_dump(mode="json")
    del raw["demotion"]
    assert History.model_validate(raw).demotion == Demotion()
    assert Demotion(demoted=[demoted("t::b"), demoted("t::a")]).tests() == {
        "default": frozenset({"t::a", "t::b"})
    }
