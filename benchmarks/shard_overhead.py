"""Shard start-up and executed makespan: ``shard-action run`` against pytest-split, for real.

The suite is networkx's own test suite, which ships inside its wheel (pinned in the ``bench``
extra), or with ``--suite scipy`` scipy's, whose test files import heavy subpackages
(``_suites.py``). The installed package is copied into a scratch project (``suite/networkx``
plus an empty ``pytest.ini`` that fixes the rootdir), so both tools see the same node ids; the
copy has no bytecode and every process runs with ``PYTHONDONTWRITEBYTECODE=1``, so each shard
starts cold, as a CI job on a fresh checkout does. ``PYTHONHASHSEED=0`` for every process.

1. **Durations**: one serial run of the whole suite with pytest-split's ``--store-durations``
   (``{node id: seconds}``, setup + call + teardown). Both tools plan from this one file.
2. **Plans**: ``shard-action plan --shards 4`` (config: coverage off, re-runs off, overhead 0,
   ``collect-args = ["networkx"]``); pytest-split makes its plan in every shard with
   ``--splits 4 --group N --splitting-algorithm least_duration`` over the same file.
3. **Start-up**: each shard of each tool is started ``--startup-repeats`` times; a small plugin
   (``_shard_probe.py``, loaded into both) stamps the first test's start and ends the process
   there. Start-up = first test start - the moment the benchmark started the tool's process: for
   us that includes the ``shard-action`` CLI, reading ``plan.json`` and starting pytest on the
   shard's files; for pytest-split, collecting the whole suite and deselecting.
4. **Makespan**: the four shards of each tool run to the end one after another (never at the
   same time: 2 cores), ``--repeats`` times; wall = process start to exit, makespan = the largest
   wall. Both write JUnit XML. Every run is checked: each test ran exactly once over the shards.

Ours and pytest-split's runs alternate (and swap order each repeat) so drift hits both alike.

Run: ``.venv/bin/python benchmarks/shard_overhead.py [--quick] [--repeats N]``; the full run takes
about 30 minutes on 2 cores, ``--quick`` about 12. Figures: ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Literal

from _suites import ENV as THREADS
from _suites import PINNED, copy_suite, installed

from shard_action.core.plan import Plan
from shard_action.core.selection import files_in_order

SUITE = "networkx"
"""The suite (``--suite``): a key of ``_suites.PINNED``."""
SHARDS = 4
"""k; ``--shards K...`` runs the makespan part once per k (set before each)."""
TARGET = SUITE
"""What both tools collect: the package, or a part of it (``--subset``)."""
EXTRA_CONFIG = ""
"""More lines for our config (``--workers``, ``--python``, ``--coverage-core``)."""
OURS_ONLY = False
SEED = True
"""Seed the global random states per test in both tools (``_shard_probe.seed_for``);
``--no-seed`` leaves a test's randomness to whatever ran before it."""
ALGORITHM = "least_duration"
PROBE_MODULE = "_shard_probe"
PROBE_FILE = Path(__file__).resolve().with_name(PROBE_MODULE + ".py")
JUNIT_ARGS = ("-o", "junit_family=xunit1")
STOP_GRACE = 10.0

Tool = Literal["ours", "pytest-split"]
TOOLS: tuple[Tool, ...] = ("ours", "pytest-split")


# -- what the probe wrote --------------------------------------------------------------------


@dataclass(frozen=True)
class ProbeRecord:
    """One pytest process as ``_shard_probe`` saw it (``time.monotonic()`` stamps)."""

    loaded: float
    collected_at: float | None
    collected_items: int
    selected: int
    first: float | None
    last: float | None
    ids: tuple[str, ...]
    outcomes: Mapping[str, str]
    module_file: str | None
    finished: float | None = None
    """When pytest unconfigured (JUnit written): the rest of the wall is process exit."""

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ProbeRecord:
        def stamp(key: str) -> float | None:
            value = data.get(key)
            return None if value is None else float(value)

        return cls(
            loaded=float(data["loaded"]),
            collected_at=stamp("collected_at"),
            collected_items=int(data.get("collected_items", 0)),
            selected=int(data.get("selected", 0)),
            first=stamp("first"),
            last=stamp("last"),
            ids=tuple(str(i) for i in data.get("ids", ())),
            outcomes={str(k): str(v) for k, v in dict(data.get("outcomes", {})).items()},
            module_file=data.get("module_file"),
            finished=stamp("finished"),
        )


