"""``plan.json``: what the plan step hands to every shard job and to the fan-in.

Versioned: a reader refuses a ``version`` it does not know instead of guessing. Test lists live
here and not in the job matrix, because job outputs are capped at 1 MB and the matrix at 256 jobs.
"""

from __future__ import annotations

import hashlib
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from shard_action.core.config import FLAKY_THRESHOLD, OUTAGE_THRESHOLD, RECOVER_AFTER

PLAN_VERSION: Final = 1
EMPTY_SHARD_ID = "none"
ID_PATTERN: Final = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,199}$"
"""Shard ids and lane names: a plain file name (they name result folders and files), no path
separator, never ``.`` or ``..``. Longer than the config's lane names: ids add suffixes."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LaneRun(_Model):
    """A run of consecutive tests in a shard that share one lane's rules.

    In parallel mode a shard has exactly one; in serial mode the single shard runs lane after
    lane. Isolated lanes get a process of their own; ``count`` slices ``PlannedShard.tests``.
    """

    lane: str = Field(pattern=ID_PATTERN)
    env: dict[str, str]
    sequential: bool
    isolated: bool
    count: int = Field(ge=0)
    timeout: float | None = Field(None, description="Seconds before the process is killed.")
    memory_mb: int | None = Field(None, description="Address-space cap of the process (MiB).")
    workers: int | Literal["auto"] | None = Field(
        None,
        description="pytest-xdist workers (`-n`) for this run, `auto`: the CPU count of the "
        "machine that runs it; none: one process. Tests are listed longest first then.",
    )


class PlannedShard(_Model):
    id: str = Field(pattern=ID_PATTERN)
    lane: str = Field(
        pattern=ID_PATTERN.replace("^", r"^\*$|^", 1),
        description="The lane this shard belongs to (`*` in serial mode: every lane, in turn).",
    )
    name: str = Field(description="Display name for the matrix job.")
    env: dict[str, str]
    sequential: bool
    tests: list[str]
    runs: list[LaneRun]
    predicted_seconds: float = Field(description="Predicted test time, without the overhead.")
    estimated_tests: int = Field(description="How many of the tests had no timing of their own.")
    first: bool = Field(
        False,
        description="A shard of the first tier (`first-tier`): it runs before the others, which "
        "run only when every first shard passed.",
    )


class LanePlan(_Model):
    name: str = Field(pattern=ID_PATTERN)
    base: str = Field(
        pattern=ID_PATTERN, description="The configured lane (differs from `name` under fan-out)."
    )
    mode: Literal["parallel", "sequential"]
    env: dict[str, str]
    isolated: bool
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


class EstimateInfo(_Model):
    """How the durations without a timing of their own were found, and how far to trust them."""

    methods: dict[str, int] = Field(
        default_factory=dict,
        description="Planned tests per way their duration was found: `measured`, `same-file` / "
        "`same-lane` (median of measured tests there), `source-size` (no timing near it: from "
        "the file's bytes per test), `default-duration` (as configured).",
    )
    seconds: float = Field(0.0, description="Sum of the estimated (not measured) durations.")
    reliability: str = Field("", description="For a person: how good the estimate is.")


class TimingsInfo(_Model):
    sources: list[str] = Field(default_factory=list)
    measured: int = Field(0, description="Planned tests with a timing of their own.")
    estimated: int = Field(0, description="Planned tests whose duration was estimated.")
    stale: int = Field(0, description="Timed tests that no longer exist (ignored).")
    unresolved: int = Field(0, description="Report entries that matched no test id.")
    skipped_reports: list[str] = Field(default_factory=list)
    estimate: EstimateInfo = Field(default_factory=EstimateInfo)


class Totals(_Model):
    tests: int
    seconds: float
    shards: int


class RunnerSettings(_Model):
    """What ``shard-action run`` needs from the config, carried in the plan.

    Test jobs read only ``plan.json``: copying these here means a shard runs exactly as planned
    even if the config changed between the plan job and the test job.
    """

    reruns: int = 2
    fail_on_flaky: bool = False
    coverage: bool = True
    coverage_core: Literal["auto", "sysmon", "ctrace", "pytrace"] = "auto"
    pytest_args: list[str] = Field(default_factory=list)
    command: str | None = None
    python: str | None = None


class FanInSettings(_Model):
    """What ``shard-action report`` decides the next mode with, as the plan job's config said.

    The fan-in job may not see the same config (another ``--config``, other variables), so the
    plan carries it; the report's own flags and variables still override it.
    """

    # The config's own defaults, for plans written without this section (tests build them).
    flaky_threshold: float = Field(FLAKY_THRESHOLD, ge=0, le=1, allow_inf_nan=False)
    recover_after: int = Field(RECOVER_AFTER, ge=1)
    outage_threshold: float = Field(OUTAGE_THRESHOLD, ge=0, le=1, allow_inf_nan=False)


class Plan(_Model):
    version: Literal[1] = PLAN_VERSION
    mode: Literal["parallel", "serial"]
    mode_reason: str
    granularity: Literal["test", "file"]
    shard_overhead: float
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

    def shard(self, shard_id: str) -> PlannedShard:
        for shard in self.shards:
            if shard.id == shard_id:
                return shard
        known = ", ".join(s.id for s in self.shards) or "none"
        raise KeyError(f"no shard {shard_id!r} in the plan (shards: {known})")


def plan_digest(plan: Plan) -> str:
    """A short fingerprint of a plan's content, which shard results carry.

    Two attempts of one workflow run (or two suites in it) can leave results under the same
    shard id; only results made from the plan the fan-in reads belong to its run. The plan is
    deterministic, so the same inputs give the same digest.
    """
    return hashlib.sha256(plan.model_dump_json().encode("utf-8")).hexdigest()[:16]
