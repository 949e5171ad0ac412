"""The fan-in's verdict on a whole run: ``report.json``, and the pure function that builds it.

One function sees everything at once (the plan, every shard's manifest and JUnit cases, the
coverage totals and the previous history) and returns three things that must agree with each
other: the :class:`Report` (what the summary, the comment and the step outputs show), every
executed test's final entry (what the merged JUnit holds) and the next :class:`History` (what the
next plan reads). Computing them together is what keeps a flaky count in the comment equal to the
flaky rate that decided the next mode.

A test is a **(lane instance, test id)** pair throughout: under fan-out the same id runs once per
backend, each run is judged from its own run's outcomes, re-runs and JUnit files, counted as a
test of its own in the flaky rate, and timed under its own lane in the history. Entries whose id
is planned in more than one lane instance say so (``fanned_out``), so that what a person reads
names the lane with the id.

Exit status (:func:`exit_code`), most severe first:

* ``3``: the run is incomplete: tests or shards lost, tests run twice, unplanned tests, results
  of a shard the plan does not have, or a shard's result file (manifest or JUnit) unreadable;
* ``2``: the history file could not be read, so it was not updated (everything else was written);
* ``1``: tests failed (failed, or broken on every re-run), or were flaky with ``fail-on-flaky``;
* ``0``: every planned test ran once and passed (flaky tests included, unless told otherwise).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime, timezone
from typing import Any, ClassVar, Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from shard_action.core.completeness import (
    Completeness,
    DriftNote,
    Executed,
    FannedOut,
    Instance,
    LostShard,
    LostTest,
    RunTwice,
    Unplanned,
    check,
)
from shard_action.core.config import (
    FLAKY_THRESHOLD,
    MAX_DEMOTED,
    OUTAGE_THRESHOLD,
    PROMOTE_AFTER,
    RECOVER_AFTER,
)
from shard_action.core.demotion import DemotionRow, Seen, Step, rows
from shard_action.core.demotion import update as update_demotion
from shard_action.core.documents import Document
from shard_action.core.early_flakes import early_failures
from shard_action.core.flakiness import (
    OUR_RERUN,
    Verdict,
    classify,
    group_cases,
    merge_worst,
)
from shard_action.core.history import (
    MAX_SLOWEST,
    History,
    Limits,
    Observed,
    RunRecord,
    TestRecord,
    flip_rate,
    judged_runs,
    known_flaky,
    letter_of,
    record_of,
    update_tests,
    with_run,
)
from shard_action.core.lanes import home_lane
from shard_action.core.manifest import Rerun, ShardManifest
from shard_action.core.mode import ModeDecision, ModeState, RunFacts, next_mode
from shard_action.core.outage import Ran
from shard_action.core.outage import detect as detect_outage
from shard_action.core.outcomes import (
    FAILED_FIRST,
    STATUS_RANK,
    EntryStatus,
    Outcome,
    Status,
    is_failing_status,
)
from shard_action.core.plan import Plan, PlannedShard
from shard_action.core.prediction import Measured, Parts, learned, speed_factor
from shard_action.core.quarantine import QuarantineEntry, Suggestion, suggestion_block
from shard_action.core.resolver import Resolver
from shard_action.core.results import CaseResult, JUnitReport
from shard_action.core.testids import is_whole_file, label
from shard_action.core.trends import Trends, bottleneck, slowest, trends_of
from shard_action.core.vocabulary import flip_note

REPORT_VERSION: Final = 2
REPORT_KIND: Final = "shard-action-report"

EXIT_OK: Final = 0
EXIT_FAILED: Final = 1
EXIT_HISTORY: Final = 2
EXIT_INCOMPLETE: Final = 3

ProblemKind = Literal["results", "history", "coverage", "template", "config"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Problem(_Model):
    """A file we could not use, named so that a person can go and look at it."""

    kind: ProblemKind
    source: str
    message: str
    shard: str | None = None


class Counts(_Model):
    planned: int
    tests: int = Field(description="Executed tests, each counted once.")
    passed: int
    failed: int = Field(description="Failed with a single attempt.")
    broken: int = Field(description="Failed on every attempt, re-runs included.")
    flaky: int
    skipped: int
    known_flaky: int = Field(
        0, description="Of the failed tests, those known flaky from the history (not broken)."
    )
    quarantined: int = Field(
        0,
        description="Tests in the quarantine file that failed or were flaky: reported, not "
        "failing the job.",
    )
    errors: int = Field(description="Failing tests whose final outcome was an error.")
    reruns: int = Field(description="Extra attempts (re-runs) over all tests.")
    lost: int
    lost_shards: int
    run_twice: int
    unplanned: int
    not_run: int = Field(
        0,
        description="Planned tests of shards that did not run because the first tier "
        "(`first-tier`) did not pass: not lost, by design.",
    )
    cases: int = Field(
        0,
        description="JUnit test cases the executed tests ran, each counted once: at file "
        "granularity (`unit` `file`) several per test file.",
    )

    @property
    def failing(self) -> int:
        return self.failed + self.broken


class TestEntry(_Model):
    """One executed test: where it ran (test, lane, shard) and its verdict; built whole by the
    fan-in's stages (``model_copy``), never changed afterwards."""

    __test__ = False
    model_config = ConfigDict(extra="forbid", frozen=True)

    test: str
    lane: str
    shard: str
    status: EntryStatus
    outcome: Outcome
    attempts: int
    seconds: float | None = None
    message: str | None = None
    failures: list[str | None] = Field(default_factory=list)
    file: str | None = None
    line: int | None = None
    classname: str | None = None
    name: str | None = None
    evidence: list[str] = Field(default_factory=list)
    kind: Literal["planned", "drift", "unplanned"] = "planned"
    fanned_out: FannedOut = False
    cases: int = Field(0, description="JUnit test cases behind it (a whole file: several).")
    flip_rate: float | None = Field(None, description="Over the history's window, this run in.")
    flip_window: int | None = Field(None, description="Runs the flip rate is over.")
    known_flaky: bool = Field(
        False,
        description="Failed every attempt, but flaky in the history's window: `failed`, "
        "not `broken`.",
    )
    flaky_on_its_own: bool = Field(
        False, description="Flaky in a serial run too: parallelism is not the cause."
    )
    verdict: Status | None = Field(
        None,
        description="A quarantined test's status had it not been quarantined (`failed`, "
        "`broken`, `flaky`).",
    )