def parse_probe(text: str) -> list[ProbeRecord]:
    """One record per line; a line cut short by a killed process is skipped."""
    records = []
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except ValueError:
            continue
        records.append(ProbeRecord.from_json(data))
    return records


@dataclass(frozen=True)
class ShardRun:
    """One shard of one tool, started by the benchmark at ``started`` and ended at ``ended``."""

    tool: Tool
    shard: int
    started: float
    ended: float
    returncode: int
    records: tuple[ProbeRecord, ...]
    load: float | None = None
    """The 1-minute load average when the shard ended (the machine is shared)."""

    @property
    def wall(self) -> float:
        return self.ended - self.started

    @property
    def startup(self) -> float | None:
        """Process start to the first test's start (``None``: no test started)."""
        firsts = [r.first for r in self.records if r.first is not None]
        return min(firsts) - self.started if firsts else None

    @property
    def launch(self) -> float | None:
        """Process start to pytest having imported its plugins (before any collection)."""
        return min(r.loaded for r in self.records) - self.started if self.records else None

    @property
    def tests_seconds(self) -> float | None:
        """First test's start to the last test's end: the part the plan balances."""
        firsts = [r.first for r in self.records if r.first is not None]
        lasts = [r.last for r in self.records if r.last is not None]
        return max(lasts) - min(firsts) if firsts and lasts else None

    @property
    def finish(self) -> float | None:
        """Last test's end to pytest's unconfigure: session end, JUnit (and nothing of ours)."""
        lasts = [r.last for r in self.records if r.last is not None]
        done = [r.finished for r in self.records if r.finished is not None]
        return max(done) - max(lasts) if lasts and done else None

    @property
    def exit(self) -> float | None:
        """pytest's unconfigure to the tool's exit: interpreter exit, coverage save, and for
        us the runner reading the events and writing the manifest."""
        done = [r.finished for r in self.records if r.finished is not None]
        return self.ended - max(done) if done else None

    @property
    def ids(self) -> list[str]:
        return [i for r in self.records for i in r.ids]

    @property
    def outcomes(self) -> Counter[str]:
        return Counter(o for r in self.records for o in r.outcomes.values())


# -- pure helpers ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Bound:
    """``LB = max(total / k, longest test)``: no k-shard plan finishes sooner."""

    per_shard: float
    longest: float

    @property
    def value(self) -> float:
        return max(self.per_shard, self.longest)


def lower_bound(durations: Iterable[float], k: int) -> Bound:
    values = list(durations)
    return Bound(sum(values) / k, max(values, default=0.0))


def exactly_once(shards: Iterable[Sequence[str]], expected: Iterable[str]) -> tuple[int, int, int]:
    """(missing, run more than once, run but not expected) over the shards of one plan run."""
    counts = Counter(i for ids in shards for i in ids)
    wanted = set(expected)
    missing = sum(1 for i in wanted if i not in counts)
    twice = sum(1 for n in counts.values() if n > 1)
    unexpected = sum(1 for i in counts if i not in wanted)
    return missing, twice, unexpected


def predicted(groups: Iterable[Sequence[str]], durations: Mapping[str, float]) -> list[float]:
    """Each group's sum of stored durations (a test with none counts 0)."""
    return [sum(durations.get(i, 0.0) for i in ids) for ids in groups]


