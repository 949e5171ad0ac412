"""The first-run probe: a few of today's tests, timed once in the plan step, scale the estimate.

With no history, the source-size rule (``core.estimate``) knows bytes, not speed: it put
networkx's ``algorithms/flow`` at 0.02x and scipy's ``io`` at 0.04x of their measured time
(docs/benchmarks.md). Running a handful of the suite's own tests says how fast *this* suite is
on *this* machine. This module is the pure part: which tests to run (:func:`sample`, a stable
hash of the id, so the same suite always probes the same tests), the document the measurement
is kept in (:class:`FirstRunFile`: the collection's clock and the probe's times, so the plan is
a function of documents and the same documents give the same plan), and what the plan takes
from it (:func:`calibration`). Running the tests is ``adapters.probe``.

Measured figures are quantised (:func:`quantised`, two significant digits) before they are
stored, so two runs of an unchanged tree that differ by a few percent mostly store the same
figures.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Final, Literal

from pydantic import Field

from shard_action.core import estimate
from shard_action.core.config import Config
from shard_action.core.documents import Document, Frozen
from shard_action.core.estimate import Calibration, Collection
from shard_action.core.mode import Mode
from shard_action.core.models import TestItem
from shard_action.core.units import count

PER_LANE: Final = 16
"""Tests probed per lane instance. Simulated on quiet serial durations with a 5 s budget: 16
put networkx's flow tests (83, 9 of them half the time) at 0.47x of the suite and scipy's io
(702) at 0.48x, at any machine speed, because 16 tests rarely reach the budget. 64 gave 1.06x
and 0.50x, but at half the speed the budget cut the sample after the first file and networkx
read 8x: a cut sample is decided by whichever file ran first (docs/benchmarks.md)."""
MAX_TESTS: Final = 64
"""At most this many in all (one process, one import of each of their files)."""
MIN_FINISHED: Final = 3
"""Tests the probe must finish before its factor is used: one test (say a 30 s one cut at the
budget) says how fast that test is, not the suite, and scaled 300 trivial tests x1000."""
DEFAULT_BUDGET: Final = 5.0
"""Seconds of test time the probe may take (``probe`` in the config; 0 turns it off)."""


def one_shard_anyway(config: Config, mode: Mode) -> bool:
    """Whether the plan cannot split a lane in two (``shards = 1``, ``max-shards = 1``, serial
    mode): then no duration changes which tests run together, and a probe would only cost time."""
    return mode == "serial" or config.shards == 1 or config.max_shards == 1


def _rank(test_id: str) -> str:
    return hashlib.sha256(test_id.encode("utf-8", "surrogateescape")).hexdigest()


def sample(
    lanes: Mapping[str, Sequence[str]], per_lane: int = PER_LANE, most: int = MAX_TESTS
) -> list[str]:
    """The probe's test ids: each lane's first ``per_lane`` by a hash of the id, lanes in name
    order, ``most`` in all, each id once; in the order given per lane (pytest runs them in its
    own collection order anyway)."""
    chosen: dict[str, None] = {}
    for name in sorted(lanes):
        ids = lanes[name]
        picked = set(sorted(dict.fromkeys(ids), key=_rank)[:per_lane])
        for test_id in ids:
            if len(chosen) >= most:
                return list(chosen)
            if test_id in picked:
                chosen.setdefault(test_id, None)
    return list(chosen)


def runs(
    lanes: Mapping[str, Sequence[str]], ids: Sequence[str], envs: Mapping[str, Mapping[str, str]]
) -> list[tuple[dict[str, str], list[str]]]:
    """The sample ``ids`` (of ``lanes``) as processes: one per distinct lane ``env`` (``envs``
    by lane), in the sample's order, so each test is timed as its lane runs it and lanes
    that set the same (or nothing) share one process's start-up."""
    chosen = set(ids)
    lane_of = {t: name for name, tests in lanes.items() for t in tests if t in chosen}
    grouped: dict[tuple[tuple[str, str], ...], list[str]] = {}
    for test_id in ids:
        key = tuple(sorted(envs.get(lane_of.get(test_id, ""), {}).items()))
        grouped.setdefault(key, []).append(test_id)
    return [(dict(key), tests) for key, tests in grouped.items()]


def quantised(seconds: float) -> float:
    """``seconds`` to two significant digits (0 stays 0): what a document stores."""
    if not math.isfinite(seconds) or seconds <= 0:
        return 0.0
    digits = 1 - math.floor(math.log10(seconds))
    return round(seconds, digits)


class CollectionClock(Frozen):
    """What the plan's pytest collection took (quantised seconds)."""

    interpreter: float = Field(ge=0, description="Process start to pytest's configure.")
    files: dict[str, float] = Field(
        default_factory=dict,
        description="Each test file's collection (import, items), in collection order.",
    )


