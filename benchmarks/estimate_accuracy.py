"""First run without history: how far the estimated suite time is from the measured one.

For each suite given as ``NAME=ROOT:DURATIONS`` (a project folder holding the test files, and a
pytest-split durations file of one serial run of its suite, ``{node id: seconds}``), the planner
is run on the measured ids with no timings at all, as on a project's first run, once with the
old fixed 1 s per test (``default-duration = 1``) and once with the source-size estimate
(``core.estimate``); both totals are set beside the measured total. The files' sizes come from
ROOT exactly as ``shard-action plan`` reads them.

Run (the suites' own sdists, their serial durations; see docs/benchmarks.md for the commands
that made the durations)::

    .venv/bin/python benchmarks/estimate_accuracy.py click=/tmp/cal/click-8.5.1:dur.json ...

``DURATIONS`` may be gzipped (``.gz``); a relative ``DURATIONS`` is relative to ROOT.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import statistics
from pathlib import Path

from shard_action.adapters.collect import file_sizes
from shard_action.core.config import Config
from shard_action.core.models import TestItem, Timings
from shard_action.core.planner import make_plan


def _durations(path: Path) -> dict[str, float]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        data = json.load(handle)
    return {str(k): float(v) for k, v in data.items()}


def _estimated_total(config: Config, tests: list[TestItem], sizes: dict[str, int]) -> float:
    plan = make_plan(
        config, tests, Timings(), mode="parallel", mode_reason="benchmark", file_bytes=sizes
    )
    return plan.totals.seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("suites", nargs="+", metavar="NAME=ROOT:DURATIONS")
    args = parser.parse_args()
    header = (
        f"{'suite':<12} {'tests':>6} {'files':>5} {'measured s':>10} "
        f"{'1 s/test':>9} {'ratio':>8} {'estimate':>9} {'ratio':>6}"
    )
    print(header)
    print("-" * len(header))
    logs: list[float] = []
    for spec in args.suites:
        name, _, rest = spec.partition("=")
        root_text, _, dur_text = rest.partition(":")
        root = Path(root_text)
        dur_path = Path(dur_text) if Path(dur_text).is_absolute() else root / dur_text
        durations = _durations(dur_path)
        tests = [TestItem(id=i, file=i.split("::", 1)[0]) for i in sorted(durations)]
        sizes = file_sizes(root, tests)
        tests = [t for t in tests if t.file in sizes]  # ids whose file is not in ROOT: left out
        measured = math.fsum(durations[t.id] for t in tests)
        old = _estimated_total(Config(shards=1, default_duration=1.0), tests, sizes)
        new = _estimated_total(Config(shards=1), tests, sizes)
        logs.append(math.log(new / measured))
        print(
            f"{name:<12} {len(tests):>6} {len(sizes):>5} {measured:>10.1f} {old:>9.0f} "
            f"{old / measured:>7.0f}x {new:>9.1f} {new / measured:>5.2f}x"
        )
    worst = math.exp(max(abs(v) for v in logs))
    centre = math.exp(statistics.mean(logs))
    print(f"estimate / measured: geometric mean {centre:.2f}x, worst {worst:.1f}x either way")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