def median(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def ratio(ours: float | None, theirs: float | None) -> str:
    if ours is None or not theirs:
        return "-"
    return f"{ours / theirs:.2f}"


def seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Columns padded to their widest cell; the first column left-aligned, the rest right."""
    widths = [max(len(str(row[c])) for row in [header, *rows]) for c in range(len(header))]

    def line(row: Sequence[str]) -> str:
        cells = [
            str(cell).ljust(widths[c]) if c == 0 else str(cell).rjust(widths[c])
            for c, cell in enumerate(row)
        ]
        return "  ".join(cells).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), rule, *(line(row) for row in rows)])


# -- the scratch project ---------------------------------------------------------------------


@dataclass(frozen=True)
class Layout:
    work: Path
    coverage: bool

    @property
    def suite(self) -> Path:
        return self.work / "suite"

    @property
    def probe_dir(self) -> Path:
        return self.work / "probe"

    @property
    def durations(self) -> Path:
        return self.work / "durations.json"

    @property
    def config(self) -> Path:
        return self.work / "shard-action.toml"

    @property
    def plan(self) -> Path:
        return self.work / "plan" / "plan.json"

    def results(self, tool: Tool, shard: int) -> Path:
        return self.work / "results" / tool / str(shard)

    def log(self, name: str) -> Path:
        path = self.work / "logs" / f"{name}.log"
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def probe_out(self, name: str) -> Path:
        path = self.work / "probe-out" / f"{name}.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        return path


def installed_suite() -> tuple[Path, str]:
    """The installed :data:`SUITE` and its version (also used by run_overhead and plan_speed)."""
    return installed(SUITE)


def prepare(layout: Layout, source: Path) -> None:
    """The scratch project: the package copied without bytecode, a rootdir, our config."""
    if layout.suite.exists():
        shutil.rmtree(layout.suite)
    copy_suite(SUITE, source, layout.suite)
    (layout.suite / "pytest.ini").write_text("[pytest]\n", "utf-8")
    layout.probe_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(PROBE_FILE, layout.probe_dir / PROBE_FILE.name)
    layout.config.write_text(
        f"coverage = {'true' if layout.coverage else 'false'}\n"
        "reruns = 0\n"
        "shard-overhead = 0\n"
        f'collect-args = ["{TARGET}"]\n' + EXTRA_CONFIG,
        "utf-8",
    )


def child_env(layout: Layout, probe: Path | None, stop: bool) -> dict[str, str]:
    """The same environment for both tools; settings of the caller's own runs are left out."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SHARD_ACTION_", "SHARD_BENCH_", "PYTEST_", "COVERAGE_"))
    }
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["PYTHONHASHSEED"] = "0"
    env.update(THREADS)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(layout.probe_dir), os.environ.get("PYTHONPATH", "")) if p
    )
    env["SHARD_BENCH_MODULE"] = SUITE
    env["SHARD_BENCH_SEED"] = "1" if SEED else "0"
    if probe is not None:
        env["SHARD_BENCH_PROBE"] = str(probe)
        env["SHARD_BENCH_PROBE_STOP"] = "1" if stop else "0"
    return env


def shard_action_command() -> list[str]:
    script = Path(sys.executable).with_name("shard-action")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "shard_action"]


def pytest_command(coverage: bool) -> list[str]:
    if coverage:
        return [sys.executable, "-m", "coverage", "run", "--parallel-mode", "-m", "pytest"]
    return [sys.executable, "-m", "pytest"]


def run_timed(command: Sequence[str], *, cwd: Path, env: Mapping[str, str], log: Path) -> int:
    """Run to the end with output to ``log``; interrupted, the tool is asked to stop first.

    Every tool's process starts a session of its own. Linux's autogroup scheduler
    (``/proc/sys/kernel/sched_autogroup_enabled``) shares the CPU between sessions, not
    processes, and ``shard-action run`` starts its pytest in a new session (to kill the whole
    group on a timeout): without this, on a loaded machine our pytest got a session's share
    while pytest-split's shared the benchmark's session with everything else it started
    (measured: the same shard, the same 7.0 s of CPU, 13.4 s of wall for ours against 22.9 s
    for a bare pytest). ``shard-action run`` turns SIGTERM into stopping its own runner's
    process group, which a SIGKILL to it would leave running.
    """
    with log.open("w", encoding="utf-8") as out:
        proc = subprocess.Popen(
            command, cwd=cwd, env=dict(env), stdout=out, stderr=out, start_new_session=True
        )
        try:
            return proc.wait()
        except BaseException:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=STOP_GRACE)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            raise


def make_durations(layout: Layout) -> float:
    """One serial run of the whole suite with pytest-split's ``--store-durations``."""
    command = [
        *pytest_command(coverage=False),
        "-p",
        PROBE_MODULE,
        "--store-durations",
        "--clean-durations",
        "--durations-path",
        str(layout.durations),
        TARGET,
    ]
    started = time.monotonic()
    log = layout.log("durations")
    code = run_timed(command, cwd=layout.suite, env=child_env(layout, None, False), log=log)
    if code != 0 or not layout.durations.is_file():
        raise SystemExit(f"the serial durations run failed (exit {code}); see {log}")
    return time.monotonic() - started


