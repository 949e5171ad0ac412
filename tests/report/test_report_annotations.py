"""Annotations stay within what GitHub keeps (10 per level per step, 50 per job), the broken
tests first, and say how many more the summary holds."""

from __future__ import annotations

import io
import re
from contextlib import redirect_stdout

import pytest

from shard_action.commands import report as command
from shard_action.core.annotations import Annotation, Level, within_limits
from shard_action.core.history import History
from shard_action.core.manifest import Attempt, Rerun
from shard_action.core.outcomes import Outcome
from shard_action.core.report import ShardResult, build

from .factories import manifest, plan, shard

BROKEN = [f"tests/test_broken.py::test_{n:02}" for n in range(15)]
FLAKY = [f"tests/test_flaky.py::test_{n:02}" for n in range(12)]
LOST = [f"tests/test_lost.py::test_{n:02}" for n in range(30)]


def _rerun(test: str, verdict: str) -> Rerun:
    outcomes = ["failed", "failed"] if verdict == "broken" else ["failed", "passed"]
    attempts = [Attempt(attempt=i + 1, outcome=o) for i, o in enumerate(outcomes)]
    return Rerun(test=test, attempts=attempts, verdict=verdict)


def _pointer(level: Level, hidden: int) -> Annotation:
    return Annotation(level, f"{hidden} more")


def test_a_level_over_the_limit_keeps_the_first_and_counts_the_rest() -> None:
    items = [Annotation("error", f"e{n}") for n in range(25)] + [Annotation("warning", "w")]
    chosen = within_limits(items, _pointer)
    errors = [a.message for a in chosen if a.level == "error"]
    assert errors == [f"e{n}" for n in range(9)] + ["16 more"]
    assert [a.message for a in chosen if a.level == "warning"] == ["w"]


def test_exactly_the_limit_needs_no_pointer() -> None:
    items = [Annotation("notice", f"n{n}") for n in range(10)]
    assert within_limits(items, _pointer) == items


def test_the_job_limit_cuts_the_lower_levels() -> None:
    items = [Annotation(level, "x") for level in ("notice", "warning", "error") for _ in range(8)]
    chosen = within_limits(items, _pointer, per_level=10, total=12)
    assert [a.level for a in chosen] == ["error"] * 8 + ["warning"] * 3 + ["warning"]
    assert chosen[-1].message == "5 more"


def test_bad_limits_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        within_limits([], _pointer, per_level=0)


def test_the_report_annotates_broken_tests_first_and_points_to_the_summary() -> None:
    tests = BROKEN + FLAKY
    reruns = [_rerun(t, "broken") for t in BROKEN] + [_rerun(t, "flaky") for t in FLAKY]
    outcomes: dict[str, Outcome] = {t: "failed" for t in BROKEN}
    the_plan = plan([shard("s1", tests), shard("s2", LOST)])
    results = [ShardResult(manifest("s1", tests, outcomes=outcomes, reruns=reruns))]
    report = build(the_plan, results, history=History()).report
    assert (len(report.failures), len(report.lost), len(report.flaky)) == (15, 30, 12)

    out = io.StringIO()
    with redirect_stdout(out):
        command.annotate(report, {})
    lines = out.getvalue().splitlines()
    errors = [line for line in lines if line.startswith("::error")]
    warnings = [line for line in lines if line.startswith("::warning")]
    assert len(errors) == 10 and len(warnings) == 10 and len(lines) == 20
    assert all(BROKEN[n] in errors[n] for n in range(9)), "the broken tests come first"
    # 15 broken tests and one line for the 30 lost tests of s2: 9 shown, 7 more
    assert re.search(r"::7 more failing tests or shards with lost tests .*job summary", errors[-1])
    assert all(FLAKY[n] in warnings[n] for n in range(9))
    assert re.search(r"::3 more flaky tests .*job summary", warnings[-1])
