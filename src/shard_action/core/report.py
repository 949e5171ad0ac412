"""The fan-in's entry point: :func:`build` turns one run's plan, shard results and previous
history into ``report.json`` (``core.report_document``), the merged JUnit entries and the next
history, computed together so that a flaky count in the comment equals the flaky rate that
decided the next mode. A test is a (lane instance, test id) pair throughout.

Stages: check (``core.fan_in_check``) → judge (``core.fan_in_judge``) → decide
(``core.fan_in_decide``) → remember (``core.fan_in_remember``); shards and timing:
``core.fan_in_shards``; quarantine: ``core.fan_in_quarantine``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from shard_action.core.demotion import rows
from shard_action.core.fan_in_check import Checked, check
from shard_action.core.fan_in_decide import decide, mode_entry
from shard_action.core.fan_in_given import CoverageTotals, Given, Settings, ShardResult
from shard_action.core.fan_in_judge import Judged, judge
from shard_action.core.fan_in_quarantine import suggested_toml, suggestions, with_quarantine
from shard_action.core.fan_in_remember import records_with_run, remember, run_record, with_flips
from shard_action.core.fan_in_shards import lost_groups, shard_entries, timing
from shard_action.core.history import History, TestRecord
from shard_action.core.mode import ModeDecision
from shard_action.core.outcomes import is_failing_status
from shard_action.core.plan import Plan
from shard_action.core.report_document import (
    EXIT_FAILED,
    EXIT_HISTORY,
    EXIT_INCOMPLETE,
    EXIT_OK,
    Counts,
    CoverageEntry,
    Problem,
    ProblemKind,
    Report,
    TestEntry,
    exit_code,
)
from shard_action.core.trends import trends_of

__all__ = [
    "EXIT_FAILED",
    "EXIT_HISTORY",
    "EXIT_INCOMPLETE",
    "EXIT_OK",
    "CoverageEntry",
    "CoverageTotals",
    "Fanin",
    "Problem",
    "ProblemKind",
    "Report",
    "Settings",
    "ShardResult",
    "TestEntry",
    "build",
]
"""The names callers import from here; each lives in the module named in the docstring."""


@dataclass(frozen=True, slots=True)
class Fanin:
    report: Report
    tests: tuple[TestEntry, ...]
    """Every executed test once, in plan order: the merged JUnit."""
    history: History | None
    """The history to write; None when it must not be written (fork, unreadable history)."""


def _counts(checked: Checked, entries: Sequence[TestEntry]) -> Counts:
    plan, completeness, not_run = checked.plan, checked.completeness, checked.not_run
    failing = [e for e in entries if is_failing_status(e.status)]
    held = sum(len(s.tests) for s in plan.shards if s.id in not_run)
    return Counts(
        planned=completeness.planned + held,
        not_run=held,
        tests=len(entries),
        passed=sum(e.status == "passed" for e in entries),
        failed=sum(e.status == "failed" for e in entries),
        broken=sum(e.status == "broken" for e in entries),
        flaky=sum(e.status == "flaky" for e in entries),
        skipped=sum(e.status == "skipped" for e in entries),
        known_flaky=sum(e.known_flaky for e in failing),
        quarantined=sum(e.status == "quarantined" for e in entries),
        errors=sum(e.outcome == "error" for e in failing),
        reruns=sum(max(0, e.attempts - 1) for e in entries),
        lost=len(completeness.lost),
        lost_shards=len(completeness.lost_shards),
        run_twice=len(completeness.run_twice),
        unplanned=len(completeness.unplanned),
        cases=sum(e.cases for e in entries),
    )


def _completeness_fields(checked: Checked) -> dict[str, Any]:
    """The report's account of what ran against the plan: the completeness records themselves."""
    completeness = checked.completeness
    return {
        "complete": completeness.complete,
        "lost": list(completeness.lost),
        "lost_shards": list(completeness.lost_shards),
        "lost_by_shard": lost_groups(completeness.lost, checked.by_shard),
        "run_twice": list(completeness.run_twice),
        "unplanned": list(completeness.unplanned),
        "unknown_shards": list(completeness.unknown_shards),
        "not_run_shards": [s.id for s in checked.plan.shards if s.id in checked.not_run],
        "drift": list(completeness.drift),
    }