class QuarantinedEntry(_Model):
    """A test of the quarantine file that ran in this run, with what became of it."""

    test: str
    lane: str
    shard: str
    status: Status = Field(description="What happened to it (`passed`: maybe it is fixed).")
    owner: str
    reason: str
    expires: date
    flip_rate: float | None = None
    flip_window: int | None = None
    fanned_out: FannedOut = False


class SuggestedEntry(_Model):
    """A test worth quarantining: flaky on its own (serial cannot fix it) and not quarantined."""

    test: str
    lane: str
    flip_rate: float | None
    flip_window: int | None
    reason: str


class LostGroup(_Model):
    """Lost tests of one shard that share one reason: what a reader is shown first.

    A shard that stopped before its tests loses them all for one cause; one line per shard
    with the count and that cause (the ids are in ``lost``) reads in a glance, where a row per
    test repeated the same paragraph hundreds of times.
    """

    shard: str
    lane: str
    tests: int = Field(description="How many of the shard's planned tests were lost for this.")
    reason: str
    cause: str | None = Field(
        None, description="Why the shard stopped, in the shard's own words (its `failure`)."
    )


class ShardEntry(_Model):
    shard: str
    lane: str
    name: str
    status: Literal["passed", "failed", "stopped", "missing", "unknown", "not run"] = Field(
        description="`not run`: held back because the first tier did not pass."
    )
    planned: int
    executed: int
    predicted_seconds: float | None = Field(
        description="The plan's prediction (`prediction`'s sum; without its set-up when the "
        "job's set-up was not measured, so that both columns count the same parts)."
    )
    actual_seconds: float | None = Field(
        description="The shard's own wall, plus its job's set-up when that was measured."
    )
    prediction: Parts | None = Field(None, description="The plan's prediction in parts.")
    measured: Parts | None = Field(
        None, description="The same parts as measured (set-up: 0 when not measured)."
    )
    start_offset: float | None = Field(None, description="Seconds after the first shard began.")
    exit_code: int | None = None
    failure: str | None = None
    failing: int = 0
    flaky: int = 0
    unmatched_cases: int = Field(0, description="JUnit cases that matched no executed test.")


class TimingEntry(_Model):
    wall_seconds: float | None = Field(
        None, description="First shard start to last shard end (job set-up not included)."
    )
    busy_seconds: float = Field(0.0, description="Sum of the shards' own durations.")
    overhead_seconds: float = Field(0.0, description="Per-shard job overhead from the plan.")
    test_seconds: float = Field(0.0, description="Sum of the executed tests' own durations.")
    startup_seconds: float = Field(
        0.0,
        description="The longest time a shard spent outside its tests (process start, "
        "collection, finish, and re-runs of failed tests, which one serial job would also "
        "pay): counted once in the serial estimate. Without any test's own time, the shards' "
        "whole durations.",
    )
    serial_estimate: float | None = Field(
        None,
        description="One job running everything: job set-up and the time outside the tests "
        "once, plus every test (overhead + startup + test seconds).",
    )
    predicted_makespan: float
    predicted_serial: float
    lower_bound: float
    speedup: float | None = Field(None, description="serial_estimate / (overhead + wall_seconds).")
    estimated_tests: int = Field(
        0, description="Planned tests whose predicted time was estimated, not measured."
    )
    concurrency: int | None = Field(
        None,
        description="Shard processes run at once on one machine (`shard-action local`); "
        "None on CI, where each shard is its own job.",
    )


class CoverageEntry(_Model):
    measured: bool
    percent: float | None = None
    previous: float | None = Field(None, description="Last coverage in the history given.")
    delta: float | None = Field(None, description="Percentage points against `previous`.")
    covered_lines: int = 0
    statements: int = 0
    branches: int = Field(0, description="Branches measured (0 without branch coverage).")
    covered_branches: int = 0
    counts: Literal["statements", "statements and branches"] | None = Field(
        None,
        description="What `percent` counts: covered statements over all statements, or, with "
        "branch coverage on, covered statements and branches over both (coverage.py's total).",
    )
    files: int = 0
    data_files: int = 0
    shards: int = Field(0, description="Shards whose coverage data is in the figure.")
    planned_shards: int = Field(0, description="Shards in the plan.")
    partial: bool = Field(
        False,
        description="Fewer shards left coverage data than were planned: the figure leaves out "
        "what the others ran, has no `delta` and is not kept in the history.",
    )
    note: str | None = None
    cores: list[str] = Field(
        default_factory=list,
        description="coverage.py cores that measured the shards (`sysmon`, `ctrace`, `pytrace`).",
    )


