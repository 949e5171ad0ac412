"""What a test run left behind, as plain values: JUnit test cases, normalised across producers.

The JUnit adapter turns any producer's XML (pytest, Surefire, jest, TestNG, PHPUnit…) into
:class:`CaseResult` values; the planner reads their durations and the fan-in reads their outcomes,
re-runs and flaky markers. One shape for both keeps the two from disagreeing about a report.
"""

from __future__ import annotations

from dataclasses import dataclass

from shard_action.core.outcomes import Outcome


@dataclass(frozen=True, slots=True)
class CaseResult:
    """One ``<testcase>`` element.

    ``flaky_failures`` counts Surefire's ``<flakyFailure>``/``<flakyError>`` (failed, then passed
    on a re-run inside the same run); ``rerun_failures`` counts ``<rerunFailure>``/``<rerunError>``
    (failed on re-runs as well). A test that appears several times in one report keeps one
    :class:`CaseResult` per appearance, in document order; deciding what repeats mean is the
    flakiness module's job, not the parser's.
    """

    name: str
    classname: str | None
    file: str | None
    seconds: float | None
    outcome: Outcome
    flaky_failures: int = 0
    rerun_failures: int = 0
    message: str | None = None
    line: int | None = None


@dataclass(frozen=True, slots=True)
class JUnitReport:
    """One parsed report file: where it came from and its cases in document order."""

    source: str
    cases: tuple[CaseResult, ...]
