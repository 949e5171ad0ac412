"""The shard's ledger: what each slice's processes said, what to re-run, and the verdict.

Pure: the runner adapter (``adapters.slices``) starts the processes and hands their reports here;
the ledger records first attempts and re-runs per slice, says which tests to run again
(``core.reruns``' rule), turns what went wrong with a process into failures, and adds it all up
to the manifest's slice results and the shard's exit code.
"""

from __future__ import annotations

import signal
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from shard_action.core import fixtures
from shard_action.core.manifest import Attempt, Drift, EarlyResult, Rerun, SliceResult
from shard_action.core.outcomes import Outcome, is_failing, worse
from shard_action.core.plan import Plan
from shard_action.core.prediction import ProcessTimes, first_file
from shard_action.core.process_report import ProcessResult, PytestReport
from shard_action.core.quarantine import Quarantine
from shard_action.core.reruns import (
    RerunFinding,
    final_outcome,
    finding,
    shard_exit_code,
    wants_rerun,
)
from shard_action.core.selection import PlacedSlice, group_by_file, not_run
from shard_action.core.testids import file_of, label
from shard_action.core.units import count

FIRST = "the runner process"
CAUSE_CHARS = 300
"""A cause quoted from a process's stderr is cut here: one line of a report, not a traceback."""


@dataclass
class SliceRecord:
    """What one slice of the shard did: its processes, first attempts, re-runs and drift.

    Kept per slice, not per shard: a planned test is a (lane instance, id) pair, and in serial
    mode a fan-out lane puts the same ids in two slices of one shard (once per backend), each
    counted on its own. Within one slice an id is planned once, so a second sighting of it (two
    witnesses of one attempt: the event stream, a collection error) is the same test.
    """

    lane: str
    planned: tuple[str, ...]
    tests: list[str] = field(default_factory=list)
    attempts: dict[str, list[Attempt]] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    unplanned: list[str] = field(default_factory=list)
    exit_codes: list[int] = field(default_factory=list)
    junit: list[str] = field(default_factory=list)
    coverage_core: str | None = None

    def first(self, test: str, outcome: Outcome, seconds: float | None) -> None:
        if test in self.attempts:
            return
        self.tests.append(test)
        self.attempts[test] = [Attempt(attempt=1, outcome=outcome, seconds=seconds)]

    def again(self, test: str, outcome: Outcome, seconds: float | None) -> None:
        attempts = self.attempts[test]
        attempts.append(Attempt(attempt=len(attempts) + 1, outcome=outcome, seconds=seconds))

    def outcomes_of(self, test: str) -> list[Outcome]:
        return [a.outcome for a in self.attempts[test]]

    def rerun_next(self, mine: Iterable[str], reruns: int) -> list[str]:
        """The tests of ``mine`` (planned here, or drift run here) to run again, in order."""
        own = set(mine)
        return [t for t in self.tests if t in own and wants_rerun(self.outcomes_of(t), reruns)]


@dataclass
class EarlyRecord:
    """The rounds of one lane's new tests after the shard's own (``core.early_flakes``)."""

    lane: str
    tests: tuple[str, ...]
    outcomes: dict[str, list[Outcome]] = field(default_factory=dict)
    exit_codes: list[int] = field(default_factory=list)
    junit: list[str] = field(default_factory=list)

    def round(self, report: PytestReport) -> None:
        """One round's outcomes; a whole-file id gets its file's worst. A test the round did
        not report (its process died) has no outcome: nothing is held against it."""
        got: dict[str, Outcome] = {}
        for result in report.results:
            key = file_of(result.id) if file_of(result.id) in self.tests else result.id
            got[key] = worse(got[key], result.outcome) if key in got else result.outcome
        self.exit_codes.append(report.process.returncode)
        for test in self.tests:
            if (outcome := got.get(test)) is not None:
                self.outcomes.setdefault(test, []).append(outcome)

    def result(self) -> EarlyResult:
        return EarlyResult(
            lane=self.lane,
            tests=list(self.tests),
            outcomes=self.outcomes,
            exit_codes=self.exit_codes,
            junit=self.junit,
        )


