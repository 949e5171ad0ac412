"""Plan quality: our planner beside pytest-split's two algorithms, in one process.

For every stored real suite (``tests/data/timings/``) and a few seeded heavy-tailed synthetic
suites, for k shards (2..64) and both granularities, it prints makespan / lower bound where
``LB = max(total / k, longest test)`` (shard_overhead = 0: a pure partition comparison), and three
scores:

- ``stored``: the plan judged on the timings it was made from (run 1);
- ``noise``: the plan made from run 1, judged on run 2's timings (bound from run 2 too);
- ``felt``: like ``noise``, plus what a split file costs that no timing shows: a module fixture is
  charged to the first test of its file, so every other shard that holds a test of that file pays
  it again. Its cost is estimated per file as ``first test - median test`` of that file in run 2.

pytest-split gets the tests as objects with a ``.nodeid`` in collection order (it depends on the
order); at file granularity it gets one item per file with the file's total, which is how a runner
split by file uses it. We get the same tests and ``granularity: file`` (oversized files are split
by test id). pytest-split's empty shards (pytest exits 5 on them) are counted.

Run: ``.venv/bin/python benchmarks/plan_quality.py [--quick]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from _corpus import TIMINGS_DIR, Suite, real_suites, synthetic_suites
from pytest_split.algorithms import Algorithms

from shard_action.core.config import Config
from shard_action.core.models import Timings
from shard_action.core.planner import make_plan

Granularity = Literal["test", "file"]
ALGORITHMS = ("ours", "least_duration", "duration_based_chunks")
SCORES = ("stored", "noise", "felt")
QUICK_KS = (2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64)


@dataclass(frozen=True)
class _Item:
    """What pytest-split reads from a pytest item."""

    nodeid: str


@dataclass
class Case:
    suite: str
    real: bool
    granularity: Granularity
    k: int
    ratios: dict[tuple[str, str], float] = field(default_factory=dict)
    shards: dict[str, int] = field(default_factory=dict)
    empty: dict[str, int] = field(default_factory=dict)
    split_files: dict[str, int] = field(default_factory=dict)


def _bound(values: Sequence[float], k: int) -> float:
    return max(sum(values) / k, *values)


def _fixture_costs(suite: Suite) -> tuple[dict[str, str], dict[str, float]]:
    """Per file: its first test, and its estimated fixture cost in run 2."""
    first: dict[str, str] = {}
    times: dict[str, list[float]] = {}
    for test in suite.tests:
        first.setdefault(test.file, test.id)
        times.setdefault(test.file, []).append(suite.run2[test.id])
    cost = {
        name: max(0.0, suite.run2[first[name]] - statistics.median(values))
        for name, values in times.items()
    }
    return first, cost


def _scores(
    suite: Suite, groups: list[list[str]], k: int, first: dict[str, str], cost: dict[str, float]
) -> dict[str, float]:
    file_of = {t.id: t.file for t in suite.tests}
    stored = max(sum(suite.run1[t] for t in g) for g in groups)
    noise = max(sum(suite.run2[t] for t in g) for g in groups)
    felt = 0.0
    for group in groups:
        members = set(group)
        extra = sum(cost[f] for f in {file_of[t] for t in group} if first[f] not in members)
        felt = max(felt, sum(suite.run2[t] for t in group) + extra)
    bound1 = _bound(list(suite.run1.values()), k)
    bound2 = _bound([suite.run2[t.id] for t in suite.tests], k)
    return {"stored": stored / bound1, "noise": noise / bound2, "felt": felt / bound2}


def _ours(suite: Suite, k: int, granularity: Granularity) -> list[list[str]]:
    config = Config(shards=k, max_shards=k, shard_overhead=0.0, granularity=granularity)
    plan = make_plan(
        config, suite.tests, Timings(durations=suite.run1), mode="parallel", mode_reason="bench"
    )
    return [shard.tests for shard in plan.shards]


def _pytest_split(
    suite: Suite, k: int, granularity: Granularity, name: str
) -> tuple[list[list[str]], int]:
    """pytest-split's groups (without its empty ones) and how many were empty."""
    algorithm: Callable[[int, list[_Item], dict[str, float]], list[Any]] = Algorithms[name].value
    members: dict[str, list[str]] = {}
    if granularity == "test":
        items = [_Item(t.id) for t in suite.tests]
        members = {t.id: [t.id] for t in suite.tests}
        durations = dict(suite.run1)
    else:
        for test in suite.tests:
            members.setdefault(test.file, []).append(test.id)
        items = [_Item(name) for name in members]
        durations = {name: sum(suite.run1[t] for t in ids) for name, ids in members.items()}
    selected = [
        [t for item in group.selected for t in members[item.nodeid]]
        for group in algorithm(k, items, durations)
    ]
    return [s for s in selected if s], sum(1 for s in selected if not s)


def _check_complete(suite: Suite, groups: list[list[str]], who: str) -> None:
    planned = sorted(t for g in groups for t in g)
    if planned != sorted(suite.ids):
        raise SystemExit(f"{who} lost or duplicated tests on {suite.name}")


