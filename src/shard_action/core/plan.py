"""``plan.json``: what the plan step hands to every shard job and to the fan-in.

Versioned: a reader refuses a ``version`` it does not know instead of guessing. Test lists live
here and not in the job matrix, because job outputs are capped at 1 MB and the matrix at 256 jobs.
"""

from __future__ import annotations

import hashlib
from typing import ClassVar, Final, Literal

from pydantic import ConfigDict, Field

from shard_action.core.config import (
    FLAKY_THRESHOLD,
    MAX_DEMOTED,
    OUTAGE_THRESHOLD,
    PROMOTE_AFTER,
    RECOVER_AFTER,
)
from shard_action.core.demotion import DemotedTest
from shard_action.core.documents import Document, Frozen
from shard_action.core.prediction import Parts
from shard_action.core.quarantine import Quarantine

PLAN_VERSION: Final = 2
PLAN_KIND: Final = "shard-action-plan"
EMPTY_SHARD_ID = "none"
ID_PATTERN: Final = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,199}$"
"""Shard ids and lane names: a plain file name (they name result folders and files), no path
separator, never ``.`` or ``..``. Longer than the config's lane names: ids add suffixes."""


class Slice(Frozen):
    """A lane's part of a shard: one runner process (and its re-runs), tests in plan order.

    In parallel mode a shard has exactly one; the serial shard has one per lane, in turn. Its
    rules (env, timeout, workers…) are the plan's ``lanes`` entry of the same name.
    """

    lane: str = Field(pattern=ID_PATTERN, description="The lane instance (a `lanes[*].name`).")
    tests: list[str]


class PlannedShard(Frozen):
    id: str = Field(pattern=ID_PATTERN)
    lane: str = Field(
        pattern=ID_PATTERN.replace("^", r"^\*$|^", 1),
        description="The lane this shard belongs to (`*` in serial mode: every lane, in turn).",
    )
    name: str = Field(description="Display name for the matrix job.")
    slices: list[Slice]
    predicted_seconds: float = Field(
        description="Predicted wall of the shard's job: the sum of `prediction`."
    )
    prediction: Parts | None = Field(
        None,
        description="The prediction in parts: job set-up (learned, else `shard-overhead`), "
        "start-up (interpreter and plugins, plus each file's collection), tests, finish.",
    )
    estimated_tests: int = Field(description="How many of the tests had no timing of their own.")
    first: bool = Field(
        False,
        description="A shard of the first tier (`first-tier`): it runs before the others, which "
        "run only when every first shard passed.",
    )
    early: list[Slice] = Field(
        default_factory=list,
        description="New tests (not in the history) and tests in changed files "
        "(`--changed-files`) this shard runs `runner.early_flake_runs` more times after its "
        "own, each round in a fresh process, in its spare time (`early-flake-runs`); their "
        "first run is in `slices`, wherever it was planned.",
    )

    @property
    def tests(self) -> list[str]:
        """Every test of the shard, slice after slice (an id twice under serial fan-out)."""
        return [test for piece in self.slices for test in piece.tests]


class LanePlan(Frozen):
    """One lane instance: its rules (the only place a shard's slices find them) and figures."""

    name: str = Field(pattern=ID_PATTERN)
    base: str = Field(
        pattern=ID_PATTERN, description="The configured lane (differs from `name` under fan-out)."
    )
    mode: Literal["parallel", "sequential"]
    env: dict[str, str]
    isolated: bool
    timeout: float | None = Field(None, description="Seconds before a process is killed.")
    memory_mb: int | None = Field(None, description="Address-space cap of a process (MiB).")
    workers: int | Literal["auto"] | None = Field(
        None,
        description="pytest-xdist workers (`-n`) per shard, `auto`: the CPU count of the "
        "machine that runs it; none: one process. Tests are listed longest first then.",
    )
    tests: int
    seconds: float
    longest: float
    shards: int
    lower_bound: float = Field(description="Best possible lane makespan, overhead included.")
    makespan: float = Field(description="Predicted lane makespan, overhead included.")
    critical: bool = Field(description="This lane decides the wall time of the whole stage.")
    capped_by: str | None = Field(
        None, description="Why the lane could not get more shards, when that limits the plan."
    )
    first: bool = Field(False, description="The lane's tests of the first tier (`first-tier`).")

    @property
    def sequential(self) -> bool:
        return self.mode == "sequential"

    def rules(self) -> tuple[object, ...]:
        """What a slice of this lane runs with (the rest are figures)."""
        return (self.mode, self.env, self.isolated, self.timeout, self.memory_mb, self.workers)