@dataclass
class Ledger:
    """Everything the shard learns while it runs, in the order it learns it."""

    slices: list[SliceRecord] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    fatal: bool = False
    processes: list[ProcessTimes] = field(default_factory=list)
    """The first process of each slice that ran a test, for the shard's measured parts."""
    files: dict[str, float] = field(default_factory=dict)
    scopes: dict[str, float] = field(default_factory=dict)
    """Module and class fixture cost per scope (``core.fixtures``), from the first processes."""
    carried: dict[str, dict[str, float]] = field(default_factory=dict)
    """Per lane instance, the scope fixture seconds each test's time includes (the history
    keeps them apart; a serial shard runs a fan-out lane's ids once per value)."""
    reruns: bool = False
    """Re-run or early-flake processes ran: the shard's finish is not a clean sample."""
    early: list[EarlyRecord] = field(default_factory=list)

    def fail(self, message: str, *, fatal: bool = True) -> None:
        self.failures.append(message)
        self.fatal = self.fatal or fatal


def where(shard: str, piece: PlacedSlice) -> str:
    return f"shard {shard}, lane {piece.lane.name}"


def signal_name(number: int) -> str:
    try:
        return f"signal {number} ({signal.Signals(number).name})"
    except ValueError:
        return f"signal {number}"


def said(process: ProcessResult) -> str:
    """``: <its last stderr line>``, the cause in the process's own words, or nothing."""
    cause = process.cause
    if cause is None:
        return ""
    if len(cause) > CAUSE_CHARS:
        cause = cause[: CAUSE_CHARS - 1].rstrip() + "…"
    return f": {cause}"


def judge_process(
    ledger: Ledger, at: str, piece: PlacedSlice, report: PytestReport, name: str
) -> None:
    """Turn what went wrong with one pytest process (not with its tests) into failures."""
    process, lane = report.process, piece.lane
    inside = f" while running {report.running}" if report.running else ""
    if process.timed_out:
        ledger.fail(
            f"{at}: {name} exceeded the lane timeout of {lane.timeout:g} s and was killed{inside}"
        )
    elif report.memory_errors:
        ledger.fail(
            f"{at}: {report.memory_errors[0]} exceeded the memory cap of {lane.memory_mb} MiB "
            "(MemoryError); the process was stopped"
        )
    elif process.signal is not None:
        capped = lane.memory_mb is not None
        cap = f" (probably the memory cap of {lane.memory_mb} MiB)" if capped else ""
        ledger.fail(f"{at}: {name} was killed by {signal_name(process.signal)}{cap}{inside}")
    elif report.collection is None:
        ledger.fail(
            f"{at}: {name} exited with code {process.returncode} before it finished "
            f"collecting{said(process)}"
        )
    elif process.returncode in (3, 4):
        kind = "an internal error" if process.returncode == 3 else "a usage error"
        ledger.fail(f"{at}: pytest stopped with {kind} (exit {process.returncode})")
    if report.collection is not None and report.collection.errors and name == FIRST:
        nodes = ", ".join(node or "(rootdir)" for node, _ in report.collection.errors[:5])
        ledger.fail(f"{at}: {name} could not collect {nodes}", fatal=False)


