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

* **Fixed costs** per lane (``core.prediction``): the recent job set-up, interpreter start,
  per-file collection and finish samples, each divided by its run's speed factor (the median
  ratio of the run's test times to the history's), so one run on a loaded machine neither moves
  the test durations nor the costs. Durations are stored the same way; a plan multiplies both
  back by the median factor of the recent runs (:meth:`History.speed`), so it predicts at the
  speed runs have now, not at that of the run that started the history.
* **Trends** (``core.trends``): a test is *markedly slower* when its newest sample is at least
  :data:`SLOWER_RATIO` times the median of its earlier samples and :data:`SLOWER_SECONDS` longer
  (a ratio alone would flag a 2 ms test that took 5 ms); ``slower_since`` keeps the first run of
  the current streak, so the report can say since when. Each run record keeps its suite time,
  shard count, tier, its slowest tests and its bottleneck: small, bounded by ``max_runs``.

Version 1 grew optional fields before any release (``recent``, ``last_serial_flake``, the run
facts, the trend fields, ``demotion``); a file without them still reads. Version 2 keeps the mode
as one :class:`~shard_action.core.mode.ModeState` (``mode``) where version 1 had five flat
fields; a version-1 file is read as version 2 (:meth:`History.from_older`).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from shard_action.core.demotion import DemotedTest, Demotion
from shard_action.core.documents import Document
from shard_action.core.lanes import home_lane
from shard_action.core.mode import ModeState
from shard_action.core.models import (
    MAX_SECONDS,
    Mended,
    sample_seconds,
    smoothed,
    usable_seconds,
)
from shard_action.core.prediction import SPEED_RANGE, LaneCosts, recent_speed
from shard_action.core.units import finite

HISTORY_VERSION: Final = 2
HISTORY_KIND: Final = "shard-action-history"

Letter = Literal["p", "f", "F", "s"]
LETTERS: Final[frozenset[str]] = frozenset("pfFs")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _numeric(value: Any) -> bool:
    """A number or null: what a sanitiser may mend; anything else is left for validation."""
    return value is None or (isinstance(value, int | float) and not isinstance(value, bool))


def _clamped(value: Any, low: float, high: float) -> float | None:
    number = finite(value)
    return None if number is None else min(max(number, low), high)


def _sane_seconds(value: Any) -> float | None:
    """A usable duration, or None: an extreme time is a broken report, not a measurement."""
    number = finite(value)
    return number if number is not None and usable_seconds(number) else None


class TestRecord(Mended):
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
    slower_since: int | None = Field(
        None,
        description="First run of the current streak in which the test was markedly slower "
        "than the median of its earlier samples (see `core.trends`).",
    )

    @classmethod
    def mended(cls, data: dict[str, Any]) -> dict[str, Any]:
        """Drop unusable samples and mend the duration, so one bad value never loses a history."""
        recent = data.get("recent")
        samples: list[float] = []
        if isinstance(recent, list) and all(map(_numeric, recent)):
            samples = [x for x in map(_sane_seconds, recent) if x is not None]
            data["recent"] = samples
        since = data.get("slower_since")
        if since is not None and (not isinstance(since, int) or isinstance(since, bool)):
            data["slower_since"] = None  # a trend is a hint: an odd value is no reason to fail
        duration = data.get("duration", 0.0)
        if _numeric(duration) and _sane_seconds(duration) is None:
            fallback = _clamped(duration, 0.0, MAX_SECONDS)
            data["duration"] = smoothed(samples) if samples else (fallback or 0.0)
        return data


MAX_TEXT: Final = 500
"""Characters kept of a free-text field read back (a bottleneck's words, a test id)."""


class SlowTest(_Model):
    """One of a run's slowest tests."""

    __test__ = False

    lane: str
    test: str
    seconds: float = Field(ge=0, allow_inf_nan=False)


class Bottleneck(_Model):
    """What bounded a run's wall time: the last shard to finish, and why it took that long."""

    kind: Literal["test", "sequential lane", "set-up", "shard"] = Field(
        description="`test`: one test took most of the shard; `sequential lane`: a lane that "
        "runs in one process; `set-up`: the shard spent most of its time outside its tests; "
        "`shard`: the shard's tests as a whole."
    )
    shard: str
    seconds: float = Field(ge=0, allow_inf_nan=False, description="The shard's own time.")
    part: float = Field(
        0.0, ge=0, allow_inf_nan=False, description="Seconds of it that the cause took."
    )
    detail: str = Field("", description="The test or lane that bounded it, when there is one.")


