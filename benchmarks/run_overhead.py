"""What ``shard-action run`` adds around a bare ``pytest`` on the same files, for real.

The suite is networkx's own (``shard_overhead.py``'s scratch copy: cold bytecode,
``PYTHONDONTWRITEBYTECODE=1``, ``PYTHONHASHSEED=0``). One plan at file granularity without
timings (``--shards K``), so every shard holds whole files and a bare ``pytest FILES`` runs
exactly the shard's tests. For each of the first ``--shards-measured`` shards, ``--repeats``
times, alternating who goes first:

* **ours**: ``shard-action run --plan plan.json --shard ID --root suite --results DIR``;
* **bare**: ``python -m pytest --junitxml=DIR/junit.xml -o junit_family=xunit1 FILES`` (under
  ``python -m coverage run --parallel-mode`` when ``--coverage``; ours then runs with its
  ``coverage`` setting, which also combines/saves the shard's data).

Both load ``_shard_probe``, which stamps when pytest loaded its plugins, the first test's start,
the last test's end and pytest's unconfigure. Reported (medians over every run, seconds):
``launch`` (process start -> plugins loaded: our CLI, reading the plan, writing the selection,
starting pytest), ``collect`` (-> first test), ``tests`` (first start -> last end), ``finish``
(last end -> process exit: pytest's session end, JUnit, our events/manifest/coverage save), and
``overhead`` = wall - tests, whose ours - bare difference is our cost per shard without the
test phase's run-to-run noise (the per-test events we write are inside ``tests``; the whole
wall difference is printed too), and ``cpu`` (user + system seconds of the process tree,
which a loaded machine barely moves: our own cost in CPU).

Run: ``.venv/bin/python benchmarks/run_overhead.py [--coverage] [--repeats 5] [--shards 16]``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import shard_overhead as nx

from shard_action.core.plan import Plan
from shard_action.core.selection import files_in_order


@dataclass(frozen=True)
class Phases:
    tool: str
    shard: str
    wall: float
    launch: float
    collect: float
    tests: float
    finish: float
    ran: int
    code: int
    cpu: float = 0.0
    """User + system seconds of the whole process tree: unlike the wall, barely moved by the
    machine's load, so ours - bare in CPU is our own cost even on a shared machine."""

    @property
    def overhead(self) -> float:
        return self.wall - self.tests


def make_plan(layout: nx.Layout, shards: int, coverage: bool) -> Plan:
    layout.config.write_text(
        f"coverage = {'true' if coverage else 'false'}\n"
        "reruns = 0\n"
        "shard-overhead = 0\n"
        'granularity = "file"\n'
        "split-files = false\n"
        f'collect-args = ["{nx.SUITE}"]\n',
        "utf-8",
    )
    command = [
        *nx.shard_action_command(),
        "plan",
        "--root",
        str(layout.suite),
        "--config",
        str(layout.config),
        "--shards",
        str(shards),
        "--out",
        str(layout.plan.parent),
    ]
    log = layout.log("plan")
    env = nx.child_env(layout, None, False)
    if nx.run_timed(command, cwd=layout.suite, env=env, log=log) != 0:
        raise SystemExit(f"shard-action plan failed; see {log}")
    return Plan.model_validate_json(layout.plan.read_text("utf-8"))


def run_one(layout: nx.Layout, tool: str, shard_id: str, files: Sequence[str], tag: str) -> Phases:
    results = layout.work / "results" / tool / shard_id
    results.mkdir(parents=True, exist_ok=True)
    probe = layout.probe_out(f"{tag}-{tool}-{shard_id}")
    probe.unlink(missing_ok=True)
    env = nx.child_env(layout, probe, stop=False)
    if tool == "ours":
        command = nx.ours_command(layout, shard_id, results)
    else:
        if layout.coverage:
            env["COVERAGE_FILE"] = str(results / ".coverage")
        command = [
            *nx.pytest_command(layout.coverage),
            "-p",
            nx.PROBE_MODULE,
            f"--junitxml={results / 'junit.xml'}",
            *nx.JUNIT_ARGS,
            *files,
        ]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    code = nx.run_timed(command, cwd=layout.suite, env=env, log=layout.log(f"{tag}-{tool}"))
    ended = time.monotonic()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    records = nx.parse_probe(probe.read_text("utf-8")) if probe.is_file() else []
    if len(records) != 1 or records[0].first is None or records[0].last is None:
        raise SystemExit(f"{tool} {shard_id}: no probe record (exit {code}); see the log")
    rec = records[0]
    assert rec.first is not None and rec.last is not None
    return Phases(
        tool=tool,
        shard=shard_id,
        wall=ended - started,
        launch=rec.loaded - started,
        collect=rec.first - rec.loaded,
        tests=rec.last - rec.first,
        finish=ended - rec.last,
        ran=len(rec.ids),
        code=code,
        cpu=cpu,
    )