def make_plan(layout: Layout) -> Plan:
    command = [
        *shard_action_command(),
        "plan",
        "--root",
        str(layout.suite),
        "--config",
        str(layout.config),
        "--timings",
        str(layout.durations),
        "--shards",
        str(SHARDS),
        "--out",
        str(layout.plan.parent),
    ]
    log = layout.log("plan")
    code = run_timed(command, cwd=layout.suite, env=child_env(layout, None, False), log=log)
    if code != 0:
        raise SystemExit(f"shard-action plan failed (exit {code}); see {log}")
    return Plan.model_validate_json(layout.plan.read_text("utf-8"))


def ours_command(layout: Layout, shard_id: str, results: Path) -> list[str]:
    """`shard-action run` of one shard with the probe, as both overhead benchmarks run it."""
    return [
        *shard_action_command(),
        "run",
        "--plan",
        str(layout.plan),
        "--shard",
        shard_id,
        "--root",
        str(layout.suite),
        "--results",
        str(results),
        "--",
        "-p",
        PROBE_MODULE,
    ]


def tool_command(layout: Layout, tool: Tool, shard: int, shard_id: str) -> list[str]:
    results = layout.results(tool, shard)
    results.mkdir(parents=True, exist_ok=True)
    if tool == "ours":
        return ours_command(layout, shard_id, results)
    return [
        *pytest_command(layout.coverage),
        "-p",
        PROBE_MODULE,
        f"--junitxml={results / 'junit.xml'}",
        *JUNIT_ARGS,
        "--splits",
        str(SHARDS),
        "--group",
        str(shard),
        "--splitting-algorithm",
        ALGORITHM,
        "--durations-path",
        str(layout.durations),
        TARGET,
    ]


def run_shard(
    layout: Layout, tool: Tool, shard: int, shard_id: str, *, stop: bool, tag: str
) -> ShardRun:
    name = f"{tag}-{tool}-{shard}"
    probe = layout.probe_out(name)
    probe.unlink(missing_ok=True)
    env = child_env(layout, probe, stop)
    if tool == "pytest-split" and layout.coverage:
        env["COVERAGE_FILE"] = str(layout.results(tool, shard) / ".coverage")
    command = tool_command(layout, tool, shard, shard_id)
    started = time.monotonic()
    code = run_timed(command, cwd=layout.suite, env=env, log=layout.log(name))
    ended = time.monotonic()
    records = parse_probe(probe.read_text("utf-8")) if probe.is_file() else []
    return ShardRun(tool, shard, started, ended, code, tuple(records), os.getloadavg()[0])


def load_averages() -> str:
    """The 1, 5 and 15-minute load averages, as ``uptime`` prints them."""
    return ", ".join(f"{v:.2f}" for v in os.getloadavg())


def load_summary(runs: Sequence[ShardRun]) -> str:
    """The 1-minute load average at the shards' ends: median and range."""
    loads = [r.load for r in runs if r.load is not None]
    if not loads:
        return "load average: -"
    return (
        f"load average (1 min) at the shards' ends: median {statistics.median(loads):.2f}, "
        f"{min(loads):.2f}-{max(loads):.2f}"
    )


def pairs(repeats: int) -> list[tuple[int, int, Tool]]:
    """(repeat, shard, tool) in run order: shard by shard, who goes first swaps every time."""
    order: list[tuple[int, int, Tool]] = []
    for repeat in range(repeats):
        for shard in range(1, SHARDS + 1):
            tools = TOOLS if (repeat + shard) % 2 == 0 else TOOLS[::-1]
            if OURS_ONLY:
                tools = ("ours",)
            order += [(repeat, shard, tool) for tool in tools]
    return order