class ProbeInfo(Frozen):
    """A first run's probe (``core.probe``): a few tests timed in the plan step."""

    tests: int = Field(ge=0, description="Tests it timed.")
    cut: int = Field(0, ge=0, description="Of them, stopped by the budget (timed as far as run).")
    measured: float = Field(ge=0, description="Seconds they took.")
    factor: float = Field(
        gt=0,
        description="Measured over the source-size estimate of the same tests: what every "
        "source-size estimate was multiplied by.",
    )
    unused: str | None = Field(
        None, description="Why its factor was not used (too few tests finished), if so: factor 1."
    )
    failed: list[str] = Field(
        default_factory=list,
        description="Lanes whose probe process failed: not measured, scaled by the others' tests.",
    )


class EstimateInfo(Frozen):
    """How the durations without a timing of their own were found, and how far to trust them."""

    methods: dict[str, int] = Field(
        default_factory=dict,
        description="Planned tests per way their duration was found: `measured`, `same-file` / "
        "`same-lane` (median of measured tests there), `source-size` (no timing near it: from "
        "the file's bytes per test), `default-duration` (as configured).",
    )
    seconds: float = Field(0.0, description="Sum of the estimated (not measured) durations.")
    reliability: str = Field("", description="For a person: how good the estimate is.")
    first_run: bool = Field(
        False,
        description="Some lane's start-up and finish were estimated from the plan's own "
        "collection (no run had measured them).",
    )
    probe: ProbeInfo | None = Field(
        None, description="The first-run probe that scaled the `source-size` estimates."
    )


class TimingsInfo(Frozen):
    sources: list[str] = Field(default_factory=list)
    measured: int = Field(0, description="Planned tests with a timing of their own.")
    estimated: int = Field(0, description="Planned tests whose duration was estimated.")
    stale: int = Field(0, description="Timed tests that no longer exist (ignored).")
    unresolved: int = Field(0, description="Report entries that matched no test id.")
    skipped_reports: list[str] = Field(default_factory=list)
    estimate: EstimateInfo = Field(default_factory=EstimateInfo)


class Totals(Frozen):
    tests: int
    seconds: float
    shards: int


class RunnerSettings(Frozen):
    """What ``shard-action run`` needs from the config, carried in the plan.

    Test jobs read only ``plan.json``: copying these here means a shard runs exactly as planned
    even if the config changed between the plan job and the test job.
    """

    reruns: int = 2
    early_flake_runs: int = Field(0, ge=0, description="Extra runs of each test in `early`.")
    fail_on_flaky: bool = False
    coverage: bool = True
    coverage_core: Literal["auto", "sysmon", "ctrace", "pytrace"] = "auto"
    pytest_args: list[str] = Field(default_factory=list)
    command: str | None = None
    python: str | None = None


class FanInSettings(Frozen):
    """What ``shard-action report`` decides the next mode with, as the plan job's config said.

    The fan-in job may not see the same config (another ``--config``, other variables), so the
    plan carries it; the report's own flags and variables still override it.
    """

    # The config's own defaults, for plans written without this section (tests build them).
    flaky_threshold: float = Field(FLAKY_THRESHOLD, ge=0, le=1, allow_inf_nan=False)
    recover_after: int = Field(RECOVER_AFTER, ge=1)
    outage_threshold: float = Field(OUTAGE_THRESHOLD, ge=0, le=1, allow_inf_nan=False)
    promote_after: int = Field(PROMOTE_AFTER, ge=1)
    max_demoted: int = Field(MAX_DEMOTED, ge=0)