def report(runs: Sequence[Phases], coverage: bool) -> list[str]:
    fields = ("launch", "collect", "tests", "finish", "overhead", "wall", "cpu")

    def med(tool: str, name: str) -> float:
        return float(statistics.median(getattr(r, name) for r in runs if r.tool == tool))

    ours = [r for r in runs if r.tool == "ours"]
    bare = [r for r in runs if r.tool == "bare"]
    rows = []
    for name in fields:
        paired = [getattr(a, name) - getattr(b, name) for a, b in zip(ours, bare, strict=True)]
        rows.append(
            [
                name,
                f"{med('ours', name):.3f}",
                f"{med('bare', name):.3f}",
                f"{statistics.median(paired):+.3f}",
                f"{min(paired):+.3f} .. {max(paired):+.3f}",
            ]
        )
    header = ["median seconds", "ours", "bare pytest", "ours - bare (paired)", "range"]
    ran = {(r.tool, r.shard): r.ran for r in runs}
    same = all(ran[("ours", s)] == ran[("bare", s)] for _, s in ran)
    counts = ", ".join(f"{t} {s}: {n}" for (t, s), n in sorted(ran.items()))
    codes = sorted({r.code for r in runs})
    setting = "on (ours: its setting; bare: coverage run --parallel-mode)" if coverage else "off"
    return [
        f"coverage {setting}",
        nx.table(header, rows),
        f"tests run per shard the same in both: {same} ({counts}); exit codes {codes}; "
        f"{len(ours)} runs each",
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shards", type=int, default=16, help="shards in the plan (default 16)")
    parser.add_argument(
        "--shards-measured", type=int, default=3, help="how many of them to run (default 3)"
    )
    parser.add_argument("--repeats", type=int, default=5, help="runs per shard and tool")
    parser.add_argument("--coverage", action="store_true", help="both under coverage.py")
    parser.add_argument("--work", type=Path, help="scratch folder, kept (default: a temp folder)")
    args = parser.parse_args(argv)
    source, version = nx.installed_suite()
    with tempfile.TemporaryDirectory(prefix="run-overhead-") as tmp:
        work = args.work.resolve() if args.work else Path(tmp)
        layout = nx.Layout(work, args.coverage)
        nx.prepare(layout, source)
        plan = make_plan(layout, args.shards, args.coverage)
        chosen = plan.shards[: args.shards_measured]
        print(
            f"suite: {nx.SUITE} {version}, plan of {len(plan.shards)} shards at file "
            f"granularity; measuring {len(chosen)} of them ("
            + ", ".join(
                f"{s.id}: {len(s.tests)} tests in {len(files_in_order(s.tests))} files"
                for s in chosen
            )
            + f"), {args.repeats} repeats; {os.cpu_count()} cores, load average "
            f"{os.getloadavg()[0]:.2f}",
            flush=True,
        )
        runs: list[Phases] = []
        for repeat in range(args.repeats):
            for index, shard in enumerate(chosen):
                files = files_in_order(shard.tests)
                tools = ("ours", "bare") if (repeat + index) % 2 == 0 else ("bare", "ours")
                pair = {t: run_one(layout, t, shard.id, files, f"r{repeat}") for t in tools}
                runs += [pair["ours"], pair["bare"]]
                print(
                    f"  repeat {repeat + 1} {shard.id}: ours {pair['ours'].wall:.2f} s, "
                    f"bare {pair['bare'].wall:.2f} s",
                    flush=True,
                )
        print("\n".join(report(runs, args.coverage)))
        print(f"load average at the end {os.getloadavg()[0]:.2f}")
        if args.work:
            print(json.dumps({"work": str(work)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
