"""``report.json``: the fan-in's verdict on a whole run, the templates' only data.

Each entry is one frozen fact, embedded where it is used (completeness records as they are, a test
entry as its placement and its verdict). The exit status is part of the document:

* ``3``: the run is incomplete: tests or shards lost, tests run twice, unplanned tests, results
  of a shard the plan does not have, or a shard's result file (manifest or JUnit) unreadable;
* ``2``: the history file could not be read, so it was not updated (everything else was written);
* ``1``: tests failed (failed, or broken on every re-run), or were flaky with ``fail-on-flaky``;
* ``0``: every planned test ran once and passed (flaky tests included, unless told otherwise).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from datetime import date
from typing import Any, ClassVar, Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from shard_action.core.completeness import (
    DriftNote,
    FannedOut,
    Instance,
    LostShard,
    LostTest,
    RunTwice,
    Unplanned,
)
from shard_action.core.config import OUTAGE_THRESHOLD
from shard_action.core.demotion import DemotionRow
from shard_action.core.documents import Document
from shard_action.core.flakiness import Verdict
from shard_action.core.mode import ModeState
from shard_action.core.outcomes import EntryStatus, Outcome, Status
from shard_action.core.prediction import Parts
from shard_action.core.quarantine import QuarantineEntry
from shard_action.core.trends import Trends

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


class _Named(_Model):
    """Which test: its id and the lane instance it belongs to."""

    test: str
    lane: str


class _Placed(_Named):
    """Where a test ran: its shard, and whether its id runs in more than one lane instance."""

    shard: str
    fanned_out: FannedOut = False


class _Flips(_Model):
    """A test's flip rate (``core.history.flip_rate``), for a flaky or failing one."""

    flip_rate: float | None = Field(None, description="Over the history's window, this run in.")
    flip_window: int | None = Field(None, description="Runs the flip rate is over.")


def _fields_of(entry: BaseModel, *parts: type[BaseModel]) -> dict[str, Any]:
    """``entry``'s values of the fields the ``parts`` define: one model's facts, shown in
    another without restating them field by field."""
    return {name: getattr(entry, name) for part in parts for name in part.model_fields}


class TestEntry(_Flips, _Placed):
    """One executed test: where it ran (test, lane, shard) and its verdict; built whole by the
    fan-in's stages (``model_copy``), never changed afterwards."""

    __test__ = False
    model_config = ConfigDict(extra="forbid", frozen=True)

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
    cases: int = Field(0, description="JUnit test cases behind it (a whole file: several).")
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

    @classmethod
    def of(cls, instance: Instance, verdict: Verdict, fanned_out: bool) -> TestEntry:
        """The entry of an executed test: its placement and its verdict, as they are."""
        judged = {f.name: getattr(verdict, f.name) for f in fields(verdict)}
        judged.update(failures=list(verdict.failures), evidence=list(verdict.evidence))
        # One per executed test: built from already-typed values, so without validation.
        return cls.model_construct(
            test=instance.test,
            lane=instance.lane,
            shard=instance.shard,
            kind=instance.kind,
            fanned_out=fanned_out,
            **judged,
        )


class QuarantinedEntry(_Flips, _Placed):
    """A test of the quarantine file that ran in this run, with what became of it."""

    status: Status = Field(description="What happened to it (`passed`: maybe it is fixed).")
    owner: str
    reason: str
    expires: date

    @classmethod
    def of(cls, test: TestEntry, rule: QuarantineEntry, status: Status) -> QuarantinedEntry:
        return cls(
            **_fields_of(test, _Placed, _Flips),
            status=status,
            owner=rule.owner,
            reason=rule.reason,
            expires=rule.expires,
        )


class SuggestedEntry(_Flips, _Named):
    """A test worth quarantining: flaky on its own (serial cannot fix it) and not quarantined."""

    reason: str

    @classmethod
    def of(cls, test: TestEntry, reason: str) -> SuggestedEntry:
        return cls(**_fields_of(test, _Named, _Flips), reason=reason)


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


ShardStatus = Literal["passed", "failed", "stopped", "missing", "unknown", "not run"]


class ShardEntry(_Model):
    shard: str
    lane: str
    name: str
    status: ShardStatus = Field(
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


class ModeThresholds(_Model):
    """The settings the mode was decided by (``core.fan_in_given.Settings`` holds them)."""

    outage_threshold: float = OUTAGE_THRESHOLD
    flaky_threshold: float
    recover_after: int

    @classmethod
    def taken_from(cls, settings: object) -> dict[str, Any]:
        """The thresholds of ``settings`` (any object with these names), as keyword values."""
        return {name: getattr(settings, name) for name in cls.model_fields}


class ModeEntry(ModeThresholds):
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
