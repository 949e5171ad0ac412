"""``core.reruns``: attempts -> verdict -> exit code."""

from __future__ import annotations

import pytest

from shard_action.core.outcomes import Outcome
from shard_action.core.reruns import final_outcome, finding, shard_exit_code, wants_rerun


@pytest.mark.parametrize(
    "outcomes, expected",
    [
        (["passed"], None),
        (["skipped"], None),
        (["failed"], "broken"),
        (["failed", "passed"], "flaky"),
        (["error", "failed", "passed"], "flaky"),
        (["failed", "failed", "failed"], "broken"),
        (["failed", "skipped"], "broken"),  # a skip is not a pass
        (["error", "error"], "broken"),
    ],
)
def test_verdict(outcomes: list[Outcome], expected: str | None) -> None:
    assert finding(outcomes) == expected


def test_final_outcome() -> None:
    assert final_outcome(["failed", "passed"]) == "passed"
    assert final_outcome(["error", "failed"]) == "error"
    assert final_outcome(["skipped"]) == "skipped"
    with pytest.raises(ValueError):
        final_outcome([])


def test_wants_rerun_stops_at_a_pass_or_when_out_of_reruns() -> None:
    assert wants_rerun(["failed"], reruns=2)
    assert wants_rerun(["failed", "error"], reruns=2)
    assert not wants_rerun(["failed", "failed", "failed"], reruns=2)
    assert not wants_rerun(["failed", "passed"], reruns=2)
    assert not wants_rerun(["failed", "skipped"], reruns=2)
    assert not wants_rerun(["passed"], reruns=2)
    assert not wants_rerun(["failed"], reruns=0)


def test_exit_code() -> None:
    assert shard_exit_code([], fail_on_flaky=False, lost=0, failure=None) == 0
    assert shard_exit_code(["flaky"], fail_on_flaky=False, lost=0, failure=None) == 0
    assert shard_exit_code(["flaky"], fail_on_flaky=True, lost=0, failure=None) == 1
    assert shard_exit_code(["broken"], fail_on_flaky=False, lost=0, failure=None) == 1
    assert shard_exit_code([], fail_on_flaky=False, lost=1, failure=None) == 1
    assert shard_exit_code([], fail_on_flaky=False, lost=0, failure="timeout") == 1