def run_all(
    layout: Layout, shard_ids: Sequence[str], repeats: int, *, stop: bool, tag: str
) -> list[ShardRun]:
    runs = []
    for repeat, shard, tool in pairs(repeats):
        run = run_shard(
            layout, tool, shard, shard_ids[shard - 1], stop=stop, tag=f"{tag}{repeat + 1}"
        )
        what = f"start-up {seconds(run.startup)} s" if stop else f"wall {run.wall:.1f} s"
        print(
            f"  {tag} {repeat + 1}/{repeats} shard {shard} {tool:<12} {what} (load {run.load:.2f})",
            flush=True,
        )
        runs.append(run)
    return runs


# -- reporting -------------------------------------------------------------------------------


def _of(runs: Sequence[ShardRun], tool: Tool, shard: int | None = None) -> list[ShardRun]:
    return [r for r in runs if r.tool == tool and (shard is None or r.shard == shard)]


def startup_report(
    runs: Sequence[ShardRun], shard_files: Sequence[int], shard_tests: Sequence[int]
) -> list[str]:
    def cell(tool: Tool, shard: int | None, pick: Callable[[ShardRun], float | None]) -> float:
        value = median(pick(r) for r in _of(runs, tool, shard))
        return float("nan") if value is None else value

    rows = []
    for shard in [*range(1, SHARDS + 1), None]:
        ours = cell("ours", shard, lambda r: r.startup)
        theirs = cell("pytest-split", shard, lambda r: r.startup)
        collected = median(
            float(rec.collected_items)
            for r in _of(runs, "pytest-split", shard)
            for rec in r.records
        )
        label = "all" if shard is None else str(shard)
        files = sum(shard_files) if shard is None else shard_files[shard - 1]
        tests = sum(shard_tests) if shard is None else shard_tests[shard - 1]
        rows.append(
            [
                label,
                f"{tests}/{files}" if shard is not None else "-",
                f"{ours:.2f}",
                f"{cell('ours', shard, lambda r: r.launch):.2f}",
                f"{int(collected or 0)}",
                f"{theirs:.2f}",
                f"{cell('pytest-split', shard, lambda r: r.launch):.2f}",
                ratio(ours, theirs),
            ]
        )
    header = [
        "shard",
        "ours tests/files",
        "ours s",
        "(launch)",
        "split collects",
        "split s",
        "(launch)",
        "ours/split",
    ]
    return [table(header, rows)]


def _breakdown(runs: Sequence[ShardRun]) -> str:
    """Median wall of a shard's runs, and the medians of its parts."""
    wall = median(r.wall for r in runs)
    parts = [
        median(r.startup for r in runs),
        median(r.tests_seconds for r in runs),
        median(r.finish for r in runs),
        median(r.exit for r in runs),
    ]
    if wall is None or any(p is None for p in parts):
        return seconds(wall)
    return f"{wall:.1f} = " + " + ".join(seconds(p) for p in parts)