class ModeEntry(_Model):
    mode: Literal["parallel", "serial"] = Field(description="The mode this run used.")
    reason: str
    next: ModeState = Field(
        description="The mode the next run follows, and why: the history's state after this "
        "run (as it was, when the decision was not recorded)."
    )
    changed: bool
    recorded: bool = Field(description="The decision was stored in the history written.")
    flaky_rate: float
    rate_flaky: int = Field(
        0, description="Tests the flaky rate counts: flaky ones and failing known-flaky ones."
    )
    rate_tests: int = Field(0, description="Tests the flaky rate is over (skips left out).")
    outage: str | None = Field(
        None,
        description="Why the run looked like an outage: then it did not count toward the flaky "
        "rate or the mode, and its failures are not in the tests' history.",
    )
    outage_threshold: float = OUTAGE_THRESHOLD
    flaky_threshold: float
    recover_after: int
    flaky_on_their_own: bool


class Report(Document):
    kind: Literal["shard-action-report"] = REPORT_KIND
    version: Literal[2] = REPORT_VERSION
    title: ClassVar[str] = "report"
    run: int | None = Field(None, description="Index of this run in the history.")
    complete: bool
    ok: bool = Field(description="Complete, readable, and no failing test: exit code 0.")
    exit_code: int
    fork: bool = False
    unit: Literal["test", "file"] = Field(
        "test",
        description="What a planned test is, so what `counts` count: a test, or a test file "
        "(file granularity: a runner's files split by file); `counts.cases` has the test cases.",
    )
    counts: Counts
    lost: list[LostTest]
    lost_shards: list[LostShard]
    lost_by_shard: list[LostGroup] = Field(
        default_factory=list, description="`lost` grouped by shard and reason, in plan order."
    )
    run_twice: list[RunTwice]
    unplanned: list[Unplanned]
    unknown_shards: list[str]
    not_run_shards: list[str] = Field(
        default_factory=list,
        description="Shards held back because a first-tier shard did not pass (`first-tier`).",
    )
    drift: list[DriftNote]
    failures: list[TestEntry] = Field(description="Failed and broken tests.")
    flaky: list[TestEntry]
    quarantined: list[QuarantinedEntry] = Field(
        default_factory=list, description="Tests of the quarantine file that ran, in plan order."
    )
    quarantine_file: str | None = Field(None, description="The quarantine file the plan read.")
    suggested: list[SuggestedEntry] = Field(
        default_factory=list, description="Tests flaky on their own, worth quarantining."
    )
    suggested_toml: str = Field(
        "", description="`suggested` as `[[quarantine]]` tables to paste into the file."
    )
    shards: list[ShardEntry]
    timing: TimingEntry
    coverage: CoverageEntry
    mode: ModeEntry
    demotion: list[DemotionRow] = Field(
        default_factory=list,
        description="Parallel-sensitive tests (`core.demotion`): demoted this run, still "
        "demoted, promoted back to parallel, or why not demoted.",
    )
    problems: list[Problem]
    trends: Trends | None = Field(
        None,
        description="From the history with this run added: tests markedly slower than their "
        "rolling median, new slowest tests, the last runs' suite and wall time, and what bounded "
        "this run's wall time (see `core.trends`).",
    )


@dataclass(frozen=True, slots=True)
class ShardResult:
    """One shard's results as the adapters read them.

    ``reports`` are keyed by the name the manifest's runs list them under (relative to the
    shard's results folder): each run is judged from its own files only, so the same id in the
    sqlite and the memory run of a serial shard are two tests, not one test seen twice.
    """

    manifest: ShardManifest
    reports: Mapping[str, JUnitReport] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CoverageTotals:
    """What the coverage adapter measured (``percent`` is None when nothing was measured)."""

    percent: float | None
    covered_lines: int = 0
    statements: int = 0
    files: int = 0
    data_files: int = 0
    note: str | None = None
    branches: int = 0
    covered_branches: int = 0
    shards: tuple[str, ...] | None = None
    """The shards whose data was combined (None: not known, not counted as partial)."""


@dataclass(frozen=True, slots=True)
class Settings:
    flaky_threshold: float = FLAKY_THRESHOLD
    recover_after: int = RECOVER_AFTER
    outage_threshold: float = OUTAGE_THRESHOLD
    promote_after: int = PROMOTE_AFTER
    max_demoted: int = MAX_DEMOTED
    fork: bool = False
    """A run from an untrusted fork: the history is neither changed nor written."""
    limits: Limits = field(default_factory=Limits)
    sha: str | None = None
    today: date | None = None
    """The date suggested quarantine entries count their expiry from (None: no suggestions)."""
    concurrency: int | None = None
    """Shard processes run at once on one machine (``local``); None on CI."""


@dataclass(frozen=True, slots=True)
class Fanin:
    report: Report
    tests: tuple[TestEntry, ...]
    """Every executed test once, in plan order: the merged JUnit."""
    history: History | None
    """The history to write; None when it must not be written (fork, unreadable history)."""


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def _seconds(start: datetime, end: datetime) -> float:
    return max(0.0, (_utc(end) - _utc(start)).total_seconds())


def _run_reports(result: ShardResult) -> tuple[list[list[JUnitReport]], list[JUnitReport]]:
    """Each run's JUnit reports, by the names its manifest entry lists, and the unnamed rest.

    A report that no run names (a manifest that lists no files: the command then found them in
    the folder) is given to every run; each run matches only its own ids in it.
    """
    runs = result.manifest.slices
    named = {name for run in runs for name in run.junit}
    unnamed = [report for name, report in result.reports.items() if name not in named]
    per_run = [
        [result.reports[name] for name in run.junit if name in result.reports] + unnamed
        for run in runs
    ]
    return per_run, unnamed


