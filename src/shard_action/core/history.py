"""The history file: what we remember between runs.

Per (lane, test id): a smoothed duration, a window of recent outcomes, the run it was last seen
in. Per run: the flaky rate. And the current mode with the reason. The plan step reads it for
timings and mode; the report step (fan-in) writes it. Pure arithmetic lives here; reading and
writing files is the adapter's job (``adapters.history_file``).

Why these rules:

* **Durations** are the median of the last few measurements, not a mean or an EWMA: one run on a
  slow runner, or one test that hit a timeout, must not move the plan. With three or more samples
  a single outlier has no effect at all; a test that really became slower wins after a majority
  of the samples agree.
* **Outcomes** are one letter per run (``p`` pass, ``f`` fail, ``F`` flaky, ``s`` skip), oldest
  first, cut to a window: enough for a flip rate, small enough for a million tests.
* **Flip rate** is the share of runs in the window (skips left out) where the outcome flipped:
  flaky inside the run, or passing where the previous run failed and the other way round. It is
  in [0, 1] by construction.
* **Pruning**: a test not seen for ``prune_after`` runs is gone (renamed, deleted, moved lane);
  keeping it would only slow the planner and grow the artifact. On top of that the number of
  records is capped, dropping the least recently seen first.

Version 1 grew optional fields before any release (``recent``, ``last_serial_flake``, the run
facts, ``mode_since``/``mode_cause``); a file without them still reads.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shard_action.core.models import MAX_SECONDS, usable_seconds

HISTORY_VERSION: Final = 1
HISTORY_KIND: Final = "shard-action-history"

Letter = Literal["p", "f", "F", "s"]
LETTERS: Final[frozenset[str]] = frozenset("pfFs")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _numeric(value: Any) -> bool:
    """A number or null: what a sanitiser may mend; anything else is left for validation."""
    return value is None or (isinstance(value, int | float) and not isinstance(value, bool))


def _number(value: Any) -> float | None:
    """A finite float, or None (NaN, inf, null)."""
    if not _numeric(value) or value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _clamped(value: Any, low: float, high: float) -> float | None:
    number = _number(value)
    return None if number is None else min(max(number, low), high)


def _sane_seconds(value: Any) -> float | None:
    """A usable duration, or None: an extreme time is a broken report, not a measurement."""
    number = _number(value)
    return number if number is not None and usable_seconds(number) else None


class TestRecord(_Model):
    __test__ = False

    duration: float = Field(ge=0, allow_inf_nan=False, description="Smoothed seconds.")
    outcomes: str = Field(
        "", description="Recent outcomes, oldest first: p=pass f=fail F=flaky s=skip."
    )
    last_seen: int = Field(0, description="Index of the run that last ran the test.")
    recent: list[float] = Field(
        default_factory=list,
        description="Last measured durations, oldest first; `duration` is their median.",
    )
    last_serial_flake: int | None = Field(
        None,
        description="Last run in serial mode in which the test was flaky: flaky on its own.",
    )

    @model_validator(mode="before")
    @classmethod
    def _sanitised(cls, data: Any) -> Any:
        """Drop unusable samples and mend the duration, so one bad value never loses a history."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        recent = data.get("recent")
        samples: list[float] = []
        if isinstance(recent, list) and all(map(_numeric, recent)):
            samples = [x for x in map(_sane_seconds, recent) if x is not None]
            data["recent"] = samples
        duration = data.get("duration", 0.0)
        if _numeric(duration) and _sane_seconds(duration) is None:
            fallback = _clamped(duration, 0.0, MAX_SECONDS)
            data["duration"] = smoothed(samples) if samples else (fallback or 0.0)
        return data