class ProbeTimes(Frozen):
    """What the probe ran and measured."""

    budget: float = Field(ge=0, description="Seconds of test time it was allowed.")
    sample: list[str] = Field(default_factory=list, description="The ids it was to run.")
    seconds: dict[str, float] = Field(
        default_factory=dict, description="Each test that finished: its time (quantised)."
    )
    cut: dict[str, float] = Field(
        default_factory=dict,
        description="The test running when the budget ran out: how long it had run (a lower "
        "bound, quantised).",
    )
    problem: str | None = Field(
        None,
        description='What went wrong in any of its processes, by lane ("lane db: ..."), if '
        "anything; the other lanes' times may still have been measured.",
    )
    failed: list[str] = Field(
        default_factory=list, description="The lanes whose process had a problem, by name."
    )


def merged(
    budget: float,
    sample: Sequence[str],
    parts: Sequence[ProbeTimes],
    lanes: Mapping[str, Sequence[str]],
) -> ProbeTimes:
    """The probe's processes (:func:`runs`) as one probe, every part's problem kept and named by
    the lanes of its tests (``lanes``, as for :func:`runs`): "lane db: pytest ended ...".

    A part that failed while others measured is still a problem: its lanes were not measured,
    the others' times scale their estimates, and a probe with a problem is not cached (the next
    plan tries again)."""
    seconds: dict[str, float] = {}
    cut: dict[str, float] = {}
    for part in parts:
        seconds.update(part.seconds)
        cut.update(part.cut)
    problems: dict[str, None] = {}
    failed: dict[str, None] = {}
    for part in parts:
        if part.problem:
            names = _lanes_of(lanes, part.sample)
            failed.update(dict.fromkeys(names))
            said = f"lane{'s' if len(names) > 1 else ''} {', '.join(names)}: " if names else ""
            problems.setdefault(f"{said}{part.problem}", None)
    return ProbeTimes(
        budget=budget, sample=list(sample), seconds=seconds, cut=cut,
        problem="; ".join(problems) or None, failed=sorted(failed),
    )  # fmt: skip


def _lanes_of(lanes: Mapping[str, Sequence[str]], ids: Sequence[str]) -> list[str]:
    """The names of the lanes ``ids`` belong to, sorted."""
    chosen = set(ids)
    return sorted(name for name, tests in lanes.items() if chosen.intersection(tests))


class FirstRunFile(Document):
    """``first-run.json``: what a plan without history measured, and read its estimates from."""

    kind: Literal["shard-action-first-run"] = "shard-action-first-run"
    version: Literal[1] = 1
    collection: CollectionClock | None = None
    probe: ProbeTimes | None = None
    title = "first-run document"


def clock_of(collection: Collection | None) -> CollectionClock | None:
    """The collection's clock as the document stores it."""
    if collection is None:
        return None
    return CollectionClock(
        interpreter=quantised(collection.interpreter),
        files={name: quantised(s) for name, s in collection.files.items()},  # in order
    )


def collection_of(document: FirstRunFile) -> Collection | None:
    """The collection's clock as ``core.estimate.first_costs`` reads it."""
    clock = document.collection
    if clock is None:
        return None
    return Collection(interpreter=clock.interpreter, files=dict(clock.files))


def calibration(
    document: FirstRunFile, tests: Sequence[TestItem], file_bytes: Mapping[str, int]
) -> Calibration | None:
    """The probed tests' time against what the source-size rule gives the same tests;
    ``None`` when nothing was probed (or nothing took measurable time).

    The tests cut at the budget count as far as they got, but together at most as much as the
    finished ones (a cut test is a lower bound on one test, so at most it doubles the factor);
    fewer than :data:`MIN_FINISHED` finished tests give a calibration marked unused (factor 1),
    so the plan can say why it did not scale."""
    probe = document.probe
    if probe is None or not (probe.seconds or probe.cut):
        return None
    files = [t.file for t in tests]
    per_test = estimate.per_file(file_bytes, Counter(files))
    file_of = {t.id: t.file for t in tests}
    finished = [t for t in probe.seconds if t in file_of]
    cut = [t for t in probe.cut if t in file_of and t not in probe.seconds]
    done = math.fsum(probe.seconds[t] for t in finished)
    so_far = math.fsum(probe.cut[t] for t in cut)
    estimated = math.fsum(per_test[file_of[t]] for t in (*finished, *cut))
    if done + so_far <= 0 or estimated <= 0:
        return None
    unused = None
    if len(finished) < MIN_FINISHED:
        unused = (
            f"finished {count(len(finished), 'test')} within its {probe.budget:g} s budget "
            f"({MIN_FINISHED} needed to trust it)"
        )
    return Calibration(
        tests=len(finished) + len(cut), cut=len(cut), measured=done + min(so_far, done),
        estimated=estimated, unused=unused, failed=tuple(probe.failed),
    )  # fmt: skip
