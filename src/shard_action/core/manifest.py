"""The result manifest: what one shard job says about its own run.

The fan-in trusts the plan for what *should* have run and this manifest (with the shard's JUnit
files) for what *did*. A shard that died leaves no manifest, and that absence is itself the
evidence the report needs to name the lost shard and its tests.

A planned test is a **(lane instance, test id)** pair, not a bare id: under fan-out
(``backends``) the same id is planned once per backend, and in serial mode one shard runs both
instances one after the other. So everything a shard learns about its tests lives in one
:class:`SliceResult` per slice of the shard (``PlannedShard.slices``, in the same order), never
in shard-wide maps keyed by id, where the second backend's result would overwrite the first.

Version 3 names them ``slices`` (version 2 said ``runs``, a word kept for CI runs); a reader
refuses any other version with a sentence naming the file (``core.documents.check_document``).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import ClassVar, Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from shard_action.core.documents import Document
from shard_action.core.outcomes import Outcome
from shard_action.core.prediction import Measured

MANIFEST_VERSION: Final = 3
MANIFEST_KIND: Final = "shard-action-result"
MANIFEST_FILE = "manifest.json"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Attempt(_Model):
    """One execution of one test id: the first run is attempt 1, re-runs count up from 2."""

    attempt: int = Field(ge=1)
    outcome: Outcome
    seconds: float | None = None


class Rerun(_Model):
    """A test that failed at first and was run again in a fresh process (of the same slice)."""

    test: str
    attempts: list[Attempt]
    verdict: Literal["flaky", "broken"] = Field(
        description="`flaky`: passed on a re-run; `broken`: failed every time."
    )


class Drift(_Model):
    """A test id that differed between the plan and this slice's collection.

    Ids with a clock time or a random parameter change on every collection. ``planned`` ids that
    were not collected are recorded here instead of being silently dropped; ``collected`` ids that
    were not planned run once per lane instance, in the slice that owns their file (see
    ``core.selection.file_owners``), so they are neither lost nor run twice.
    """

    file: str
    planned: list[str] = Field(default_factory=list, description="Planned, not collected.")
    collected: list[str] = Field(
        default_factory=list, description="Collected, not planned; run here."
    )


class SliceResult(_Model):
    """What one slice of the shard did (one runner process, plus its re-run processes).

    ``tests`` and ``outcomes`` are about this lane instance only: the same id in another slice
    of the shard is another planned test.
    """

    lane: str = Field(description="The lane instance (`Slice.lane` in the plan).")
    planned: int = Field(ge=0, description="How many tests the plan gave this slice.")
    tests: list[str] = Field(
        default_factory=list, description="Test ids executed (first attempts), in order."
    )
    outcomes: dict[str, Outcome] = Field(
        default_factory=dict, description="Final outcome per test id, after re-runs."
    )
    reruns: list[Rerun] = Field(default_factory=list)
    drift: list[Drift] = Field(default_factory=list)
    exit_codes: list[int] = Field(
        default_factory=list,
        description="Exit code of every runner process of this slice (first, then re-runs).",
    )
    junit: list[str] = Field(
        default_factory=list,
        description="JUnit files this slice wrote (first, then re-runs), relative to the results "
        "folder.",
    )
    coverage_core: str | None = Field(
        None,
        description="The coverage.py core that measured the first process (`sysmon`, `ctrace`, "
        "`pytrace`); none without coverage.",
    )


class EarlyResult(_Model):
    """New tests of one lane run again after the shard's own (`early-flake-runs`), each round in
    a fresh process. Never part of the shard's verdict: a failure here makes a passed test
    flaky in the fan-in, nothing more."""

    lane: str = Field(description="The lane instance the rounds ran with.")
    tests: list[str]
    outcomes: dict[str, list[Outcome]] = Field(
        default_factory=dict,
        description="Per test, its outcome in each round that reported it, in order.",
    )
    exit_codes: list[int] = Field(default_factory=list, description="One per round.")
    junit: list[str] = Field(
        default_factory=list,
        description="JUnit files of the rounds (`early-<n>.xml`), relative to the results folder; "
        "not among the slices' files, so the fan-in never mistakes them for attempts.",
    )


class ShardManifest(Document):
    model_config = ConfigDict(frozen=True)
    kind: Literal["shard-action-result"] = MANIFEST_KIND
    version: Literal[3] = MANIFEST_VERSION
    title: ClassVar[str] = "shard result manifest"
    remedy: ClassVar[str] = "run the shards and the report with the same release"
    shard: str
    lane: str = Field(description="The shard's lane (`*` for the serial shard: every lane).")
    mode: Literal["parallel", "serial"]
    started: datetime
    finished: datetime
    exit_code: int = Field(description="The exit code `shard-action run` returned.")
    slices: list[SliceResult] = Field(
        default_factory=list,
        description="One per slice of the shard, in plan order (slices after a fatal failure "
        "are listed with nothing executed).",
    )
    early: list[EarlyResult] = Field(
        default_factory=list,
        description="The plan's `early` tests, run again in the shard's spare time.",
    )
    coverage: list[str] = Field(
        default_factory=list, description="Coverage data files, relative to the results folder."
    )
    workdir: str = Field(
        description="Folder the tests ran in; coverage paths are remapped from it."
    )
    failure: str | None = Field(
        None, description="Why the shard stopped early (timeout, memory cap, runner crash)."
    )
    plan_digest: str | None = Field(
        None,
        description="`plan_digest` of the plan the shard ran: the fan-in ignores results of "
        "another plan (an earlier attempt's, another suite's).",
    )
    attempt: int | None = Field(
        None,
        ge=1,
        description="The workflow run attempt (GITHUB_RUN_ATTEMPT) that ran the shard: after "
        "'Re-run failed jobs' the fan-in keeps each shard's newest attempt.",
    )
    measured: Measured | None = Field(
        None,
        description="The shard's wall in parts (start-up, tests, finish) and its fixed costs, "
        "from its own clock; none when no pytest process ran a test.",
    )

    @property
    def wall(self) -> float:
        """Seconds from the shard's start to its end: the report's Actual and the "passed in"
        of ``local``, one figure (a clock read around the process also counted its import)."""
        start, end = (
            t if t.tzinfo else t.replace(tzinfo=timezone.utc) for t in (self.started, self.finished)
        )
        return max(0.0, (end - start).total_seconds())

    @property
    def planned(self) -> int:
        return sum(piece.planned for piece in self.slices)

    @property
    def executed(self) -> int:
        """First attempts over all slices: under fan-out in serial mode an id counts per slice."""
        return sum(len(piece.tests) for piece in self.slices)

    @property
    def junit(self) -> list[str]:
        """Every JUnit file of the shard, slice after slice."""
        return [name for piece in self.slices for name in piece.junit]
