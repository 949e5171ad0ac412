"""Trends from the history: what got slower, what is new among the slowest, how the suite grows,
and what bounded this run's wall time.

Everything here is computed from the history alone (after the run was added to it), so the
report's ``trends`` and ``shard-action history show`` say the same thing about the same file.
The only fact that needs the run itself is its bottleneck, which the report works out
(:func:`bottleneck`) and keeps in the run's record.

* **Slower tests**: records seen in the newest run whose ``slower_since`` is set (the rule is
  ``core.history.markedly_slower``), with their newest time, the median before it, and the run
  the streak started in; the largest increases first.
* **New slowest**: the newest run's slowest tests that were not among the slowest of the
  previous run of the same tier (a smoke run is not compared with a full one) and, when that
  list was full, beat its last place clearly (``clearly_above``: not a tie swapped in).
* **Runs**: the last runs' suite time (sum of the tests' own durations), wall time, shard count
  and flaky rate, oldest first.
* **Bottleneck**: the longest shard bounds the wall time (on GitHub the shards start together;
  ``local`` may queue them, and a queued shard ends last without being the cause); it is one
  long test when
  that test took at least half of the shard's time, a sequential lane when the shard runs one,
  the shard's set-up when more than half of its time was outside its tests, else the shard's
  tests as a whole.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Final

from pydantic import BaseModel, ConfigDict, Field

from shard_action.core.history import (
    MAX_SLOWEST,
    Bottleneck,
    History,
    RunRecord,
    SlowTest,
    clearly_above,
)

MAX_SLOWER: Final = 10
RUNS_SHOWN: Final = 10
HALF: Final = 0.5


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SlowerTest(_Model):
    __test__ = False

    test: str
    lane: str
    seconds: float = Field(description="Its time in the newest run.")
    baseline: float = Field(description="Median of its earlier samples.")
    change: float | None = Field(
        description="seconds / baseline (1.5 = 50% slower); None when the baseline was 0."
    )
    since: int = Field(description="The run the slowdown started in.")
    since_sha: str | None = Field(None, description="The commit that run tested, when known.")


class RunPoint(_Model):
    run: int
    tier: str | None = None
    tests: int
    test_seconds: float | None = Field(None, description="Sum of the tests' own durations.")
    wall_seconds: float | None = None
    shards: int | None = None
    flaky_rate: float


class Trends(_Model):
    slower: list[SlowerTest] = Field(
        default_factory=list, description="Tests markedly slower than their rolling median."
    )
    new_slowest: list[SlowTest] = Field(
        default_factory=list,
        description="Among the newest run's slowest, those not among the previous run's (of the "
        "same tier) that, when that list was full, clearly beat its last place.",
    )
    runs: list[RunPoint] = Field(default_factory=list, description="The last runs, oldest first.")
    bottleneck: Bottleneck | None = Field(None, description="What bounded the newest run's wall.")


def _slower(history: History, newest: int) -> list[SlowerTest]:
    sha = {run.index: run.sha for run in history.runs}
    found: list[SlowerTest] = []
    for lane, records in history.tests.items():
        for test, record in records.items():
            if record.slower_since is None or record.last_seen != newest or len(record.recent) < 2:
                continue
            latest = record.recent[-1]
            baseline = float(statistics.median(record.recent[:-1]))
            found.append(
                SlowerTest(
                    test=test,
                    lane=lane,
                    seconds=latest,
                    baseline=baseline,
                    change=latest / baseline if baseline > 0 else None,
                    since=record.slower_since,
                    since_sha=sha.get(record.slower_since),
                )
            )
    found.sort(key=lambda x: (-(x.seconds - x.baseline), x.lane, x.test))
    return found[:MAX_SLOWER]


def _new_slowest(runs: Sequence[RunRecord]) -> list[SlowTest]:
    newest = runs[-1]
    earlier = [run for run in runs[:-1] if run.tier == newest.tier and run.slowest]
    if not earlier:
        return []  # nothing to be new against
    previous = earlier[-1].slowest
    before = {(x.lane, x.test) for x in previous}
    # A full list's last place is contested by tests of about the same time: one that swaps in
    # by a few milliseconds is not news (five such 0.3-0.4 s tests filled the section of a
    # suite that had not changed). It must beat that last place by the margin of "markedly
    # slower"; below a full list, anything that enters it is new.
    cutoff = min(x.seconds for x in previous) if len(previous) >= MAX_SLOWEST else 0.0
    return [
        x
        for x in newest.slowest
        if (x.lane, x.test) not in before and (not cutoff or clearly_above(cutoff, x.seconds))
    ]


def trends_of(history: History, *, runs: int = RUNS_SHOWN) -> Trends:
    """The trends of the history's newest run (empty without runs)."""
    ordered = sorted(history.runs, key=lambda run: run.index)
    if not ordered:
        return Trends()
    newest = ordered[-1]
    return Trends(
        slower=_slower(history, newest.index),
        new_slowest=_new_slowest(ordered),
        runs=[
            RunPoint(
                run=run.index,
                tier=run.tier,
                tests=run.tests,
                test_seconds=run.test_seconds,
                wall_seconds=run.seconds,
                shards=run.shards,
                flaky_rate=run.flaky_rate,
            )
            for run in ordered[-runs:]
        ],
        bottleneck=newest.bottleneck,
    )


def slowest(tests: Sequence[tuple[str, str, float | None]], limit: int) -> list[SlowTest]:
    """The ``limit`` slowest of (lane, test, seconds), slowest first, ties by id."""
    timed = [(lane, test, s) for lane, test, s in tests if s is not None and s >= 0]
    timed.sort(key=lambda x: (-x[2], x[0], x[1]))
    return [SlowTest(lane=lane, test=test, seconds=s) for lane, test, s in timed[:limit]]


def bottleneck(
    shards: Sequence[tuple[str, float, float, bool, str]],
    tests: Sequence[tuple[str, str, float | None]],
) -> Bottleneck | None:
    """What bounded the wall time (see the module docstring).

    ``shards``: (shard id, start offset, own seconds, sequential, lane) of each shard that ran
    (the longest wins; among equals the one that started later);
    ``tests``: (shard id, test id, seconds) of every executed test.
    """
    if not shards:
        return None
    shard, _, seconds, sequential, lane = max(shards, key=lambda s: (s[2], s[1], s[0]))
    own = [(test, s) for where, test, s in tests if where == shard and s is not None]
    busy = sum(s for _, s in own)
    longest = max(own, key=lambda x: (x[1], x[0]), default=None)
    if longest is not None and seconds > 0 and longest[1] >= HALF * seconds:
        return Bottleneck(
            kind="test", shard=shard, seconds=seconds, part=longest[1], detail=longest[0]
        )
    if sequential:
        return Bottleneck(
            kind="sequential lane", shard=shard, seconds=seconds, part=busy, detail=lane
        )
    outside = max(0.0, seconds - busy)
    if seconds > 0 and outside > HALF * seconds:
        return Bottleneck(kind="set-up", shard=shard, seconds=seconds, part=outside)
    return Bottleneck(kind="shard", shard=shard, seconds=seconds, part=busy)