def _split_files(suite: Suite, groups: list[list[str]]) -> int:
    """How many extra (shard, file) pairs the plan makes: 0 when every file stays whole."""
    file_of = {t.id: t.file for t in suite.tests}
    pairs = sum(len({file_of[t] for t in g}) for g in groups)
    return pairs - len({t.file for t in suite.tests})


def run_case(
    suite: Suite,
    real: bool,
    k: int,
    granularity: Granularity,
    fixtures: tuple[dict[str, str], dict[str, float]],
) -> Case:
    case = Case(suite.name, real, granularity, k)
    first, cost = fixtures
    for name in ALGORITHMS:
        if name == "ours":
            groups, empty = _ours(suite, k, granularity), 0
        else:
            groups, empty = _pytest_split(suite, k, granularity, name)
        _check_complete(suite, groups, name)
        for score, value in _scores(suite, groups, k, first, cost).items():
            case.ratios[(name, score)] = value
        case.shards[name] = len(groups)
        case.empty[name] = empty
        case.split_files[name] = _split_files(suite, groups)
    return case


def _line(case: Case) -> str:
    parts = [f"{case.suite:<22} {case.granularity:<4} k={case.k:<3}"]
    for score in SCORES:
        cells = " ".join(f"{case.ratios[(a, score)]:6.3f}" for a in ALGORITHMS)
        parts.append(f"{score} {cells}")
    parts.append(f"empty(chunks)={case.empty['duration_based_chunks']}")
    return " | ".join(parts)


def summarise(cases: list[Case]) -> list[str]:
    out = [
        "",
        "Summary: makespan / lower bound, median and max (columns: " + ", ".join(ALGORITHMS) + ")",
    ]
    groups: dict[tuple[str, str], list[Case]] = {}
    for case in cases:
        kind = "real" if case.real else "synthetic"
        groups.setdefault((kind, case.granularity), []).append(case)
    for (kind, granularity), members in sorted(groups.items()):
        for score in SCORES:
            cells = []
            for algorithm in ALGORITHMS:
                values = [c.ratios[(algorithm, score)] for c in members]
                cells.append(f"{statistics.median(values):.4f} / {max(values):.4f}")
            out.append(
                f"  {kind:<9} {granularity:<4} {score:<6} ({len(members)} cases): "
                + "   ".join(cells)
            )
        for score in ("noise", "felt"):
            ours = [c.ratios[("ours", score)] for c in members]
            lpt = [c.ratios[("least_duration", score)] for c in members]
            better = sum(1 for a, b in zip(ours, lpt, strict=True) if a < b - 1e-9)
            losses = sum(1 for a, b in zip(ours, lpt, strict=True) if a > b + 1e-9)
            out.append(
                f"  {kind:<9} {granularity:<4} {score}: ours better than least_duration in "
                f"{better} cases, worse in {losses}, mean ratio {statistics.fmean(ours):.4f} "
                f"vs {statistics.fmean(lpt):.4f}"
            )
        for algorithm in ALGORITHMS:
            split = [c.split_files[algorithm] for c in members]
            out.append(
                f"  {kind:<9} {granularity:<4} {algorithm}: empty shards "
                f"{sum(c.empty[algorithm] for c in members)}, cases with an empty shard "
                f"{sum(1 for c in members if c.empty[algorithm])}, split files median "
                f"{statistics.median(split):.0f}"
            )
    worse = [
        c
        for c in cases
        if c.ratios[("ours", "stored")] > c.ratios[("least_duration", "stored")] * (1 + 1e-9)
    ]
    over = [
        c
        for c in cases
        if c.real and c.granularity == "test" and c.ratios[("ours", "stored")] > 1.005
    ]
    out.append("")
    out.append(f"Target 1: ours worse than least_duration on stored timings: {len(worse)} cases")
    out.extend("  " + _line(c) for c in worse)
    out.append(
        f"Target 2: ours over 1.005 x LB at test granularity on real suites: {len(over)} cases"
    )
    out.extend("  " + _line(c) for c in over)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help=f"k in {QUICK_KS} instead of 2..64")
    parser.add_argument("--timings-dir", type=Path, default=TIMINGS_DIR)
    parser.add_argument("--no-synthetic", action="store_true", help="only the stored suites")
    parser.add_argument("--quiet", action="store_true", help="only the summary")
    args = parser.parse_args(argv)
    ks = QUICK_KS if args.quick else tuple(range(2, 65))
    suites = [(s, True) for s in real_suites(args.timings_dir)]
    if not args.no_synthetic:
        suites += [(s, False) for s in synthetic_suites()]
    print("columns per score: " + " ".join(ALGORITHMS) + "  (makespan / lower bound)")
    cases: list[Case] = []
    for suite, real in suites:
        fixtures = _fixture_costs(suite)
        for granularity in ("test", "file"):
            for k in ks:
                case = run_case(suite, real, k, granularity, fixtures)
                cases.append(case)
                if not args.quiet:
                    print(_line(case), flush=True)
    for line in summarise(cases):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