def makespan_report(
    runs: Sequence[ShardRun],
    repeats: int,
    durations: Mapping[str, float],
    plans: Mapping[Tool, list[list[str]]],
) -> list[str]:
    bound = lower_bound(durations.values(), SHARDS)

    def per_repeat(tool: Tool, pick: Callable[[list[ShardRun]], float]) -> float:
        values = []
        for repeat in range(repeats):
            chosen = _of(runs, tool)[repeat * SHARDS : (repeat + 1) * SHARDS]
            values.append(pick(chosen))
        return statistics.median(values)

    def max_wall(chosen: list[ShardRun]) -> float:
        return max(r.wall for r in chosen)

    def sum_wall(chosen: list[ShardRun]) -> float:
        return sum(r.wall for r in chosen)

    def sum_startup(chosen: list[ShardRun]) -> float:
        return sum(r.startup or 0.0 for r in chosen)

    def max_tests(chosen: list[ShardRun]) -> float:
        return max(r.tests_seconds or 0.0 for r in chosen)

    def mean_tests(chosen: list[ShardRun]) -> float:
        return statistics.mean(r.tests_seconds or 0.0 for r in chosen)

    figures: dict[Tool, dict[str, float]] = {}
    for tool in TOOLS:
        figures[tool] = {
            "predicted": max(predicted(plans[tool], durations)),
            "makespan": per_repeat(tool, max_wall),
            "tests": per_repeat(tool, max_tests),
            "tests_mean": per_repeat(tool, mean_tests),
            "walls": per_repeat(tool, sum_wall),
            "startups": per_repeat(tool, sum_startup),
        }
    labels = {
        "predicted": "predicted: largest shard's sum of stored durations",
        "tests": "largest shard's test phase (first test start to last end)",
        "tests_mean": "mean shard test phase",
        "makespan": "MAKESPAN: largest shard wall (process start to exit)",
        "walls": f"sum of the {SHARDS} shard walls (machine time)",
        "startups": f"sum of the {SHARDS} start-ups",
    }
    rows = [
        [
            labels[key],
            seconds(figures["ours"][key]),
            seconds(figures["pytest-split"][key]),
            ratio(figures["ours"][key], figures["pytest-split"][key]),
        ]
        for key in ("predicted", "tests", "tests_mean", "makespan", "walls", "startups")
    ]
    rows.append(
        [
            "makespan / LB",
            f"{figures['ours']['makespan'] / bound.value:.2f}",
            f"{figures['pytest-split']['makespan'] / bound.value:.2f}",
            "",
        ]
    )
    each = {
        tool: [max_wall(_of(runs, tool)[r * SHARDS : (r + 1) * SHARDS]) for r in range(repeats)]
        for tool in TOOLS
    }
    rows.append(
        [
            "makespan of each repeat",
            " ".join(f"{v:.1f}" for v in each["ours"]),
            " ".join(f"{v:.1f}" for v in each["pytest-split"]),
            " ".join(ratio(a, b) for a, b in zip(each["ours"], each["pytest-split"], strict=True)),
        ]
    )
    for shard in range(1, SHARDS + 1):
        walls = {t: median(r.wall for r in _of(runs, t, shard)) for t in TOOLS}
        rows.append(
            [
                f"  shard {shard} wall = start-up + tests + finish + exit",
                *(_breakdown(_of(runs, t, shard)) for t in TOOLS),
                ratio(walls["ours"], walls["pytest-split"]),
            ]
        )
    lines = [
        f"lower bound: sum/{SHARDS} = {bound.per_shard:.1f} s, longest test "
        f"= {bound.longest:.2f} s, LB = {bound.value:.1f} s (no overhead)",
        table(["median of the repeats (seconds)", "ours", "pytest-split", "ours/split"], rows),
    ]
    return lines


def check_runs(
    runs: Sequence[ShardRun], repeats: int, expected: set[str], suite_dir: Path
) -> list[str]:
    """Every full run: each test exactly once, exit 0, the copied package imported."""
    lines = []
    for tool in TOOLS:
        tool_runs = _of(runs, tool)
        problems = []
        for repeat in range(repeats):
            chosen = tool_runs[repeat * SHARDS : (repeat + 1) * SHARDS]
            missing, twice, unexpected = exactly_once([r.ids for r in chosen], expected)
            if missing or twice or unexpected:
                problems.append(
                    f"repeat {repeat + 1}: {missing} missing, {twice} twice, {unexpected} unplanned"
                )
        codes = sorted({r.returncode for r in tool_runs})
        imported = {rec.module_file for r in tool_runs for rec in r.records}
        foreign = [m for m in imported if m is None or not m.startswith(str(suite_dir))]
        outcomes = Counter[str]()
        for r in tool_runs[:SHARDS]:
            outcomes += r.outcomes
        counts = ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items()))
        status = "; ".join(problems) if problems else "each test exactly once in every repeat"
        lines.append(f"{tool}: {status}; exit codes {codes}; outcomes (one repeat): {counts}")
        if foreign:
            lines.append(f"{tool}: WARNING: {SUITE} imported from {foreign}, not the copy")
    return lines