def first_attempt(
    ledger: Ledger, record: SliceRecord, at: str, piece: PlacedSlice, report: PytestReport
) -> None:
    """Record the slice's first pytest process: its tests, its drift, its clock."""
    clock = report.clock
    # A scope's fixture is its own cost, not its first test's, and the session's is the
    # process's start-up and finish. Under xdist the controller reports the workers' tests
    # interleaved, so no order says which test opened a scope.
    paid = fixtures.Charges() if report.xdist else fixtures.charges(report.results)
    if clock is not None and report.process.began > 0:
        files = () if report.collection is None else report.collection.files
        ledger.processes.append(
            ProcessTimes(report.process.began, clock.configured, clock.first, clock.last,
                         opening=paid.startup, closing=paid.finish,
                         collected_first=first_file(files), xdist=report.xdist)
        )  # fmt: skip
    for result in report.results:
        record.first(result.id, result.outcome, result.seconds)
    for scope, seconds in paid.scopes.items():
        ledger.scopes[scope] = ledger.scopes.get(scope, 0.0) + seconds
    if paid.per_test:
        ledger.carried.setdefault(record.lane, {}).update(paid.per_test)
    if report.running is not None:
        record.first(report.running, "error", None)
    collection = report.collection
    if collection is None:
        return
    for name, seconds in collection.files:
        ledger.files[name] = ledger.files.get(name, 0.0) + seconds
    record.coverage_core = collection.coverage_core
    record.missing.extend(collection.missing)
    record.unplanned.extend(collection.unplanned)
    if collection.ignored:
        ledger.notes.append(
            f"{at}: {count(len(collection.ignored), 'collected test')} not in the plan, "
            f"replacing no planned id, did not run (first: {collection.ignored[0]})"
        )
    broken = {file_of(node) for node, _ in collection.errors if node}
    for test in piece.tests:
        if file_of(test) in broken:
            record.first(test, "error", None)
    if piece.lane.sequential:
        planned = set(piece.tests)
        ran = [r.id for r in report.results if r.id in planned]
        if ran != [t for t in piece.tests if t in set(ran)]:
            ledger.notes.append(
                f"{at}: ran in pytest's collection order, which differs from the order in the plan"
            )


def rerun_attempt(record: SliceRecord, again: Sequence[str], report: PytestReport) -> None:
    """Record one re-run process: a test it did not report (drifted away, or the process
    died) has not passed."""
    got = {r.id: r for r in report.results}
    for test in again:
        result = got.get(test)
        if result is None:
            record.again(test, "error", None)
        else:
            record.again(test, result.outcome, result.seconds)


def judge_command(
    ledger: Ledger,
    at: str,
    piece: PlacedSlice,
    process: ProcessResult,
    *,
    junit_name: str,
    wrote_junit: bool,
    reports_junit: bool,
) -> None:
    """Turn what went wrong with a runner from a command template into failures."""
    lane = piece.lane
    if not wrote_junit and reports_junit and not (process.timed_out or process.signal is not None):
        ledger.fail(
            f"{at}: the runner exited with code {process.returncode} and wrote no JUnit "
            f"report to {junit_name}{said(process)}: its "
            f"{count(len(piece.tests), 'planned test')} count as not run",
            fatal=False,
        )
    if process.timed_out:
        ledger.fail(
            f"{at}: the runner exceeded the lane timeout of {lane.timeout:g} s and was killed"
        )
    elif process.signal is not None:
        cap = f" (probably the memory cap of {lane.memory_mb} MiB)" if lane.memory_mb else ""
        ledger.fail(f"{at}: the runner was killed by {signal_name(process.signal)}{cap}")


def command_outcomes(
    ledger: Ledger,
    record: SliceRecord,
    at: str,
    piece: PlacedSlice,
    *,
    returncode: int,
    found: Mapping[str, Outcome] | None,
    reports_junit: bool,
) -> None:
    """A planned id gets the outcome its JUnit cases give it; without one it is lost.

    Only a template that asks for no JUnit report (no ``junit_path``) falls back to the exit
    code, since then the exit code is all the runner says.
    """
    if ledger.fatal:
        fallback: Outcome | None = "error"
    elif found is None and not reports_junit:
        fallback = "passed" if returncode == 0 else "failed"
    else:
        fallback = None
    outcomes = dict(found or {})
    unnamed = [t for t in piece.tests if t not in outcomes]
    if found is not None and unnamed and fallback is None:
        ledger.fail(
            f"{at}: the runner's JUnit report has no result for "
            f"{count(len(unnamed), 'planned test')}: not run (deselected, filtered out, or "
            f"reported under a name that matches no planned file); first: {unnamed[0]}",
            fatal=False,
        )
    recorded = {t: o for t in piece.tests if (o := outcomes.get(t, fallback)) is not None}
    for test, outcome in recorded.items():
        record.first(test, outcome, None)
    complete = len(recorded) == len(piece.tests)  # otherwise a failure above says why
    silent = not any(is_failing(o) for o in recorded.values())
    if returncode != 0 and not ledger.fatal and complete and silent:
        ledger.fail(
            f"{at}: the runner exited with code {returncode} but reported no failure", fatal=False
        )