def _verdicts(
    completeness: Completeness, shards: Mapping[str, ShardResult]
) -> tuple[dict[int, Verdict], dict[str, int]]:
    """Verdict per executed instance (by position), and unmatched JUnit cases per shard.

    An instance is judged from its own run: that run's outcome, re-run and JUnit cases.
    """
    grouped: dict[tuple[str, int], Mapping[str, Sequence[Sequence[CaseResult]]]] = {}
    reruns: dict[tuple[str, int], dict[str, Rerun]] = {}
    unmatched: dict[str, int] = {}
    for shard_id, result in shards.items():
        manifest = result.manifest
        per_run, unnamed = _run_reports(result)
        missed = 0
        for index, (run, reports) in enumerate(zip(manifest.slices, per_run, strict=True)):
            found = group_cases(run.tests, reports, manifest.workdir)
            grouped[(shard_id, index)] = found.by_test
            reruns[(shard_id, index)] = {r.test: r for r in run.reruns}
            missed += found.unmatched
        if unnamed:  # given to every run: a case is unmatched when no run of the shard has it
            every = Resolver([t for run in manifest.slices for t in run.tests], manifest.workdir)
            missed = sum(
                every.lookup(case) is None
                for report in result.reports.values()
                for case in report.cases
            )
        unmatched[shard_id] = missed
    verdicts: dict[int, Verdict] = {}
    for position, instance in enumerate(completeness.executed):
        key = (instance.shard, instance.run)
        found_result = shards.get(instance.shard)
        runs = found_result.manifest.slices if found_result is not None else []
        ran = runs[instance.run] if instance.run < len(runs) else None
        parts: list[Verdict] = []
        for member in instance.members:
            parts.append(
                classify(
                    outcome=ran.outcomes.get(member) if ran is not None else None,
                    rerun=reruns.get(key, {}).get(member),
                    cases=grouped.get(key, {}).get(member, ()),
                    retries=not is_whole_file(member),
                )
            )
        cases = sum(
            len({(group[0].classname, group[0].name) for group in groups if group})
            for member in instance.members
            for groups in [grouped.get(key, {}).get(member, ())]
        )
        verdicts[position] = replace(_merge_members(parts), cases=cases)
    return verdicts, unmatched


def _merge_members(parts: Sequence[Verdict]) -> Verdict:
    """A whole-file test from the node ids that ran in it: the worst decides."""
    if len(parts) == 1:
        return parts[0]
    worst = max(parts, key=lambda v: STATUS_RANK[v.status])
    if worst.status == "skipped" and any(p.status != "skipped" for p in parts):
        worst = next(p for p in parts if p.status != "skipped")
    return merge_worst(parts, worst)


def _entry(instance: Instance, verdict: Verdict, fanned_out: bool) -> TestEntry:
    # One per executed test: built from already-typed values, so without validation.
    return TestEntry.model_construct(
        test=instance.test,
        lane=instance.lane,
        shard=instance.shard,
        status=verdict.status,
        outcome=verdict.outcome,
        attempts=verdict.attempts,
        seconds=verdict.seconds,
        message=verdict.message,
        failures=list(verdict.failures),
        file=verdict.file,
        line=verdict.line,
        classname=verdict.classname,
        name=verdict.name,
        evidence=list(verdict.evidence),
        kind=instance.kind,
        fanned_out=fanned_out,
        cases=verdict.cases,
    )


def _early_flaky(entry: TestEntry, early: Mapping[tuple[str, str], str]) -> TestEntry:
    """A passed new test that failed in an early-flake run is flaky (``core.early_flakes``)."""
    seen = early.get((entry.lane, entry.test))
    if seen is None or entry.status != "passed":
        return entry
    return entry.model_copy(update={"status": "flaky", "evidence": [*entry.evidence, seen]})


def _timing(
    plan: Plan,
    shards: Mapping[str, ShardResult],
    entries: Sequence[TestEntry],
    concurrency: int | None,
) -> TimingEntry:
    """Wall time against one serial job, which would pay job set-up and the time outside the
    tests once (not once per shard, as the shards' durations back to back would): an honest
    speed-up."""
    manifests = [result.manifest for result in shards.values()]
    own = {m.shard: _seconds(m.started, m.finished) for m in manifests}
    in_tests = dict.fromkeys(own, 0.0)
    for entry in entries:
        if entry.seconds is not None and entry.shard in in_tests:
            in_tests[entry.shard] += entry.seconds
    tests = sum(in_tests.values())
    # Without any test's own time (JUnit without durations) a shard is all start-up, so the
    # shards back to back are the only estimate of a serial job.
    startups = [max(0.0, own[shard] - in_tests[shard]) for shard in own]
    startup = max(startups, default=0.0) if tests > 0 else sum(startups)
    wall = None
    if manifests:
        start = min(_utc(m.started) for m in manifests)
        end = max(_utc(m.finished) for m in manifests)
        wall = max(0.0, (end - start).total_seconds())
    overhead = plan.shard_overhead
    serial = overhead + startup + tests if manifests else None
    speedup = None
    if serial is not None and wall is not None and overhead + wall > 0:
        speedup = serial / (overhead + wall)
    return TimingEntry(
        wall_seconds=wall,
        busy_seconds=sum(own.values()),
        overhead_seconds=overhead,
        test_seconds=tests,
        startup_seconds=startup,
        serial_estimate=serial,
        predicted_makespan=plan.makespan,
        predicted_serial=plan.serial_seconds,
        lower_bound=plan.lower_bound,
        speedup=speedup,
        estimated_tests=plan.timings.estimated,
        concurrency=concurrency,
    )


ShardStatus = Literal["passed", "failed", "stopped", "missing", "unknown", "not run"]