# -- main ------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, help="makespan repeats (default 3; quick 1)")
    parser.add_argument(
        "--startup-repeats", type=int, help="start-up runs per shard and tool (default 5; quick 2)"
    )
    parser.add_argument("--quick", action="store_true", help="fewer repeats: a smoke run")
    parser.add_argument("--only", choices=("startup", "makespan"), help="measure one thing")
    parser.add_argument(
        "--coverage",
        action="store_true",
        help="both tools under coverage.py (ours: its coverage setting; pytest-split: "
        "`coverage run --parallel-mode -m pytest`); default: coverage off in both",
    )
    parser.add_argument(
        "--durations", type=Path, help="reuse this durations file instead of a serial run"
    )
    parser.add_argument("--work", type=Path, help="scratch folder, kept (default: a temp folder)")
    parser.add_argument(
        "--shards", type=int, nargs="+", default=[SHARDS], help="k values for the makespan part"
    )
    parser.add_argument(
        "--subset", help="collect only this part of the suite (e.g. networkx/algorithms)"
    )
    parser.add_argument("--workers", help="ours: `workers` for the default lane (a number or auto)")
    parser.add_argument("--python", help="ours: the interpreter that runs the tests")
    parser.add_argument("--coverage-core", help="ours: coverage-core (auto, sysmon, ctrace)")
    parser.add_argument("--ours-only", action="store_true", help="run only our shards")
    parser.add_argument("--suite", choices=sorted(PINNED), default="networkx", help="which suite")
    parser.add_argument(
        "--no-seed",
        action="store_true",
        help="do not seed the random states per test (a test's work then depends on its "
        "neighbours in the process, differently in the two tools)",
    )
    args = parser.parse_args(argv)
    global TARGET, EXTRA_CONFIG, OURS_ONLY, SUITE, SEED  # noqa: PLW0603 - one benchmark process
    SUITE = args.suite
    SEED = not args.no_seed
    TARGET = args.subset or SUITE
    OURS_ONLY = args.ours_only
    extra = []
    if args.workers:
        value = args.workers if args.workers == "auto" else int(args.workers)
        extra.append(f'[[lanes]]\nname = "default"\nworkers = {json.dumps(value)}\n')
    if args.python:
        extra.insert(0, f"python = {json.dumps(args.python)}\n")
    if args.coverage_core:
        extra.insert(0, f"coverage-core = {json.dumps(args.coverage_core)}\n")
    EXTRA_CONFIG = "".join(extra)
    repeats = args.repeats or (1 if args.quick else 3)
    startup_repeats = args.startup_repeats or (2 if args.quick else 5)

    source, version = installed_suite()
    work = args.work.resolve() if args.work else Path(tempfile.mkdtemp(prefix="shard-overhead-"))
    work.mkdir(parents=True, exist_ok=True)
    layout = Layout(work, args.coverage)
    try:
        return _measure(
            layout,
            args,
            source=source,
            version=version,
            repeats=repeats,
            startup_repeats=startup_repeats,
        )
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)


