"""The history file: what we remember between runs.

Per (lane, test id): a smoothed duration, a window of recent outcomes, the run it was last seen
in. Per run: the flaky rate. And the current mode with the reason. The plan step reads it for
timings and mode; the report step (fan-in) writes it. Pure arithmetic lives here; reading and
writing files is the adapter's job.
"""

from __future__ import annotations

from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field

HISTORY_VERSION: Final = 1
HISTORY_KIND: Final = "shard-action-history"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TestRecord(_Model):
    __test__ = False

    duration: float = Field(ge=0, allow_inf_nan=False, description="Smoothed seconds.")
    outcomes: str = Field(
        "", description="Recent outcomes, oldest first: p=pass f=fail F=flaky s=skip."
    )
    last_seen: int = Field(0, description="Index of the run that last ran the test.")


class RunRecord(_Model):
    index: int
    mode: Literal["parallel", "serial"]
    tests: int
    flaky: int
    flaky_rate: float


class History(_Model):
    kind: Literal["shard-action-history"] = HISTORY_KIND
    version: Literal[1] = HISTORY_VERSION
    mode: Literal["parallel", "serial"] = "parallel"
    mode_reason: str = "no history yet"
    clean_serial_runs: int = 0
    runs: list[RunRecord] = Field(default_factory=list)
    tests: dict[str, dict[str, TestRecord]] = Field(
        default_factory=dict, description="lane name -> test id -> record"
    )
