"""The one order of outcomes and statuses: merging keeps the worse, whatever the order."""

from __future__ import annotations

from functools import reduce
from typing import get_args

from hypothesis import given
from hypothesis import strategies as st

from shard_action.core.outcomes import (
    FAILED_FIRST,
    OUTCOME_RANK,
    STATUS_RANK,
    Outcome,
    Status,
    is_failing,
    is_failing_status,
    worse,
)

OUTCOMES: tuple[Outcome, ...] = get_args(Outcome)
STATUSES: tuple[Status, ...] = get_args(Status)


def test_every_outcome_and_status_has_a_rank() -> None:
    assert set(OUTCOME_RANK) == set(OUTCOMES)
    assert set(STATUS_RANK) == set(STATUSES)


def test_the_order_written_out() -> None:
    assert sorted(OUTCOMES, key=OUTCOME_RANK.__getitem__) == [
        "skipped",
        "passed",
        "failed",
        "error",
    ]
    assert sorted(STATUSES, key=STATUS_RANK.__getitem__) == [
        "skipped",
        "passed",
        "flaky",
        "failed",
        "broken",
    ]
    assert [o for o in OUTCOMES if is_failing(o)] == ["failed", "error"]
    assert [s for s in STATUSES if is_failing_status(s)] == ["failed", "broken"]
    assert {"failed", "broken", "flaky"} == FAILED_FIRST


@given(st.lists(st.sampled_from(OUTCOMES), min_size=1))
def test_the_worst_of_many_does_not_depend_on_their_order(outcomes: list[Outcome]) -> None:
    worst = reduce(worse, outcomes)
    assert worst in outcomes
    assert reduce(worse, reversed(outcomes)) == worst
    assert all(OUTCOME_RANK[o] <= OUTCOME_RANK[worst] for o in outcomes)
    assert is_failing(worst) == any(is_failing(o) for o in outcomes)


@given(st.sampled_from(OUTCOMES), st.sampled_from(OUTCOMES))
def test_a_pass_outranks_a_skip_and_a_failure_outranks_both(a: Outcome, b: Outcome) -> None:
    assert worse(a, a) == a
    if {a, b} == {"passed", "skipped"}:
        assert worse(a, b) == "passed"
    if is_failing(a) and not is_failing(b):
        assert worse(a, b) == worse(b, a) == a


def test_a_failing_status_ranks_above_every_status_that_passed() -> None:
    passing = [s for s in STATUSES if not is_failing_status(s)]
    failing = [s for s in STATUSES if is_failing_status(s)]
    assert max(STATUS_RANK[s] for s in passing) < min(STATUS_RANK[s] for s in failing)