def _shard_status(
    held: bool, shard: PlannedShard | None, manifest: ShardManifest | None, failing: int
) -> ShardStatus:
    """``held``: held back on purpose; no ``shard``: not in the plan; no ``manifest``: lost."""
    if held:
        return "not run"
    if manifest is None:
        return "missing"
    if shard is None:
        return "unknown"
    if manifest.failure:
        return "stopped"
    return "failed" if failing or manifest.exit_code != 0 else "passed"


def _predicted(shard: PlannedShard | None, setup: float | None) -> float | None:
    """The plan's prediction, with the job's set-up only when it is measured too."""
    if shard is None:
        return None
    if shard.prediction is not None:
        return shard.prediction.total - (0.0 if setup is not None else shard.prediction.setup)
    return shard.predicted_seconds


def _shard_entries(
    plan: Plan,
    shards: Mapping[str, ShardResult],
    tests: Sequence[TestEntry],
    unmatched: Mapping[str, int],
    completeness: Completeness,
    *,
    not_run: frozenset[str] = frozenset(),
    setups: Mapping[str, float] | None = None,
) -> list[ShardEntry]:
    starts = [_utc(r.manifest.started) for r in shards.values()]
    origin = min(starts) if starts else None
    executed: dict[str, int] = {}
    failing: dict[str, int] = {}
    flaky: dict[str, int] = {}
    for test in tests:
        executed[test.shard] = executed.get(test.shard, 0) + 1
        if is_failing_status(test.status):
            failing[test.shard] = failing.get(test.shard, 0) + 1
        elif test.status == "flaky":
            flaky[test.shard] = flaky.get(test.shard, 0) + 1
    entries: list[ShardEntry] = []
    order = [s.id for s in plan.shards] + list(completeness.unknown_shards)
    planned = {s.id: s for s in plan.shards}
    for shard_id in order:
        shard = planned.get(shard_id)
        result = shards.get(shard_id)
        manifest = result.manifest if result is not None else None
        status = _shard_status(shard_id in not_run, shard, manifest, failing.get(shard_id, 0))
        setup = (setups or {}).get(shard_id)
        measured = _measured(manifest, setup)
        prediction = shard.prediction if shard is not None else None
        predicted = _predicted(shard, setup)
        wall = _seconds(manifest.started, manifest.finished) if manifest else None
        entries.append(
            ShardEntry(
                shard=shard_id,
                lane=shard.lane if shard is not None else (manifest.lane if manifest else "?"),
                name=shard.name if shard is not None else shard_id,
                status=status,
                planned=len(shard.tests) if shard is not None else 0,
                executed=executed.get(shard_id, 0),
                predicted_seconds=predicted,
                actual_seconds=None if wall is None else wall + (setup or 0.0),
                prediction=prediction,
                measured=None if measured is None else measured.parts,
                start_offset=(_utc(manifest.started) - origin).total_seconds()
                if manifest is not None and origin is not None
                else None,
                exit_code=manifest.exit_code if manifest is not None else None,
                failure=manifest.failure if manifest is not None else None,
                failing=failing.get(shard_id, 0),
                flaky=flaky.get(shard_id, 0),
                unmatched_cases=unmatched.get(shard_id, 0),
            )
        )
    return entries


def _normalised(seconds: float | None, speed: float) -> float | None:
    """A time of this run at the history's speed (``speed``: this run's factor)."""
    return None if seconds is None else seconds / speed


def _measured(manifest: ShardManifest | None, setup: float | None) -> Measured | None:
    """The shard's own measurement, with its job's set-up when the jobs endpoint gave it."""
    if manifest is None or manifest.measured is None:
        return None
    measured = manifest.measured
    if setup is None:
        return measured
    parts = measured.parts.model_copy(update={"setup": max(0.0, setup)})
    return measured.model_copy(update={"parts": parts})


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


def _mode_entry(
    plan: Plan,
    decision: ModeDecision,
    previous: History,
    settings: Settings,
    run: RunFacts,
    *,
    recorded: bool,
) -> ModeEntry:
    """This run's mode and the next one: the decision when it is recorded in the history, else
    the history's mode as it was, saying why it stays."""
    upcoming, changed = decision.next, decision.changed
    if not recorded:
        cause = (
            "a run from a fork does not change the history"
            if settings.fork
            else "the history could not be read, so it was not updated"
        )
        reason = f"unchanged ({cause}): {previous.mode.reason}"
        upcoming, changed = previous.mode.model_copy(update={"reason": reason}), False
    return ModeEntry(
        mode=plan.mode,
        reason=plan.mode_reason,
        next=upcoming,
        changed=changed,
        recorded=recorded,
        flaky_rate=decision.flaky_rate,
        rate_flaky=len(run.flaky),
        rate_tests=run.tests,
        outage=run.outage,
        outage_threshold=settings.outage_threshold,
        flaky_threshold=settings.flaky_threshold,
        recover_after=settings.recover_after,
        flaky_on_their_own=decision.flaky_on_their_own,
    )


def _covered(plan: Plan, entries: Sequence[TestEntry]) -> dict[int, QuarantineEntry]:
    """Position of each executed test the quarantine file lists -> its entry."""
    if not plan.quarantine.entries:
        return {}
    bases = {lane.name: lane.base for lane in plan.lanes}
    found = {}
    for n, e in enumerate(entries):
        entry = plan.quarantine.covers(e.test, e.lane, bases.get(e.lane))
        if entry is not None:
            found[n] = entry
    return found


