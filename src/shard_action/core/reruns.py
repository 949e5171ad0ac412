"""From the attempts of one test to a finding (flaky or broken), and from a shard's findings to
its exit code. (``core.flakiness.Verdict`` is the fan-in's whole judgement of a test.)

A failed test is re-run in a fresh process (module state, fixtures and caches start over), up to
``reruns`` times, stopping at the first pass. Passed on a re-run = ``flaky``; never passed =
``broken``. A re-run that is skipped, or that could not find the test again, has not passed:
the test stays broken, because a finding of "flaky" must be earned by a real pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from shard_action.core.outcomes import Outcome, is_failing

RerunFinding = Literal["flaky", "broken"]
"""What re-running a failed test found: it passed on a re-run, or never."""


def wants_rerun(outcomes: Sequence[Outcome], reruns: int) -> bool:
    """Run again while the test has only failed and re-runs are left."""
    return bool(outcomes) and len(outcomes) <= reruns and all(is_failing(o) for o in outcomes)


def finding(outcomes: Sequence[Outcome]) -> RerunFinding | None:
    """``None`` for a test whose first attempt did not fail (nothing to judge)."""
    if not outcomes or not is_failing(outcomes[0]):
        return None
    return "flaky" if "passed" in outcomes[1:] else "broken"


def final_outcome(outcomes: Sequence[Outcome]) -> Outcome:
    """What the fan-in counts: a flaky test passed, a broken one keeps its first failure."""
    if not outcomes:
        raise ValueError("a test without attempts has no outcome")
    return "passed" if finding(outcomes) == "flaky" else outcomes[0]


def shard_exit_code(
    findings: Sequence[RerunFinding],
    *,
    fail_on_flaky: bool,
    lost: int,
    failure: str | None,
) -> int:
    """0 unless something is really wrong: a broken test, lost tests, a crash or a limit.

    Flaky tests fail the shard only when the user asked for it; a failure that passed on a
    re-run is exactly what must not turn a pull request red.
    """
    if failure is not None or lost:
        return 1
    if "broken" in findings:
        return 1
    if fail_on_flaky and "flaky" in findings:
        return 1
    return 0