class CountOption(Frozen):
    """One shard count as planned for ``shards = "auto"`` (each count with ``target-time``)."""

    shards: int = Field(
        description="The test stage's shards, a first tier's included (the chosen row's is the "
        "plan's)."
    )
    wall: float = Field(description="Predicted wall time of the test stage (seconds).")
    billed_minutes: int = Field(description="Each job's predicted wall, rounded up to a minute.")
    speedup: float = Field(description="One job's predicted wall over `wall`.")
    chosen: bool = False


class Plan(Document):
    model_config = ConfigDict(frozen=True)
    kind: Literal["shard-action-plan"] = PLAN_KIND
    version: Literal[2] = PLAN_VERSION
    title: ClassVar[str] = "plan"
    remedy: ClassVar[str] = (
        "re-run `shard-action plan` with the release that runs the shards and the report"
    )
    mode: Literal["parallel", "serial"]
    mode_reason: str
    granularity: Literal["test", "file"]
    shard_overhead: float = Field(
        description="The configured `shard-overhead`: each job's set-up until one is learned."
    )
    shards: list[PlannedShard]
    lanes: list[LanePlan]
    lower_bound: float = Field(description="max over lanes of the lane bound, overhead included.")
    makespan: float = Field(
        description="Predicted wall time of the test stage (with `first-tier`: the first "
        "shards' makespan plus the others')."
    )
    serial_seconds: float = Field(description="Predicted wall time of one serial job.")
    totals: Totals
    timings: TimingsInfo
    warnings: list[str] = Field(default_factory=list)
    tier: str = Field("full", description="The tier planned (`full`: every test).")
    first_tier: str | None = Field(
        None, description="The tier whose shards (`first`) run before the others."
    )
    runner: RunnerSettings = Field(default_factory=RunnerSettings)
    fan_in: FanInSettings = Field(default_factory=FanInSettings)
    quarantine: Quarantine = Field(
        default_factory=Quarantine,
        description="The quarantine file's entries as the plan job read them: the shards and "
        "the fan-in judge by these.",
    )
    demoted: list[DemotedTest] = Field(
        default_factory=list,
        description="Tests planned in their lane's demoted lane (`{lane}.demoted`, sequential): "
        "parallel-sensitive, from the history (`core.demotion`).",
    )
    counts: list[CountOption] = Field(
        default_factory=list,
        description='`shards = "auto"` with `target-time`: each count considered, and the one '
        "chosen; without `target-time`, the chosen count alone (the others are not planned: "
        "`plan --explain` plans them).",
    )
    counts_by: Literal["target-time", "auto"] | None = Field(
        None,
        description="What filled `counts`: `target-time`, each count considered (the cheapest "
        "that meets it chosen); `auto` without it, the chosen count's row alone.",
    )

    def shard(self, shard_id: str) -> PlannedShard:
        for shard in self.shards:
            if shard.id == shard_id:
                return shard
        known = ", ".join(s.id for s in self.shards) or "none"
        raise KeyError(f"no shard {shard_id!r} in the plan (shards: {known})")

    def lane(self, name: str) -> LanePlan:
        """The lane a slice names, with its rules. A staged plan lists a lane twice (first
        tier, rest), with the same rules: ``selection.check_plan`` refuses a plan where not."""
        for lane in self.lanes:
            if lane.name == name:
                return lane
        raise KeyError(f"no lane {name!r} in the plan")

    def sequential(self, shard: PlannedShard) -> bool:
        """The shard runs its tests in order: the serial shard, or a sequential lane's."""
        if self.mode == "serial":
            return True
        return all(self.lane(s.lane).sequential for s in shard.slices)


def plan_digest(plan: Plan) -> str:
    """A short fingerprint of a plan's content, which shard results carry.

    Two attempts of one workflow run (or two suites in it) can leave results under the same
    shard id; only results made from the plan the fan-in reads belong to its run. The plan is
    deterministic, so the same inputs give the same digest.
    """
    return hashlib.sha256(plan.model_dump_json().encode("utf-8")).hexdigest()[:16]