def _slow_test(value: Any) -> Any:
    """One entry of ``slowest`` as read back: mended, or None to drop it."""
    if isinstance(value, SlowTest):
        return value
    if not isinstance(value, dict):
        return None
    seconds = _sane_seconds(value.get("seconds"))
    if seconds is None or not isinstance(value.get("test"), str):
        return None
    try:
        return SlowTest.model_validate(
            {**value, "test": value["test"][:MAX_TEXT], "seconds": seconds}
        )
    except ValueError:
        return None


class RunRecord(Mended):
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
    test_seconds: float | None = Field(None, description="Sum of the tests' own durations.")
    shards: int | None = Field(None, description="Shards planned.")
    tier: str | None = Field(None, description="The tier the run planned (`full`: every test).")
    slowest: list[SlowTest] = Field(
        default_factory=list, description="The run's slowest tests, slowest first."
    )
    bottleneck: Bottleneck | None = Field(None, description="What bounded the run's wall time.")
    outage: str | None = Field(
        None, description="Why the run looked like an outage (not counted), if it did."
    )
    speed: float | None = Field(
        None,
        description="The run's speed factor: its test times over the history's (2: twice as "
        "slow); its samples were stored divided by it. Absent when too few tests were timed "
        "in both to compare (the history's first run).",
    )

    @classmethod
    def mended(cls, data: dict[str, Any]) -> dict[str, Any]:
        """Clamp counts and rates into their ranges; an unusable optional figure is unknown."""
        for key in ("tests", "flaky", "failed", "lost"):
            if isinstance(data.get(key), int) and not isinstance(data[key], bool):
                data[key] = max(data[key], 0)
        if "flaky_rate" in data and _numeric(data["flaky_rate"]):
            data["flaky_rate"] = _clamped(data["flaky_rate"], 0.0, 1.0) or 0.0
        if _numeric(data.get("coverage")):
            data["coverage"] = _clamped(data.get("coverage"), 0.0, 100.0)
        if _numeric(data.get("seconds")):
            data["seconds"] = _sane_seconds(data.get("seconds"))
        if _numeric(data.get("test_seconds")):
            data["test_seconds"] = _sane_seconds(data.get("test_seconds"))
        if isinstance(data.get("shards"), int) and not isinstance(data["shards"], bool):
            data["shards"] = max(data["shards"], 0)
        # Trend facts are hints: whatever cannot be read is dropped, never the history.
        slowest = data.get("slowest")
        if isinstance(slowest, list):
            data["slowest"] = [x for x in map(_slow_test, slowest[:MAX_SLOWEST]) if x is not None]
        elif slowest is not None:
            data["slowest"] = []
        neck = data.get("bottleneck")
        if isinstance(neck, dict):
            try:
                data["bottleneck"] = Bottleneck.model_validate(
                    {**neck, "detail": str(neck.get("detail", ""))[:MAX_TEXT]}
                )
            except ValueError:
                data["bottleneck"] = None
        elif neck is not None and not isinstance(neck, Bottleneck):
            data["bottleneck"] = None
        if isinstance(data.get("tier"), str):
            data["tier"] = data["tier"][:MAX_TEXT]
        if _numeric(data.get("speed")):
            data["speed"] = _clamped(data.get("speed"), *SPEED_RANGE)
        return data


_V1_MODE: Final = {
    "mode": "mode",
    "mode_reason": "reason",
    "clean_serial_runs": "clean_serial_runs",
    "mode_since": "since",
    "mode_cause": "cause",
}
"""Version 1's flat mode fields -> their :class:`ModeState` field."""


