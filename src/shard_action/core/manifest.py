"""The result manifest: what one shard job says about its own run.

The fan-in trusts the plan for what *should* have run and this manifest (with the shard's JUnit
files) for what *did*. A shard that died leaves no manifest, and that absence is itself the
evidence the report needs to name the lost shard and its tests.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from shard_action.core.models import Outcome

MANIFEST_VERSION: Final = 1
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
    """A test that failed at first and was run again in a fresh process."""

    test: str
    attempts: list[Attempt]
    verdict: Literal["flaky", "broken"] = Field(
        description="`flaky`: passed on a re-run; `broken`: failed every time."
    )


class Drift(_Model):
    """A test id that differed between the plan and this shard's collection.

    Ids with a clock time or a random parameter change on every collection. ``planned`` ids that
    were not collected are recorded here instead of being silently dropped; ``collected`` ids that
    were not planned run once, in the shard that owns their file (the first shard in the plan that
    holds a test of that file), so they are neither lost nor run twice.
    """

    file: str
    planned: list[str] = Field(default_factory=list, description="Planned, not collected.")
    collected: list[str] = Field(
        default_factory=list, description="Collected, not planned; run here."
    )


class ShardManifest(_Model):
    kind: Literal["shard-action-result"] = MANIFEST_KIND
    version: Literal[1] = MANIFEST_VERSION
    shard: str
    lane: str
    mode: Literal["parallel", "serial"]
    started: datetime
    finished: datetime
    exit_code: int = Field(description="The exit code `shard-action run` returned.")
    runner_exit_codes: list[int] = Field(
        default_factory=list, description="Exit code of every runner process, in order."
    )
    planned: int = Field(description="How many tests the plan gave this shard.")
    tests: list[str] = Field(
        default_factory=list, description="Test ids executed (first attempts), in order."
    )
    outcomes: dict[str, Outcome] = Field(
        default_factory=dict, description="Final outcome per test id, after re-runs."
    )
    reruns: list[Rerun] = Field(default_factory=list)
    drift: list[Drift] = Field(default_factory=list)
    junit: list[str] = Field(
        default_factory=list, description="JUnit files, relative to the results folder."
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
