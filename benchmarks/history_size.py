"""The history file at scale: size and time at 100k tests over 50 runs, with churn.

What it does, run after run, through the same functions the report uses
(``core.history.update_tests`` and ``with_run``, ``adapters.history_file``):

* ``--tests`` tests (default 100,000) in 20 lanes; each run measures every test with a seeded
  random duration around its own base (log-normal, sigma 0.3), 0.5% of tests flaky, and 1% of
  them *renamed* each run (a new id replaces an old one), so old records have to age out;
* a run record with every trend field filled (test time, shards, tier, 10 slowest, bottleneck);
* after each run the history is written and read back, as the next plan would.

It prints, per tenth of the runs: records kept, runs kept, file size (raw and gzipped, which is
what the artifact costs), bytes per record, and the time to update, write and read. The limits
(``core.history.Limits``) are what keep it bounded: 5 samples and 20 outcomes per test, 100
runs, a test not seen for 30 runs is pruned.

Run: ``.venv/bin/python benchmarks/history_size.py [--tests N] [--runs N] [--seed N]``; the
default run takes about 5 minutes on 2 cores. Figures: ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import gzip
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from shard_action.adapters.history_file import read_history, write_history
from shard_action.core.history import (
    MAX_SLOWEST,
    Bottleneck,
    History,
    Letter,
    Limits,
    Observed,
    RunRecord,
    update_tests,
    with_run,
)
from shard_action.core.mode import ModeState
from shard_action.core.trends import slowest, trends_of

LANES = 20
RENAMED = 0.01
FLAKY = 0.005


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tests", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    limits = Limits()
    names = [f"tests/pkg{i % 500}/test_mod{i % 97}.py::test_case_{i}" for i in range(args.tests)]
    base = [rng.lognormvariate(-2.0, 1.2) for _ in names]
    next_id = args.tests
    history = History()
    print(f"python {platform.python_version()} on {platform.machine()}, {args.tests} tests")
    print("run  records  runs   bytes      gzip    B/record  update  write  read  trends")
    times: dict[str, list[float]] = {"update": [], "write": [], "read": [], "trends": []}
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "history.json"
        for index in range(1, args.runs + 1):
            for _ in range(int(args.tests * RENAMED)):  # churn: renamed tests
                victim = rng.randrange(args.tests)
                names[victim] = f"tests/renamed/test_new.py::test_case_{next_id}"
                next_id += 1
            observed = []
            for i, name in enumerate(names):
                seconds = base[i] * rng.lognormvariate(0.0, 0.3)
                letter: Letter = "F" if rng.random() < FLAKY else "p"
                observed.append(Observed(f"lane{i % LANES}", name, letter, seconds))
            started = time.perf_counter()
            tests = update_tests(history, observed, index=index, serial=False, limits=limits)
            run = RunRecord(
                index=index,
                mode="parallel",
                tests=len(observed),
                flaky=sum(o.letter == "F" for o in observed),
                flaky_rate=FLAKY,
                seconds=600.0,
                test_seconds=sum(o.seconds or 0.0 for o in observed),
                shards=32,
                tier="full",
                sha=f"{index:040x}",
                slowest=slowest([(o.lane, o.test, o.seconds) for o in observed], MAX_SLOWEST),
                bottleneck=Bottleneck(kind="shard", shard="lane0-1", seconds=600.0, part=590.0),
                flaky_tests=[o.test for o in observed if o.letter == "F"],
            )
            history = with_run(
                history,
                run,
                tests,
                mode=ModeState(mode="parallel", reason="benchmark"),
                limits=limits,
            )
            updated = time.perf_counter()
            write_history(path, history)
            written = time.perf_counter()
            history = read_history(path)
            read = time.perf_counter()
            trends_of(history)
            done = time.perf_counter()
            for key, value in (
                ("update", updated - started),
                ("write", written - updated),
                ("read", read - written),
                ("trends", done - read),
            ):
                times[key].append(value)
            if index == 1 or index % max(1, args.runs // 10) == 0 or index == args.runs:
                raw = path.read_bytes()
                records = sum(len(t) for t in history.tests.values())
                print(
                    f"{index:>3}  {records:>7}  {len(history.runs):>4}  {len(raw):>9,}  "
                    f"{len(gzip.compress(raw)):>9,}  {len(raw) / records:>8.0f}  "
                    f"{updated - started:>5.2f}s  {written - updated:>4.2f}s  "
                    f"{read - written:>4.2f}s  {done - read:>5.2f}s",
                    flush=True,
                )
    print(
        "median per run: "
        + ", ".join(f"{key} {statistics.median(v):.2f} s" for key, v in times.items())
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
