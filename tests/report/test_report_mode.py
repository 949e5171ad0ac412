"""The mode for the plan step, and the serial-fallback state machine over random run sequences."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shard_action.core.history import History
from shard_action.core.mode import (
    NO_HISTORY,
    ModeState,
    RunFacts,
    flaky_rate,
    next_mode,
    plan_mode,
)


def test_plan_mode_without_history_is_parallel() -> None:
    assert plan_mode("auto", None) == ("parallel", NO_HISTORY)


def test_plan_mode_auto_follows_the_history() -> None:
    history = History(mode=ModeState(mode="serial", reason="flaky rate 9% over 5%"))
    assert plan_mode("auto", history) == ("serial", "flaky rate 9% over 5%")


@pytest.mark.parametrize("override", ["", None, "auto"])
def test_an_empty_override_is_not_given(override: str | None) -> None:
    history = History(mode=ModeState(mode="serial", reason="why"))
    assert plan_mode("auto", history, override) == ("serial", "why")


def test_explicit_modes_win_override_first() -> None:
    history = History(mode=ModeState(mode="serial", reason="why"))
    mode, reason = plan_mode("auto", history, "parallel")
    assert mode == "parallel" and "by hand" in reason
    mode, reason = plan_mode("serial", history, "parallel")
    assert mode == "parallel" and "by hand" in reason
    mode, reason = plan_mode("parallel", history)
    assert mode == "parallel" and "configuration" in reason
    mode, reason = plan_mode("serial", None)
    assert mode == "serial" and "configuration" in reason


def test_unknown_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="sometimes"):
        plan_mode("sometimes", None)


@pytest.mark.parametrize(
    ("flaky", "tests", "rate"), [(0, 0, 0.0), (1, 20, 0.05), (3, 3, 1.0), (5, 2, 1.0)]
)
def test_flaky_rate(flaky: int, tests: int, rate: float) -> None:
    assert flaky_rate(flaky, tests) == rate


def test_over_means_strictly_over() -> None:
    state = ModeState()
    at = next_mode(state, RunFacts(1, "parallel", 20, ["a"]), flaky_threshold=0.05, recover_after=3)
    assert at.next.mode == "parallel" and not at.over_threshold
    over = next_mode(
        state, RunFacts(1, "parallel", 19, ["a"]), flaky_threshold=0.05, recover_after=3
    )
    assert over.next.mode == "serial" and over.changed and over.over_threshold
    assert "a" in over.next.reason and "5.3%" in over.next.reason


def test_recovery_after_exactly_recover_after_clean_serial_runs() -> None:
    state = ModeState()
    decision = next_mode(
        state, RunFacts(1, "parallel", 10, ["x", "y"]), flaky_threshold=0.05, recover_after=2
    )
    assert decision.next.mode == "serial" and decision.next.since == 1
    state = decision.next
    first = next_mode(state, RunFacts(2, "serial", 10, []), flaky_threshold=0.05, recover_after=2)
    assert (first.next.mode, first.next.clean_serial_runs, first.counted) == ("serial", 1, True)
    assert "1 of 2 clean serial runs" in first.next.reason and "x, y" in first.next.reason
    state = first.next
    second = next_mode(state, RunFacts(3, "serial", 10, []), flaky_threshold=0.05, recover_after=2)
    assert (second.next.mode, second.changed, second.next.clean_serial_runs) == (
        "parallel",
        True,
        0,
    )
    assert "back to parallel after 2 clean serial runs" in second.next.reason


def test_flaky_in_serial_mode_is_flaky_on_its_own_and_does_not_keep_the_suite_serial() -> None:
    # Serial cannot fix a test flaky on its own, so such a run counts as a clean serial run.
    state = ModeState(mode="serial", reason="why", clean_serial_runs=1, cause="cause", since=4)
    decision = next_mode(
        state, RunFacts(7, "serial", 10, ["t"]), flaky_threshold=0.05, recover_after=3
    )
    assert (
        decision.next.mode == "serial" and decision.flaky_on_their_own and decision.over_threshold
    )
    assert (decision.next.clean_serial_runs, decision.counted, decision.next.since) == (2, True, 4)
    assert "t are flaky on their own" in decision.next.reason
    assert "2 of 3 clean serial runs so far" in decision.next.reason
    state = ModeState(mode="serial", reason="why", clean_serial_runs=2, cause="cause", since=4)
    last = next_mode(state, RunFacts(8, "serial", 10, ["t"]), flaky_threshold=0.05, recover_after=3)
    assert (last.next.mode, last.changed, last.flaky_on_their_own) == ("parallel", True, True)
    assert "back to parallel after 3 clean serial runs" in last.next.reason


def test_serial_by_hand_with_flaky_tests_does_not_send_a_parallel_history_to_serial() -> None:
    state = ModeState(mode="parallel", reason="why", clean_serial_runs=0, cause=None, since=None)
    decision = next_mode(
        state, RunFacts(3, "serial", 4, ["a", "b"]), flaky_threshold=0.05, recover_after=2
    )
    assert (decision.next.mode, decision.changed, decision.flaky_on_their_own) == (
        "parallel",
        False,
        True,
    )
    assert "a, b are flaky on their own" in decision.next.reason


def test_a_parallel_run_over_the_threshold_still_goes_serial() -> None:
    state = ModeState(mode="parallel", reason="why", clean_serial_runs=0, cause=None, since=None)
    decision = next_mode(
        state, RunFacts(3, "parallel", 4, ["a"]), flaky_threshold=0.05, recover_after=2
    )
    assert (decision.next.mode, decision.changed, decision.flaky_on_their_own) == (
        "serial",
        True,
        False,
    )


def test_forced_parallel_and_incomplete_runs_do_not_count() -> None:
    state = ModeState(mode="serial", reason="why", clean_serial_runs=1, cause="cause", since=4)
    forced = next_mode(
        state, RunFacts(5, "parallel", 10, []), flaky_threshold=0.05, recover_after=2
    )
    assert (forced.next.mode, forced.next.clean_serial_runs, forced.counted) == ("serial", 1, False)
    assert "does not count" in forced.next.reason
    lost = next_mode(
        state, RunFacts(5, "serial", 10, [], complete=False), flaky_threshold=0.05, recover_after=2
    )
    assert (lost.next.mode, lost.next.clean_serial_runs) == ("serial", 1)
    assert "incomplete" in lost.next.reason


runs = st.lists(
    st.tuples(
        st.sampled_from(["parallel", "serial"]),  # the mode the run used (forced or not)
        st.integers(0, 40),  # tests run
        st.integers(0, 8),  # flaky tests
        st.booleans(),  # complete
    ),
    max_size=40,
)


@given(runs, st.integers(1, 4), st.sampled_from([0.0, 0.05, 0.2]))
def test_state_machine_over_random_runs(
    sequence: list[tuple[str, int, int, bool]], recover_after: int, threshold: float
) -> None:
    state = ModeState()
    clean_since_over: list[int] = []  # indices of counted clean serial runs since the last flake-up
    for index, (run_mode, tests, drawn, complete) in enumerate(sequence, start=1):
        flaky = min(drawn, tests)
        names = [f"t{n}" for n in range(flaky)]
        facts = RunFacts(index, run_mode, tests, names, complete)  # type: ignore[arg-type]
        decision = next_mode(state, facts, flaky_threshold=threshold, recover_after=recover_after)
        over = tests > 0 and flaky / tests > threshold
        assert 0.0 <= decision.flaky_rate <= 1.0
        # a serial run over the threshold is flaky on its own: it never forces serial
        forcing = over and run_mode != "serial"
        assert decision.over_threshold == over
        assert decision.flaky_on_their_own == (over and run_mode == "serial")
        if forcing:
            clean_since_over = []
        elif state.mode == "serial" and run_mode == "serial" and complete:
            clean_since_over.append(index)
        # serial only after a parallel run over the threshold
        if state.mode == "parallel" and decision.next.mode == "serial":
            assert forcing
        # parallel again only after exactly `recover_after` clean serial runs
        if state.mode == "serial" and decision.next.mode == "parallel":
            assert not forcing and run_mode == "serial" and complete
            assert len(clean_since_over) == recover_after
            clean_since_over = []
        if decision.next.mode == "serial":
            assert decision.next.clean_serial_runs == len(clean_since_over) < recover_after
        else:
            assert decision.next.clean_serial_runs == 0
        assert decision.changed == (decision.next.mode != state.mode)
        state = decision.next
