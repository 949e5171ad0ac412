"""Plan speed: how long ``make_plan`` takes for 1k, 10k, 100k and 1M synthetic tests.

The suites have three lanes: ``integration`` (a path glob, fanned out over two backends, so its
tests are planned twice), ``serial`` (a marker, sequential) and the default lane; 10% of the tests
have no timing (estimated). Only ``make_plan`` is timed: building the suite is not. Small sizes
report the median of a few repeats.

Run: ``.venv/bin/python benchmarks/plan_speed.py [--quick] [--sizes 1000 10000 ...]``.

``--command`` times the whole ``shard-action plan`` command instead, on networkx's own suite (the
scratch copy of ``shard_overhead.py``: cold bytecode, ``PYTHONDONTWRITEBYTECODE=1``), beside a
bare ``pytest --collect-only`` of the same tree; variants alternate within each repeat:

* ``pytest --collect-only -qq networkx``, with and without ``--assert=plain``;
* ``plan --no-collect-cache`` with ``collect-args = ["networkx", "--assert=rewrite"]``: the
  command as it was before collection ran with plain asserts (the user's argument wins);
* ``plan --no-collect-cache``: today's cold plan;
* ``plan`` with the collection cache filled by an earlier run (the tree unchanged).
"""

from __future__ import annotations

import argparse
import gc
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

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


def command_speed(repeats: int, work: Path) -> list[str]:
    """Wall time of each variant of collecting / planning networkx, median of ``repeats``."""
    import shard_overhead as nx  # noqa: PLC0415 - only this mode needs the networkx scratch copy

    source, version = nx.installed_suite()
    layout = nx.Layout(work, coverage=False)
    nx.prepare(layout, source)
    before = work / "before.toml"
    before.write_text(
        layout.config.read_text("utf-8").replace(
            '["networkx"]', '["networkx", "--assert=rewrite"]'
        ),
        "utf-8",
    )
    env = nx.child_env(layout, None, False)
    pytest = [sys.executable, "-m", "pytest", "--collect-only", "-qq", "-p", "no:cacheprovider"]

    def plan(config: Path, *flags: str) -> list[str]:
        return [
            *nx.shard_action_command(),
            "plan",
            "--root",
            str(layout.suite),
            "--config",
            str(config),
            "--shards",
            "4",
            "--out",
            str(work / "plan"),
            *flags,
        ]

    variants = {
        "pytest --collect-only (assertion rewriting on)": [*pytest, "networkx"],
        "pytest --collect-only --assert=plain": [*pytest, "--assert=plain", "networkx"],
        "plan before: rewriting on, no cache": plan(before, "--no-collect-cache"),
        "plan now: no cache (cold checkout)": plan(layout.config, "--no-collect-cache"),
        "plan now: cache hit (tree unchanged)": plan(layout.config),
    }
    subprocess.run(variants["plan now: cache hit (tree unchanged)"], cwd=layout.suite, env=env,
                   capture_output=True, check=True)  # fmt: skip
    walls: dict[str, list[float]] = {name: [] for name in variants}
    for repeat in range(repeats):
        names = list(variants) if repeat % 2 == 0 else list(variants)[::-1]
        for name in names:
            started = time.monotonic()
            proc = subprocess.run(
                variants[name],
                cwd=layout.suite,
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            walls[name].append(time.monotonic() - started)
            if proc.returncode != 0:
                raise SystemExit(f"{name} failed (exit {proc.returncode}):\n{proc.stderr[-2000:]}")
        print(f"  repeat {repeat + 1}/{repeats} done", flush=True)
    width = max(len(n) for n in variants)
    base = statistics.median(walls["plan before: rewriting on, no cache"])
    lines = [
        f"networkx {version}, {repeats} repeat(s), cold bytecode; wall seconds "
        f"(median, each run, median / plan before)",
    ]
    for name, values in walls.items():
        middle = statistics.median(values)
        each = " ".join(f"{v:.2f}" for v in values)
        lines.append(f"{name:<{width}}  {middle:6.2f}  [{each}]  {middle / base:.2f}")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--quick", action="store_true", help="one repeat per size")
    parser.add_argument(
        "--command", action="store_true", help="time the whole plan command on networkx instead"
    )
    parser.add_argument("--repeats", type=int, default=5, help="--command: repeats (default 5)")
    args = parser.parse_args(argv)
    if args.command:
        with tempfile.TemporaryDirectory(prefix="plan-speed-") as tmp:
            print("\n".join(command_speed(1 if args.quick else args.repeats, Path(tmp))))
        return 0
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
