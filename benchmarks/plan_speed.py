"""Plan speed: how long ``make_plan`` takes for 1k, 10k, 100k and 1M synthetic tests.

The suites have three lanes: ``integration`` (a path glob, fanned out over two backends, so its
tests are planned twice), ``serial`` (a marker, sequential) and the default lane; 10% of the tests
have no timing (estimated). Only ``make_plan`` is timed: building the suite is not. Small sizes
report the median of a few repeats.

Run: ``.venv/bin/python benchmarks/plan_speed.py [--quick] [--sizes 1000 10000 ...]``.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from collections.abc import Sequence

from _corpus import synthetic_suite

from shard_action.core.config import Config, LaneConfig
from shard_action.core.models import Timings
from shard_action.core.planner import make_plan

SIZES = (1_000, 10_000, 100_000, 1_000_000)
TARGETS = {100_000: 1.0, 1_000_000: 15.0}
CONFIG = Config(
    shards="auto",
    max_shards=64,
    shard_overhead=30.0,
    lanes=[
        LaneConfig(name="integration", paths=["tests/integration/**"], backends=["sqlite", "pg"]),
        LaneConfig(name="serial", markers=["serial"], mode="sequential"),
    ],
)


def _repeats(size: int, quick: bool) -> int:
    if quick or size >= 1_000_000:
        return 1
    return 5 if size <= 10_000 else 3


def measure(size: int, repeats: int) -> tuple[float, int, int]:
    suite = synthetic_suite(f"speed-{size}", size, seed=size, markers={"serial": 0.002})
    durations = {t.id: suite.run1[t.id] for i, t in enumerate(suite.tests) if i % 10 != 0}
    timings = Timings(durations=durations)
    seconds: list[float] = []
    shards = planned = 0
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        plan = make_plan(CONFIG, suite.tests, timings, mode="parallel", mode_reason="bench")
        seconds.append(time.perf_counter() - start)
        shards, planned = plan.totals.shards, plan.totals.tests
        del plan
    return statistics.median(seconds), shards, planned


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--quick", action="store_true", help="one repeat per size")
    args = parser.parse_args(argv)
    print(f"{'tests':>9} {'planned':>9} {'shards':>6} {'seconds':>8} {'growth':>7} {'per test':>9}")
    previous: tuple[int, float] | None = None
    failed = []
    for size in args.sizes:
        seconds, shards, planned = measure(size, _repeats(size, args.quick))
        growth = ""
        if previous is not None:
            growth = f"{seconds / previous[1]:.1f}x/{size / previous[0]:.0f}x"
        print(
            f"{size:>9} {planned:>9} {shards:>6} {seconds:>8.3f} {growth:>7} "
            f"{seconds / planned * 1e6:>7.2f}us",
            flush=True,
        )
        target = TARGETS.get(size)
        if target is not None and seconds > target:
            failed.append(f"{size} tests took {seconds:.2f} s (target {target} s)")
        previous = (size, seconds)
    for line in failed:
        print(f"over target: {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