def _quarantined(
    entries: Sequence[TestEntry], covered: Mapping[int, QuarantineEntry]
) -> tuple[list[TestEntry], list[QuarantinedEntry]]:
    """The entries with each quarantined test that failed or flaked as ``quarantined`` (its
    verdict kept, so it no longer fails the job), and the quarantine table."""
    judged = list(entries)
    rows = []
    for n, entry in sorted(covered.items()):
        test = entries[n]
        status = test.status
        if status != "quarantined" and status in FAILED_FIRST:
            test = test.model_copy(update={"verdict": status, "status": "quarantined"})
            judged[n] = test
        rows.append(
            QuarantinedEntry(
                test=test.test,
                lane=test.lane,
                shard=test.shard,
                status=test.verdict or ("passed" if status == "quarantined" else status),
                owner=entry.owner,
                reason=entry.reason,
                expires=entry.expires,
                flip_rate=test.flip_rate,
                flip_window=test.flip_window,
                fanned_out=test.fanned_out,
            )
        )
    return judged, rows


def _suggested(
    entries: Sequence[TestEntry],
    covered: Mapping[int, QuarantineEntry],
    records: Mapping[str, Mapping[str, TestRecord]],
) -> list[SuggestedEntry]:
    """Tests flaky on their own that no entry covers: flaky in a serial run (now, or failing
    now and flaky in an earlier serial run)."""
    rows = []
    for n, test in enumerate(entries):
        if n in covered:
            continue
        record = record_of(records, test.lane, test.test)
        own = test.flaky_on_its_own or (
            test.known_flaky and record is not None and record.last_serial_flake is not None
        )
        if not own:
            continue
        rows.append(
            SuggestedEntry(
                test=test.test,
                lane=test.lane,
                flip_rate=test.flip_rate,
                flip_window=test.flip_window,
                reason=f"flaky on its own: {flip_note(test.flip_rate, test.flip_window)}",
            )
        )
    return rows


def _demotion(
    plan: Plan,
    entries: Sequence[TestEntry],
    covered: Mapping[int, QuarantineEntry],
    previous: History,
    *,
    settings: Settings,
    index: int,
    outage: bool,
) -> Step:
    """This run applied to the history's demotion state (``core.demotion``); quarantined tests
    are owned already and left out."""
    serial = plan.mode == "serial"
    lanes = {lane.name: lane for lane in plan.lanes}
    seen = []
    for n, e in enumerate(entries):
        if n in covered or e.kind == "drift":
            continue
        home, demoted = home_lane(e.lane)
        record = previous.record(e.lane, e.test)
        lane = lanes.get(e.lane)
        seen.append(
            Seen(
                lane=home,
                test=e.test,
                status=e.status,
                demoted=demoted,
                alone=OUR_RERUN in e.evidence,
                own=(serial and e.status == "flaky")
                or (record is not None and record.last_serial_flake is not None),
                sequential=lane is not None and lane.sequential and not demoted,
                label=label(e.test, e.lane, e.fanned_out),
            )
        )
    return update_demotion(
        previous.demotion,
        seen,
        index=index,
        mode=plan.mode,
        outage=outage,
        promote_after=settings.promote_after,
        max_demoted=settings.max_demoted,
    )


def held_back(plan: Plan, shards: Mapping[str, ShardResult]) -> frozenset[str]:
    """Shards that did not run because the first tier did not pass: the workflow held them back
    on purpose, so they are "not run", not lost (a shard that ran anyway is counted as usual).

    The first tier passed when every first shard left results, did not stop and exited 0.
    """
    first = [shard for shard in plan.shards if shard.first]
    passed = all(
        (result := shards.get(shard.id)) is not None
        and not result.manifest.failure
        and result.manifest.exit_code == 0
        for shard in first
    )
    if not first or passed:
        return frozenset()
    return frozenset(s.id for s in plan.shards if not s.first and s.id not in shards)


def exit_code(
    *,
    complete: bool,
    problems: Sequence[Problem],
    failing: int,
    flaky: int,
    fail_on_flaky: bool,
) -> int:
    """See the module docstring for what each status means."""
    if not complete or any(p.kind == "results" for p in problems):
        return EXIT_INCOMPLETE
    if any(p.kind == "history" for p in problems):
        return EXIT_HISTORY
    if failing or (fail_on_flaky and flaky):
        return EXIT_FAILED
    return EXIT_OK


def lost_groups(lost: Sequence[LostTest], results: Mapping[str, ShardResult]) -> list[LostGroup]:
    """One group per (shard, reason), in the order the lost tests come (plan order)."""
    groups: dict[tuple[str, str], list[LostTest]] = {}
    for item in lost:
        groups.setdefault((item.shard, item.reason), []).append(item)
    out = []
    for (shard, reason), items in groups.items():
        result = results.get(shard)
        lanes = sorted({i.lane for i in items})
        out.append(
            LostGroup(
                shard=shard,
                lane=lanes[0] if len(lanes) == 1 else ", ".join(lanes),
                tests=len(items),
                reason=reason,
                cause=result.manifest.failure if result is not None else None,
            )
        )
    return out


@dataclass(frozen=True, slots=True)
class _Checked:
    """Stage 1, check: the shards' results against the plan, each executed test as its
    placement and its verdict."""

    plan: Plan
    by_shard: Mapping[str, ShardResult]
    """The first result of each shard (the caller names a second one as a problem)."""
    not_run: frozenset[str]
    ran: Plan
    """The plan without the shards held back (not run on purpose)."""
    completeness: Completeness
    entries: tuple[TestEntry, ...]
    unmatched: Mapping[str, int]