def _coverage(
    totals: CoverageTotals | None, history: History | None, planned_shards: int
) -> CoverageEntry:
    previous = history.last_coverage() if history is not None else None
    if totals is None or totals.percent is None:
        note = totals.note if totals is not None else None
        return CoverageEntry(
            measured=False,
            previous=previous,
            note=note or "no coverage data",
            data_files=totals.data_files if totals is not None else 0,
            planned_shards=planned_shards,
        )
    shards = planned_shards if totals.shards is None else len(set(totals.shards))
    partial = shards < planned_shards
    delta = totals.percent - previous if previous is not None and not partial else None
    return CoverageEntry(
        **{**asdict(totals), "shards": shards},  # the totals as measured, then what they mean
        measured=True,
        previous=previous,
        delta=delta,
        counts="statements and branches" if totals.branches else "statements",
        planned_shards=planned_shards,
        partial=partial,
    )


def _report(
    checked: Checked,
    judged: Judged,
    decision: ModeDecision,
    records: Mapping[str, Mapping[str, TestRecord]],
    given: Given,
) -> tuple[Report, list[TestEntry]]:
    """The report of this run (without its trends), and every executed test as judged."""
    plan, settings = checked.plan, given.settings
    flipped = with_flips(judged.entries, records, serial=plan.mode == "serial")
    suggested = suggestions(flipped, judged.covered, records)
    entries, quarantined = with_quarantine(flipped, judged.covered)
    counts = _counts(checked, entries)
    cover = _coverage(given.coverage, given.history, sum(1 for s in plan.shards if s.slices))
    cores = {run.coverage_core for r in checked.by_shard.values() for run in r.manifest.slices}
    code = exit_code(
        complete=checked.completeness.complete,
        problems=given.problems,
        failing=counts.failing,
        flaky=counts.flaky,
        fail_on_flaky=plan.runner.fail_on_flaky,
    )
    report = Report(
        run=judged.facts.index if given.writable else None,
        ok=code == EXIT_OK,
        exit_code=code,
        fork=settings.fork,
        unit=plan.granularity,
        counts=counts,
        **_completeness_fields(checked),
        failures=[e for e in entries if is_failing_status(e.status)],
        flaky=[e for e in entries if e.status == "flaky"],
        quarantined=quarantined,
        quarantine_file=plan.quarantine.source,
        suggested=suggested,
        suggested_toml=suggested_toml(plan, suggested, settings.today),
        shards=shard_entries(
            plan,
            checked.by_shard,
            entries,
            checked.unmatched,
            checked.completeness,
            not_run=checked.not_run,
            setups=given.setups,
        ),
        timing=timing(plan, checked.by_shard, entries, settings.concurrency),
        coverage=cover.model_copy(update={"cores": sorted(c for c in cores if c)}),
        mode=mode_entry(
            plan, decision, given.previous, settings, judged.facts, recorded=given.writable
        ),
        demotion=rows(
            judged.moved, promote_after=settings.promote_after, max_demoted=settings.max_demoted
        ),
        problems=list(given.problems),
    )
    return report, entries


def build(
    plan: Plan,
    shards: Sequence[ShardResult],
    *,
    history: History | None,
    coverage: CoverageTotals | None = None,
    settings: Settings | None = None,
    problems: Sequence[Problem] = (),
    setups: Mapping[str, float] | None = None,
) -> Fanin:
    """Everything the fan-in concludes from one run: check → judge → decide → remember.

    ``history`` is the previous history (an empty :class:`History` when there is none) or None
    when it could not be read: then nothing is remembered and no history is written. Two
    manifests for the same shard keep the first; the caller names the duplicate as a problem.
    ``setups``: each shard job's set-up before our step (seconds), when the jobs endpoint gave it.
    """
    previous = history if history is not None else History()
    given = Given(history, previous, coverage, settings or Settings(), problems, setups)
    checked = check(plan, shards)
    judged = judge(checked, previous, given.settings)
    decision = decide(previous, judged, given.settings)
    records, speed = records_with_run(checked, judged, given)
    report, entries = _report(checked, judged, decision, records, given)
    run = run_record(plan, report, entries, judged, decision, sha=given.settings.sha, speed=speed)
    after = remember(checked, judged, decision, records, run, given=given, speed=speed)
    report = report.model_copy(update={"trends": trends_of(after)})
    return Fanin(report=report, tests=tuple(entries), history=after if given.writable else None)
