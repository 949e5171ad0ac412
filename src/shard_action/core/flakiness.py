"""Passed, failed, broken, flaky or skipped: one verdict per executed test, from every witness.

A test is **flaky** when it failed and then passed in the same run. Four witnesses can say so,
and a fan-in must listen to all of them because users bring their own runners and plugins:

* **our re-runs**: the shard manifest records every re-run in a fresh process and its verdict;
* **pytest-rerunfailures**: reruns inside one pytest process. Depending on its version the JUnit
  report holds one ``<testcase>`` per attempt (16.6.1: earlier attempts are empty elements, the
  last carries the outcome), only the last attempt (older versions: nothing to see), or the
  failed attempts as ``<flakyFailure>`` children of the final case (pull request #380);
* **Surefire and friends**: ``<flakyFailure>``/``<flakyError>`` (failed, then passed: flaky) and
  ``<rerunFailure>``/``<rerunError>`` (failed on every re-run: broken);
* **repeated ``<testcase>`` entries** of the same test in one report (gotestsum ``--rerun-fails``,
  TestNG retries that mark the failed attempt skipped): the last entry is the final attempt.

A pytest node id is unique within a session, so for pytest the same (classname, name) twice in one
report *is* a retry; parametrized ids differ in their ``[...]`` part and are distinct tests.

Verdicts:

* ``passed``: the final attempt passed and no attempt failed;
* ``flaky``: the final attempt passed after at least one failed attempt;
* ``broken``: failed on every attempt, with at least one re-run to prove it;
* ``failed``: failed with a single attempt (re-runs off, or nothing re-ran it);
* ``skipped``: the final attempt was skipped.

The last attempt decides, so "passed, then failed" (possible only when a producer writes empty
placeholders for failed attempts, as pytest-rerunfailures 16.6.1 does) is broken, not flaky: an
empty earlier entry is no proof of a pass. The shard manifest, written by our runner from what it
saw, wins over JUnit for the final outcome; JUnit adds durations, messages, locations and the
retries that happened inside a process.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from shard_action.core.manifest import Rerun
from shard_action.core.outcomes import (
    OUTCOME_RANK,
    STATUS_RANK,
    Outcome,
    Status,
    is_failing,
    is_failing_status,
)
from shard_action.core.resolver import Resolver
from shard_action.core.results import CaseResult, JUnitReport

OUR_RERUN: Final = "re-run in a fresh process"
REPEATED: Final = "repeated testcase"
FLAKY_ELEMENT: Final = "flakyFailure"
RERUN_ELEMENT: Final = "rerunFailure"


@dataclass(frozen=True, slots=True)
class Verdict:
    """What happened to one executed test, all attempts considered."""

    status: Status
    outcome: Outcome
    """The final outcome: ``passed`` for a flaky test, the failure kind for a failing one."""
    attempts: int
    evidence: tuple[str, ...] = ()
    """Which witnesses saw a retry (see the module docstring)."""
    seconds: float | None = None
    """Duration of the first attempt (what the test costs when nothing goes wrong)."""
    message: str | None = None
    """The last failure message seen, for a failing or flaky test."""
    failures: tuple[str | None, ...] = ()
    """Messages of the failed attempts, in order (a flaky test's earlier failures)."""
    file: str | None = None
    line: int | None = None
    classname: str | None = None
    name: str | None = None
    cases: int = 0
    """JUnit test cases behind this test, each counted once (a whole file holds several)."""

    @property
    def failing(self) -> bool:
        return is_failing_status(self.status)


def _status_from(final: Outcome, failed_before: bool, attempts: int) -> Status:
    if final == "skipped":
        return "skipped"
    if final == "passed":
        return "flaky" if failed_before else "passed"
    return "broken" if attempts > 1 else "failed"


def classify_case(appearances: Sequence[CaseResult], *, retries: bool = True) -> Verdict:
    """The verdict of one logical case from its appearances in *one* report, in document order.

    With ``retries`` (the case belongs to a pytest node id, which is unique in a session), an
    earlier appearance is a failed attempt whatever it records: pytest-rerunfailures 16.x writes
    failed attempts as empty ``<testcase>`` elements, TestNG marks them skipped, and nothing but
    a failure makes a runner retry. Without it (names from other runners may repeat for distinct
    tests) only what the elements record counts. ``<flakyFailure>`` and ``<rerunFailure>``
    children are attempts of their own either way.
    """
    if not appearances:
        raise ValueError("a case needs at least one appearance")
    attempts = sum(1 + c.flaky_failures + c.rerun_failures for c in appearances)
    earlier, last = appearances[:-1], appearances[-1]
    final = last.outcome
    failed_before = (
        bool(earlier) if retries else any(is_failing(c.outcome) for c in earlier)
    ) or any(c.flaky_failures or (c.rerun_failures and is_failing(c.outcome)) for c in appearances)
    evidence: list[str] = []
    if earlier:
        evidence.append(REPEATED)
    if any(c.flaky_failures for c in appearances):
        evidence.append(FLAKY_ELEMENT)
    if any(c.rerun_failures for c in appearances):
        evidence.append(RERUN_ELEMENT)
    failures: list[str | None] = []
    for position, case in enumerate(appearances):
        failures.extend([None] * case.flaky_failures)
        is_last = position == len(appearances) - 1
        if is_failing(case.outcome) or (retries and not is_last):
            failures.append(case.message if is_failing(case.outcome) else None)
        failures.extend([None] * case.rerun_failures)
    message = next((c.message for c in reversed(appearances) if is_failing(c.outcome)), None)
    return Verdict(
        status=_status_from(final, failed_before, attempts),
        outcome=final,
        attempts=attempts,
        evidence=tuple(evidence),
        seconds=appearances[0].seconds,
        message=message,
        failures=tuple(failures),
        file=last.file,
        line=last.line,
        classname=last.classname,
        name=last.name,
    )


def merge_worst(
    verdicts: Sequence[Verdict],
    worst: Verdict,
    *,
    status: Status | None = None,
    outcome: Outcome | None = None,
) -> Verdict:
    """Several verdicts as one test's: ``worst`` (one of them) gives the status, outcome and
    details unless told otherwise; attempts are the most any took, durations add up, evidence
    is pooled.

    Shared by a whole file judged from its JUnit cases and a whole-file test judged from the node
    ids that ran in it, which must agree on what "the worst decides" means.
    """
    timed = [v.seconds for v in verdicts if v.seconds is not None]
    return Verdict(
        status=worst.status if status is None else status,
        outcome=worst.outcome if outcome is None else outcome,
        attempts=max(v.attempts for v in verdicts),
        evidence=tuple(dict.fromkeys(e for v in verdicts for e in v.evidence)),
        seconds=sum(timed) if timed else None,
        message=worst.message,
        failures=worst.failures,
        file=worst.file,
        line=worst.line,
        classname=worst.classname,
        name=worst.name,
    )


def _combine_cases(verdicts: Sequence[Verdict]) -> Verdict:
    """A whole file's verdict from its cases: the worst status decides, durations add up."""
    if len(verdicts) == 1:
        return verdicts[0]
    worst = max(verdicts, key=lambda v: (STATUS_RANK[v.status], OUTCOME_RANK[v.outcome]))
    if all(v.status == "skipped" for v in verdicts):
        outcome: Outcome = "skipped"
    elif worst.failing:
        outcome = worst.outcome
    else:
        outcome = "passed"
    return merge_worst(
        verdicts,
        worst,
        status=worst.status if worst.status != "skipped" or outcome == "skipped" else "passed",
        outcome=outcome,
    )


def _from_rerun(outcome: Outcome | None, rerun: Rerun, parts: Sequence[Verdict]) -> Verdict:
    """A test our runner re-ran: the re-run decides flaky or broken, JUnit adds the details."""
    outcomes = [a.outcome for a in rerun.attempts]
    flaky = rerun.verdict == "flaky"
    final: Outcome
    if flaky:
        final = "passed"
    elif outcome is not None and is_failing(outcome):
        final = outcome
    else:
        final = next((o for o in outcomes if is_failing(o)), "failed")
    failures = tuple(f for part in parts for f in part.failures) or tuple(
        None for o in outcomes if is_failing(o)
    )
    message = next((p.message for p in reversed(parts) if p.message), None)
    seconds = parts[0].seconds if parts else None
    details = parts[-1] if parts else None
    return Verdict(
        status="flaky" if flaky else "broken",
        outcome=final,
        attempts=max(len(outcomes), sum(p.attempts for p in parts)),
        evidence=(
            OUR_RERUN,
            *dict.fromkeys(e for p in parts for e in p.evidence if e != REPEATED),
        ),
        seconds=seconds if seconds is not None else rerun.attempts[0].seconds,
        message=message,
        failures=failures,
        file=details.file if details else None,
        line=details.line if details else None,
        classname=details.classname if details else None,
        name=details.name if details else None,
    )


def classify(
    *,
    outcome: Outcome | None = None,
    rerun: Rerun | None = None,
    cases: Sequence[Sequence[CaseResult]] = (),
    retries: bool = True,
) -> Verdict:
    """One executed test's verdict from the manifest (``outcome``, ``rerun``) and its JUnit cases.

    ``cases`` holds one sequence of appearances per logical case *per report*, in report order:
    one per report for a node id, one per test of the file for a whole-file id. ``retries`` says
    whether repeats within a report are retries (see :func:`classify_case`). Separate reports
    are separate processes: our runner's re-runs (told apart by the manifest's ``rerun``), or a
    serial shard running a fan-out lane once per value. With no witness at all the test counts
    as an error: reported as executed, but nothing says how it went.
    """
    parts = [classify_case(group, retries=retries) for group in cases if group]
    junit = _combine_cases(parts) if parts else None
    if rerun is not None and rerun.attempts:
        return _from_rerun(outcome, rerun, parts)
    if junit is None:
        if outcome is None:
            return Verdict(
                status="failed",
                outcome="error",
                attempts=1,
                message="reported as executed, but no result was recorded for it",
            )
        return Verdict(
            status=_status_from(outcome, False, 1),
            outcome=outcome,
            attempts=1,
        )
    if outcome is None or outcome == junit.outcome:
        return junit
    # The manifest has the last word on the outcome; JUnit keeps the attempts and details.
    failed_before = junit.status == "flaky" or (junit.failing and outcome == "passed")
    return Verdict(
        status=_status_from(outcome, failed_before, junit.attempts),
        outcome=outcome,
        attempts=junit.attempts,
        evidence=junit.evidence,
        seconds=junit.seconds,
        message=junit.message,
        failures=junit.failures,
        file=junit.file,
        line=junit.line,
        classname=junit.classname,
        name=junit.name,
    )


@dataclass(frozen=True, slots=True)
class Grouped:
    """A shard's JUnit cases, per executed test id and logical case, and what matched nothing."""

    by_test: Mapping[str, Sequence[Sequence[CaseResult]]]
    unmatched: int


def group_cases(
    ids: Sequence[str], reports: Iterable[JUnitReport], workdir: str | None = None
) -> Grouped:
    """Attach every case of one run's reports to an executed test id.

    Appearances of one logical case (same classname and name) in one report are kept together in
    document order (the order of attempts); groups follow report order. The same case in two
    reports is two groups: separate reports are separate processes (our re-runs, which the
    manifest's ``Rerun`` explains), never retries inside one process.
    """
    index = Resolver(ids, workdir)
    by_test: dict[str, dict[tuple[int, str | None, str], list[CaseResult]]] = {}
    unmatched = 0
    for position, report in enumerate(reports):
        for case in report.cases:
            test_id = index.lookup(case)
            if test_id is None:
                unmatched += 1
                continue
            group = (position, case.classname, case.name)
            by_test.setdefault(test_id, {}).setdefault(group, []).append(case)
    return Grouped(
        by_test={test: list(groups.values()) for test, groups in by_test.items()},
        unmatched=unmatched,
    )