# -- the verdict -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdicts:
    """What the ledger adds up to: the manifest's slices, the shard's failure and exit code."""

    slices: list[SliceResult]
    failure: str | None
    exit_code: int
    lost: list[str]
    """Planned tests that neither ran nor drifted, named with their lane where it matters."""
    counts: Counter[Outcome]
    """Final outcomes, per (lane, id)."""


def slice_result(
    record: SliceRecord, quarantine: Quarantine, base: str | None
) -> tuple[SliceResult, list[RerunFinding], list[str]]:
    """The manifest's view of one slice, the verdicts that decide the exit code, its lost ids.

    A quarantined test's verdict is left out of those verdicts: it ran and the manifest records
    it, but it does not fail the shard.
    """
    outcomes: dict[str, Outcome] = {}
    verdicts: list[RerunFinding] = []
    reruns: list[Rerun] = []
    for test in record.tests:
        attempts = record.attempts[test]
        outcomes[test] = final_outcome([a.outcome for a in attempts])
        judged = finding([a.outcome for a in attempts])
        if judged is not None:
            if quarantine.covers(test, record.lane, base) is None:
                verdicts.append(judged)
            if len(attempts) > 1:
                reruns.append(Rerun(test=test, attempts=attempts, verdict=judged))
    missing = group_by_file(record.missing)
    unplanned = group_by_file(record.unplanned)
    drift = [
        Drift(file=f, planned=missing.get(f, []), collected=unplanned.get(f, []))
        for f in dict.fromkeys([*missing, *unplanned])
    ]
    result = SliceResult(
        lane=record.lane,
        planned=len(record.planned),
        tests=record.tests,
        outcomes=outcomes,
        reruns=reruns,
        drift=drift,
        exit_codes=record.exit_codes,
        junit=record.junit,
        coverage_core=record.coverage_core,
    )
    return result, verdicts, not_run(record.planned, record.tests, record.missing)


def add_up(plan: Plan, shard_id: str, ledger: Ledger, fanned: frozenset[str]) -> Verdicts:
    """The shard's verdict: 1 for a broken test (a flaky one too with ``fail-on-flaky``),
    lost tests, or a failure; quarantined tests never decide it."""
    slices: list[SliceResult] = []
    verdicts: list[RerunFinding] = []
    lost: list[str] = []
    counts: Counter[Outcome] = Counter()
    bases = {lane.name: lane.base for lane in plan.lanes}
    for record in ledger.slices:
        result, judged, missed = slice_result(record, plan.quarantine, bases.get(record.lane))
        slices.append(result)
        verdicts += judged
        lost += [label(t, record.lane, t in fanned) for t in missed]
        counts += Counter(result.outcomes.values())
    failures = list(ledger.failures)
    if lost and not failures:  # with a cause, the count is the report's to give, once
        failures.append(f"shard {shard_id}: {count(len(lost), 'planned test')} did not run")
    failure = "; ".join(failures) if failures else None
    code = shard_exit_code(
        verdicts, fail_on_flaky=plan.runner.fail_on_flaky, lost=len(lost), failure=failure
    )
    return Verdicts(slices, failure, code, lost, counts)