def _check(plan: Plan, shards: Sequence[ShardResult]) -> _Checked:
    by_shard: dict[str, ShardResult] = {}
    for result in shards:
        by_shard.setdefault(result.manifest.shard, result)
    not_run = held_back(plan, by_shard)
    ran = plan.model_copy(update={"shards": [s for s in plan.shards if s.id not in not_run]})
    completeness = check(ran, [Executed.of(r.manifest) for r in by_shard.values()])
    verdicts, unmatched = _verdicts(completeness, by_shard)
    fanned_out = completeness.fanned_out
    entries = tuple(
        _entry(i, verdicts[n], i.test in fanned_out) for n, i in enumerate(completeness.executed)
    )
    early = early_failures(r.manifest for r in by_shard.values())
    entries = tuple(_early_flaky(e, early) for e in entries) if early else entries
    return _Checked(plan, by_shard, not_run, ran, completeness, entries, unmatched)


@dataclass(frozen=True, slots=True)
class _Judged:
    """Stage 2, judge: the tests against the history (known flaky, quarantine, demotion), the
    outage, and the facts of this run the mode is decided on."""

    entries: tuple[TestEntry, ...]
    covered: Mapping[int, QuarantineEntry]
    flaky_names: list[str]
    outage: str | None
    moved: Step
    facts: RunFacts


def _with_known_flaky(entries: Sequence[TestEntry], previous: History) -> list[TestEntry]:
    """A test that failed every attempt but flipped in the history's window: ``failed``."""
    judged = []
    for entry in entries:
        before = previous.record(entry.lane, entry.test)
        if is_failing_status(entry.status) and before is not None and known_flaky(before.outcomes):
            judged.append(entry.model_copy(update={"known_flaky": True, "status": "failed"}))
        else:
            judged.append(entry)
    return judged


def _outage(checked: _Checked, entries: Sequence[TestEntry], settings: Settings) -> str | None:
    by_shard = checked.by_shard.values()
    stopped = [r.manifest.shard for r in by_shard if r.manifest.failure and r.manifest.shard]
    ran = [
        Ran(
            shard=e.shard,
            failed_first=e.status in FAILED_FIRST,
            error=e.outcome == "error",
            message=e.message,
        )
        for e in entries
        if e.status != "skipped"
    ]
    return detect_outage(
        ran,
        threshold=settings.outage_threshold,
        shards=sum(1 for s in checked.ran.shards if s.tests),
        dead_shards=[x.shard for x in checked.completeness.lost_shards] + stopped,
    )


def _judge(checked: _Checked, previous: History, settings: Settings) -> _Judged:
    plan = checked.plan
    entries = _with_known_flaky(checked.entries, previous)
    index = previous.next_index()
    covered = _covered(plan, entries)
    # A known-flaky test that failed every attempt flipped in this run too: it counts as flaky
    # in the rate that decides the mode, so a serial run that hit it is not a clean one. A
    # quarantined test does not count: its flakiness is known and owned.
    flaky_names = [
        label(e.test, e.lane, e.fanned_out)
        for n, e in enumerate(entries)
        if (e.status == "flaky" or e.known_flaky) and n not in covered
    ]
    outage = _outage(checked, entries, settings)
    moved = _demotion(
        plan, entries, covered, previous, settings=settings, index=index, outage=outage is not None
    )
    facts = RunFacts(
        index=index,
        mode=plan.mode,
        tests=sum(e.status != "skipped" for e in entries),
        flaky=[n for n in flaky_names if n not in set(moved.explained)],
        complete=checked.completeness.complete,
        outage=outage,
        demoted=moved.explained,
    )
    return _Judged(tuple(entries), covered, flaky_names, outage, moved, facts)


def _decide(previous: History, judged: _Judged, settings: Settings) -> ModeDecision:
    """Stage 3, decide: the next run's mode."""
    return next_mode(
        previous.mode,
        judged.facts,
        flaky_threshold=settings.flaky_threshold,
        recover_after=settings.recover_after,
    )


def _test_records(
    plan: Plan,
    judged: _Judged,
    previous: History,
    settings: Settings,
    carried: Mapping[tuple[str, str, str], float] | None = None,
) -> tuple[dict[str, dict[str, TestRecord]], float]:
    """The tests' history with this run in, and this machine's speed against the history's.

    A test's own time leaves out the module or class fixture pytest charged to it (``carried``,
    per (shard, lane, test)): the history keeps that per scope (``core.fixtures``)."""
    carried = carried or {}

    def own(e: TestEntry) -> float | None:
        if e.seconds is None:
            return None
        return max(0.0, e.seconds - carried.get((e.shard or "", e.lane, e.test), 0.0))

    speed = speed_factor(
        (seconds, before.duration)
        for e in judged.entries
        if (seconds := own(e)) is not None
        and e.status == "passed"
        and (before := previous.record(e.lane, e.test)) is not None
        and before.recent
    )
    observed = [
        Observed(
            e.lane,
            e.test,
            letter_of(e.status),
            None if (s := own(e)) is None else s / speed,
        )
        for e in judged.entries
        # an outage's failures say nothing about the tests: no flips, no durations
        if e.kind != "drift" and not (judged.outage is not None and is_failing_status(e.status))
    ]
    records = update_tests(
        previous,
        observed,
        index=previous.next_index(),
        serial=plan.mode == "serial",
        limits=settings.limits,
    )
    return records, speed


def _with_flips(
    entries: Sequence[TestEntry],
    records: Mapping[str, Mapping[str, TestRecord]],
    *,
    serial: bool,
) -> list[TestEntry]:
    """Each flaky or failing test with its flip rate over the history's window, this run in."""
    judged = []
    for entry in entries:
        record = record_of(records, entry.lane, entry.test)
        update: dict[str, Any] = {}
        if entry.status == "flaky":
            update = {
                "flip_rate": flip_rate(record.outcomes) if record is not None else 1.0,
                "flip_window": judged_runs(record.outcomes) if record is not None else 1,
                "flaky_on_its_own": record.last_serial_flake is not None
                if record is not None
                else serial,
            }
        elif is_failing_status(entry.status) and record is not None:
            update = {
                "flip_rate": flip_rate(record.outcomes),
                "flip_window": judged_runs(record.outcomes),
            }
        judged.append(entry.model_copy(update=update) if update else entry)
    return judged