def _measure(
    layout: Layout,
    args: argparse.Namespace,
    *,
    source: Path,
    version: str,
    repeats: int,
    startup_repeats: int,
) -> int:
    if version != PINNED[SUITE]:
        print(f"note: {SUITE} {version} is installed; the figures in docs are for {PINNED[SUITE]}")
    prepare(layout, source)
    print(
        f"suite: {SUITE} {version} (its own tests, from the wheel), copied to {layout.suite}; "
        f"Python {platform.python_version()}, pytest {metadata.version('pytest')}, "
        f"pytest-split {metadata.version('pytest-split')}, {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    if args.durations is not None:
        shutil.copyfile(args.durations, layout.durations)
        print(f"durations: reused {args.durations}", flush=True)
    else:
        wall = make_durations(layout)
        print(f"durations: one serial run, --store-durations, {wall:.1f} s wall", flush=True)
    durations: dict[str, float] = json.loads(layout.durations.read_text("utf-8"))
    out: list[str] = []
    global SHARDS  # noqa: PLW0603 - the k of this part of the run
    for index, k in enumerate(args.shards):
        SHARDS = k
        part = _measure_k(layout, args, durations, repeats, startup_repeats, first=index == 0)
        print("\n".join(part), flush=True)  # each k as it ends: a long run stopped keeps it
        out += part
    if len(args.shards) > 1:
        print("\n".join(["", "all k:", *out]))
    if args.work is not None:
        print(f"\nlogs, plan and results: {layout.work}")
    return 0


def ours_report(runs: Sequence[ShardRun], repeats: int, plan: Plan, coverage: bool) -> list[str]:
    """Our shards alone (``--ours-only``): makespan, machine time and the test phases."""
    ours = _of(runs, "ours")
    each = [ours[r * SHARDS : (r + 1) * SHARDS] for r in range(repeats)]
    spans = [max(r.wall for r in chosen) for chosen in each]
    machine = [sum(r.wall for r in chosen) for chosen in each]
    tests = [max(r.tests_seconds or 0.0 for r in chosen) for chosen in each]
    missing, twice, unexpected = exactly_once([r.ids for r in each[0]], planned_ids(plan))
    predicted_max = max(s.predicted_seconds for s in plan.shards)
    return [
        f"ours only, k = {SHARDS}, coverage {'on' if coverage else 'off'}, config extra: "
        + (EXTRA_CONFIG.strip().replace("\n", "; ") or "none"),
        f"  makespan median {statistics.median(spans):.1f} s (each: "
        + " ".join(f"{v:.1f}" for v in spans)
        + f"), machine time {statistics.median(machine):.1f} s, largest test phase "
        f"{statistics.median(tests):.1f} s, plan's largest predicted {predicted_max:.1f} s; "
        f"exactly once: {missing} missing, {twice} twice, {unexpected} unplanned; exit codes "
        f"{sorted({r.returncode for r in ours})}",
    ]


def planned_ids(plan: Plan) -> set[str]:
    return {t for s in plan.shards for t in s.tests}


def _measure_k(
    layout: Layout,
    args: argparse.Namespace,
    durations: dict[str, float],
    repeats: int,
    startup_repeats: int,
    *,
    first: bool,
) -> list[str]:
    """Plan with k = ``SHARDS`` shards, then start-up (first k only) and makespan."""
    out: list[str] = []
    plan = make_plan(layout)
    shard_ids = [s.id for s in plan.shards]
    if len(shard_ids) != SHARDS:
        raise SystemExit(f"the plan has {len(shard_ids)} shards, not {SHARDS}")
    planned = {t for s in plan.shards for t in s.tests}
    files = files_in_order(t for s in plan.shards for t in s.tests)
    stale = len(set(durations) - planned)
    print(
        f"tests: {len(planned)} collected in {len(files)} files; durations for "
        f"{len(durations)} ids ({sum(durations.values()):.1f} s in all, {stale} ids no longer "
        f"collected); compared with coverage {'on' if layout.coverage else 'off'} in both, "
        "re-runs off, JUnit XML from both, cold bytecode, PYTHONHASHSEED=0",
        flush=True,
    )
    shard_files = [len(files_in_order(s.tests)) for s in plan.shards]
    shard_tests = [len(s.tests) for s in plan.shards]
    if first and not OURS_ONLY and args.only in (None, "startup"):
        print(f"start-up: {startup_repeats} run(s) per shard and tool", flush=True)
        runs = run_all(layout, shard_ids, startup_repeats, stop=True, tag="startup")
        out += [
            "",
            f"Start-up: process start -> first test starts, median of {startup_repeats} "
            "runs per shard (seconds; launch = process start -> pytest has loaded its plugins)",
            *startup_report(runs, shard_files, shard_tests),
        ]
    if args.only in (None, "makespan"):
        print(f"makespan: {repeats} repeat(s), shards in turn", flush=True)
        before = load_averages()
        runs = run_all(layout, shard_ids, repeats, stop=False, tag=f"k{SHARDS}-makespan")
        loads = f"load averages (1, 5, 15 min): {before} at the start, {load_averages()} at the end"
        if OURS_ONLY:
            return [*out, *ours_report(runs, repeats, plan, layout.coverage), loads]
        split_groups = [r.ids for r in _of(runs, "pytest-split")[:SHARDS]]
        plans: dict[Tool, list[list[str]]] = {
            "ours": [list(s.tests) for s in plan.shards],
            "pytest-split": split_groups,
        }
        out += [
            "",
            f"Executed makespan at k = {SHARDS} ({ALGORITHM} for pytest-split), median of "
            f"{repeats} repeat(s)",
            *makespan_report(runs, repeats, durations, plans),
            *check_runs(runs, repeats, planned, layout.suite),
            loads,
            load_summary(runs),
            "start-up within these full runs (median, all shards): "
            + ", ".join(
                f"{tool} {seconds(median(r.startup for r in _of(runs, tool)))} s" for tool in TOOLS
            ),
        ]
    return out


if __name__ == "__main__":
    sys.exit(main())