class RunRecord(_Model):
    index: int
    mode: Literal["parallel", "serial"]
    tests: int
    flaky: int
    flaky_rate: float
    failed: int = Field(0, description="Tests that failed on every attempt.")
    lost: int = Field(0, description="Planned tests that never ran.")
    coverage: float | None = Field(None, description="Total coverage in percent, if measured.")
    seconds: float | None = Field(None, description="Wall time of the test stage.")
    flaky_tests: list[str] = Field(
        default_factory=list, description="Flaky test ids (the first few)."
    )
    sha: str | None = Field(None, description="Commit the run tested, when known.")

    @model_validator(mode="before")
    @classmethod
    def _sanitised(cls, data: Any) -> Any:
        """Clamp counts and rates into their ranges; an unusable optional figure is unknown."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        for key in ("tests", "flaky", "failed", "lost"):
            if isinstance(data.get(key), int) and not isinstance(data[key], bool):
                data[key] = max(data[key], 0)
        if "flaky_rate" in data and _numeric(data["flaky_rate"]):
            data["flaky_rate"] = _clamped(data["flaky_rate"], 0.0, 1.0) or 0.0
        if _numeric(data.get("coverage")):
            data["coverage"] = _clamped(data.get("coverage"), 0.0, 100.0)
        if _numeric(data.get("seconds")):
            data["seconds"] = _sane_seconds(data.get("seconds"))
        return data


class History(_Model):
    kind: Literal["shard-action-history"] = HISTORY_KIND
    version: Literal[1] = HISTORY_VERSION
    mode: Literal["parallel", "serial"] = "parallel"
    mode_reason: str = "no history yet"
    clean_serial_runs: int = 0
    mode_since: int | None = Field(None, description="Run that turned the history serial.")
    mode_cause: str | None = Field(None, description="Why the history turned serial.")
    runs: list[RunRecord] = Field(default_factory=list)
    tests: dict[str, dict[str, TestRecord]] = Field(
        default_factory=dict, description="lane name -> test id -> record"
    )

    def last_run(self) -> RunRecord | None:
        return max(self.runs, key=lambda run: run.index) if self.runs else None

    def next_index(self) -> int:
        last = self.last_run()
        return 1 if last is None else last.index + 1

    def last_coverage(self) -> float | None:
        """Coverage of the newest run that measured it: the baseline for the change."""
        for run in sorted(self.runs, key=lambda r: r.index, reverse=True):
            if run.coverage is not None:
                return run.coverage
        return None

    def record(self, lane: str, test: str) -> TestRecord | None:
        return self.tests.get(lane, {}).get(test)


@dataclass(frozen=True, slots=True)
class Limits:
    """How much the history remembers."""

    window: int = 20
    """Outcomes kept per test (flip rates are over this window)."""
    samples: int = 5
    """Durations kept per test (the duration is their median)."""
    prune_after: int = 30
    """A test not seen for this many runs is dropped."""
    max_tests: int = 200_000
    """Records kept over all lanes; the least recently seen go first."""
    max_runs: int = 100
    """Run records kept."""
    max_flaky_listed: int = 50
    """Flaky test ids kept per run record."""


@dataclass(frozen=True, slots=True)
class Observed:
    """One test in the run that just finished, as the history records it."""

    lane: str
    test: str
    letter: Letter
    seconds: float | None = None


def letter_of(status: str) -> Letter:
    """The history letter of a verdict (``passed``, ``flaky``, ``failed``, ``broken``...)."""
    if status == "passed":
        return "p"
    if status == "flaky":
        return "F"
    if status == "skipped":
        return "s"
    return "f"


def flip_rate(outcomes: str) -> float:
    """Share of runs (skips left out) whose outcome flipped: in-run flaky, or changed since the
    previous run. 0 for fewer than one run."""
    runs = [o for o in outcomes if o in "pfF"]
    if not runs:
        return 0.0
    flips = 0
    previous_passed: bool | None = None
    for outcome in runs:
        passed = outcome != "f"  # a flaky run ended in a pass
        if outcome == "F" or (previous_passed is not None and passed != previous_passed):
            flips += 1
        previous_passed = passed
    return flips / len(runs)


def judged_runs(outcomes: str) -> int:
    """Runs a flip rate is over: the window's outcomes, skips left out."""
    return sum(1 for o in outcomes if o in "pfF")