def _counts(checked: _Checked, entries: Sequence[TestEntry]) -> Counts:
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


def _completeness_fields(checked: _Checked) -> dict[str, Any]:
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


def _suggested_toml(plan: Plan, suggested: Sequence[SuggestedEntry], today: date | None) -> str:
    if today is None:
        return ""
    items = [Suggestion(x.test, x.lane, x.reason) for x in suggested]
    return suggestion_block(items, today, lanes=len(plan.lanes) > 1)


@dataclass(frozen=True, slots=True)
class _Inputs:
    """What ``build`` was given besides the plan and the shards' results."""

    history: History | None
    previous: History
    coverage: CoverageTotals | None
    settings: Settings
    problems: Sequence[Problem]
    setups: Mapping[str, float] | None

    @property
    def writable(self) -> bool:
        return self.history is not None and not self.settings.fork


def _report(
    checked: _Checked,
    judged: _Judged,
    decision: ModeDecision,
    records: Mapping[str, Mapping[str, TestRecord]],
    given: _Inputs,
) -> tuple[Report, list[TestEntry]]:
    """The report of this run (without its trends), and every executed test as judged."""
    plan, settings = checked.plan, given.settings
    flipped = _with_flips(judged.entries, records, serial=plan.mode == "serial")
    suggested = _suggested(flipped, judged.covered, records)
    entries, quarantined = _quarantined(flipped, judged.covered)
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
        suggested_toml=_suggested_toml(plan, suggested, settings.today),
        shards=_shard_entries(
            plan,
            checked.by_shard,
            entries,
            checked.unmatched,
            checked.completeness,
            not_run=checked.not_run,
            setups=given.setups,
        ),
        timing=_timing(plan, checked.by_shard, entries, settings.concurrency),
        coverage=cover.model_copy(update={"cores": sorted(c for c in cores if c)}),
        mode=_mode_entry(
            plan, decision, given.previous, settings, judged.facts, recorded=given.writable
        ),
        demotion=rows(
            judged.moved, promote_after=settings.promote_after, max_demoted=settings.max_demoted
        ),
        problems=list(given.problems),
    )
    return report, entries


def _run_record(
    plan: Plan,
    report: Report,
    entries: Sequence[TestEntry],
    judged: _Judged,
    decision: ModeDecision,
    *,
    sha: str | None,
    speed: float,
) -> RunRecord:
    sequential = {s.id: plan.sequential(s) for s in plan.shards}
    ran = [
        (s.shard, s.start_offset or 0.0, s.actual_seconds, sequential.get(s.shard, False), s.lane)
        for s in report.shards
        if s.actual_seconds is not None
    ]
    timed = [e for e in entries if e.kind != "drift"]
    return RunRecord(
        index=judged.facts.index,
        mode=plan.mode,
        tests=judged.facts.tests,
        flaky=len(judged.flaky_names),
        flaky_rate=decision.flaky_rate,
        failed=report.counts.failing,
        lost=report.counts.lost,
        coverage=None if report.coverage.partial else report.coverage.percent,
        seconds=report.timing.wall_seconds,
        flaky_tests=judged.flaky_names,
        sha=sha,
        outage=judged.outage,
        test_seconds=sum(e.seconds or 0.0 for e in timed),
        shards=len(plan.shards),
        tier=plan.tier,
        slowest=slowest([(e.lane, e.test, e.seconds) for e in timed], MAX_SLOWEST),
        bottleneck=bottleneck(ran, [(e.shard, e.test, e.seconds) for e in timed]),
        speed=round(speed, 3),
    )


def _remember(
    checked: _Checked,
    judged: _Judged,
    decision: ModeDecision,
    records: dict[str, dict[str, TestRecord]],
    run: RunRecord,
    *,
    given: _Inputs,
    speed: float,
) -> History:
    """Stage 4, remember: the history with this run in (computed for a fork too, so its
    report shows trends; only a writable one is kept)."""
    previous = given.previous
    # A shard that stopped early or ran in an outage measured its failure, not its costs.
    measurements = [
        (r.manifest.lane, m)
        for r in checked.by_shard.values()
        if not r.manifest.failure
        and (m := _measured(r.manifest, (given.setups or {}).get(r.manifest.shard))) is not None
    ]
    costs = (
        previous.costs
        if judged.outage is not None
        else learned(previous.costs, measurements, speed=speed)
    )
    return with_run(
        previous,
        run,
        records,
        mode=decision.next,
        limits=given.settings.limits,
        costs=costs,
        demotion=judged.moved.demotion,
    )


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
    given = _Inputs(history, previous, coverage, settings or Settings(), problems, setups)
    checked = _check(plan, shards)
    judged = _judge(checked, previous, given.settings)
    decision = _decide(previous, judged, given.settings)
    carried = {
        (r.manifest.shard, lane, test): seconds
        for r in checked.by_shard.values()
        if r.manifest.measured is not None
        for lane, tests in r.manifest.measured.carried.items()
        for test, seconds in tests.items()
    }
    records, speed = _test_records(plan, judged, previous, given.settings, carried)
    report, entries = _report(checked, judged, decision, records, given)
    run = _run_record(plan, report, entries, judged, decision, sha=given.settings.sha, speed=speed)
    after = _remember(checked, judged, decision, records, run, given=given, speed=speed)
    report = report.model_copy(update={"trends": trends_of(after)})
    return Fanin(report=report, tests=tuple(entries), history=after if given.writable else None)