class History(Document):
    kind: Literal["shard-action-history"] = HISTORY_KIND
    version: Literal[2] = HISTORY_VERSION
    title: ClassVar[str] = "shard-action history"
    remedy: ClassVar[str] = "upgrade shard-action, or start a new history"
    older: ClassVar[frozenset[int]] = frozenset({1})
    mode: ModeState = Field(
        default_factory=ModeState, description="The mode the next plan follows, and why."
    )
    runs: list[RunRecord] = Field(default_factory=list)
    tests: dict[str, dict[str, TestRecord]] = Field(
        default_factory=dict, description="lane name -> test id -> record"
    )
    costs: dict[str, LaneCosts] = Field(
        default_factory=dict,
        description="lane name (`*`: the serial shard) -> recent fixed-cost samples",
    )
    demotion: Demotion = Field(
        default_factory=Demotion,
        description="Parallel-sensitive tests the next plans run in their lane's demoted lane "
        "(`core.demotion`).",
    )

    @classmethod
    def from_older(cls, raw: dict[str, Any]) -> dict[str, Any]:
        """A version-1 history as version 2: its five flat mode fields as one state."""
        rest = {key: value for key, value in raw.items() if key not in _V1_MODE}
        state = {new: raw[old] for old, new in _V1_MODE.items() if old in raw}
        return {**rest, "version": HISTORY_VERSION, "mode": state}

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
        """The record of ``test`` as it ran in ``lane`` (see :func:`record_of`)."""
        return record_of(self.tests, lane, test)

    def demoted_for(self, max_demoted: int) -> list[DemotedTest]:
        """The tests the next plan runs demoted: none with ``max-demoted`` 0, which turns
        demotion off for what the history demoted before too."""
        return list(self.demotion.demoted) if max_demoted else []

    def speed(self) -> float:
        """The speed a plan multiplies the history's times by (``prediction.recent_speed``)."""
        # a history's first run compared nothing: histories written before its factor was
        # left out (e711756) still say 1.0 there, which would count as a measured speed
        return recent_speed(
            None if run.index == 1 else run.speed
            for run in sorted(self.runs, key=lambda r: r.index)
        )


Records = Mapping[str, Mapping[str, TestRecord]]
"""lane name -> test id -> record: :attr:`History.tests`, or the records after a run."""


def record_of(records: Records, lane: str, test: str) -> TestRecord | None:
    """A test's record, filed under its home lane even when it ran demoted (``{lane}.demoted``):
    one test, one series, so its flip rate and durations follow it across demotion. The one
    lookup of a record; :func:`update_tests` files by the same rule."""
    return records.get(home_lane(lane)[0], {}).get(test)


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
    """The lane it ran in (a demoted one too: it is filed under its home lane)."""
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


SLOWER_RATIO: Final = 1.5
SLOWER_SECONDS: Final = 0.5
MIN_SAMPLES: Final = 3
MAX_SLOWEST: Final = 10
"""Slowest tests kept per run record."""


def markedly_slower(before: Sequence[float], latest: float) -> bool:
    """The newest sample against the median of the earlier ones (see the module docstring)."""
    if len(before) < MIN_SAMPLES:
        return False
    return clearly_above(float(statistics.median(before)), latest)


def clearly_above(baseline: float, latest: float) -> bool:
    """``latest`` beats ``baseline`` by more than run-to-run noise (ratio and seconds both)."""
    return latest >= baseline * SLOWER_RATIO and latest - baseline >= SLOWER_SECONDS


def _updated(
    record: TestRecord | None, seen: Observed, index: int, serial: bool, limits: Limits
) -> TestRecord:
    recent = list(record.recent) if record is not None else []
    if record is not None and not recent:  # a record written before `recent` existed
        recent = [record.duration]
    slower_since = record.slower_since if record is not None else None
    if seen.seconds is not None and usable_seconds(seen.seconds):
        sample = sample_seconds(seen.seconds)
        slower = markedly_slower(recent, sample)
        slower_since = (slower_since or index) if slower else None
        recent.append(sample)
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
        slower_since=slower_since,
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
        lane = tests.setdefault(home_lane(seen.lane)[0], {})
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
    mode: ModeState,
    limits: Limits = Limits(),
    costs: dict[str, LaneCosts] | None = None,
    demotion: Demotion | None = None,
) -> History:
    """A new history with ``run`` appended (runs bounded) and the mode state replaced;
    ``costs`` and ``demotion`` stay as they were unless given."""
    flaky_tests = run.flaky_tests[: limits.max_flaky_listed]
    runs = [*history.runs, run.model_copy(update={"flaky_tests": flaky_tests})]
    runs = sorted(runs, key=lambda r: r.index)[-limits.max_runs :]
    return History(
        mode=mode,
        runs=runs,
        tests=tests,
        costs=history.costs if costs is None else costs,
        demotion=history.demotion if demotion is None else demotion,
    )