def known_flaky(outcomes: str) -> bool:
    """Flaky (failed, then passed in one run) at least once in the window.

    Only that proves flakiness: a test that failed for three runs and was then fixed flipped,
    but was never seen failing and passing the same code.
    """
    return "F" in outcomes


def smoothed(samples: Sequence[float]) -> float:
    """The duration the planner uses: the median of the recent samples."""
    if not samples:
        raise ValueError("no samples")
    return float(statistics.median(samples))


def _seconds(value: float) -> float:
    return round(max(0.0, value), 3)


def _updated(
    record: TestRecord | None, seen: Observed, index: int, serial: bool, limits: Limits
) -> TestRecord:
    recent = list(record.recent) if record is not None else []
    if record is not None and not recent:  # a record written before `recent` existed
        recent = [record.duration]
    if seen.seconds is not None and usable_seconds(seen.seconds):
        recent.append(_seconds(seen.seconds))
    recent = recent[-limits.samples :]
    outcomes = ((record.outcomes if record is not None else "") + seen.letter)[-limits.window :]
    duration = smoothed(recent) if recent else 0.0
    serial_flake = record.last_serial_flake if record is not None else None
    if serial and seen.letter == "F":
        serial_flake = index
    # Values computed here are valid by construction; skipping validation halves the time of a
    # 100k-test update.
    return TestRecord.model_construct(
        duration=duration,
        outcomes=outcomes,
        last_seen=index,
        recent=recent,
        last_serial_flake=serial_flake,
    )


def update_tests(
    history: History,
    observed: Iterable[Observed],
    *,
    index: int,
    serial: bool,
    limits: Limits = Limits(),
) -> dict[str, dict[str, TestRecord]]:
    """The per-test records after run ``index``: updated, pruned and bounded.

    A test observed twice in one run (serial mode runs a fan-out lane once per value, under one
    lane name each, so this only happens with bad input) keeps the last observation.
    """
    tests: dict[str, dict[str, TestRecord]] = {
        lane: dict(records) for lane, records in history.tests.items()
    }
    for seen in observed:
        lane = tests.setdefault(seen.lane, {})
        lane[seen.test] = _updated(lane.get(seen.test), seen, index, serial, limits)
    oldest = index - limits.prune_after
    kept = [
        (record.last_seen, lane, test, record)
        for lane, records in tests.items()
        for test, record in records.items()
        if record.last_seen > oldest
    ]
    if len(kept) > limits.max_tests:
        kept.sort(key=lambda item: (-item[0], item[1], item[2]))
        kept = kept[: limits.max_tests]
    result: dict[str, dict[str, TestRecord]] = {}
    for _, lane_name, test_id, record in sorted(kept, key=lambda item: (item[1], item[2])):
        result.setdefault(lane_name, {})[test_id] = record
    return result


def with_run(
    history: History,
    run: RunRecord,
    tests: dict[str, dict[str, TestRecord]],
    *,
    mode: Literal["parallel", "serial"],
    mode_reason: str,
    clean_serial_runs: int,
    mode_since: int | None,
    mode_cause: str | None,
    limits: Limits = Limits(),
) -> History:
    """A new history with ``run`` appended (runs bounded) and the mode state replaced."""
    flaky_tests = run.flaky_tests[: limits.max_flaky_listed]
    runs = [*history.runs, run.model_copy(update={"flaky_tests": flaky_tests})]
    runs = sorted(runs, key=lambda r: r.index)[-limits.max_runs :]
    return History(
        mode=mode,
        mode_reason=mode_reason,
        clean_serial_runs=clean_serial_runs,
        mode_since=mode_since,
        mode_cause=mode_cause,
        runs=runs,
        tests=tests,
    )
