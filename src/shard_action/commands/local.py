"""``shard-action local``: the whole pipeline on one machine — plan, every shard, the fan-in.

Shards run as concurrent ``shard-action run`` processes (bounded by the cores), exactly as
matrix jobs would run them, so trying shard-action on a repository takes one command and our own
end-to-end tests exercise the real pipeline rather than a simulation of it.

The history is kept between local runs (``--history``, by default in the project's
``.shard-action/`` folder): the next plan learns the measured durations and follows the mode the
last report decided, as the plan job does with the history artifact on GitHub.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from rich.console import Console, Group
from rich.live import Live
from rich.markdown import Markdown
from rich.table import Table

from shard_action.adapters.terminal import console, print_plan
from shard_action.commands import positive_int
from shard_action.commands.plan import (
    PLAN_FILE,
    add_config_options,
    add_history_options,
    build_plan,
    history_file,
    write_plan,
)
from shard_action.commands.report import make_report
from shard_action.commands.run import terminate_as_interrupt
from shard_action.core.plan import PlannedShard
from shard_action.core.render import for_terminal
from shard_action.core.units import count, duration
from shard_action.errors import InputError


@dataclass
class ShardProcess:
    """One shard's ``shard-action run`` process and what the progress display shows of it."""

    shard: PlannedShard
    results: Path
    log: Path
    process: subprocess.Popen[bytes] | None = None
    handle: IO[bytes] | None = None
    started: float = 0.0
    finished: float = 0.0
    code: int | None = None

    @property
    def status(self) -> str:
        if self.process is None:
            return "queued"
        if self.code is None:
            return "running"
        return "passed" if self.code == 0 else f"failed (exit {self.code})"

    def elapsed(self, now: float) -> float:
        if self.process is None:
            return 0.0
        return (self.finished or now) - self.started


def run_command(plan_path: Path, shard: str, results: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "shard_action",
        "run",
        "--plan",
        str(plan_path),
        "--shard",
        shard,
        "--results",
        str(results),
    ]


def _start(job: ShardProcess, plan_path: Path, root: Path) -> None:
    job.results.mkdir(parents=True, exist_ok=True)
    job.log.parent.mkdir(parents=True, exist_ok=True)
    job.handle = job.log.open("wb")
    job.started = time.monotonic()
    job.process = subprocess.Popen(
        run_command(plan_path, job.shard.id, job.results),
        cwd=root,
        stdout=job.handle,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,  # a Ctrl-C reaches it only through _stop, which waits for it
    )


STOP_GRACE = 10.0
"""Seconds a shard gets to stop its runner (it kills its runner's own group) before SIGKILL."""


def _signal_group(process: subprocess.Popen[bytes], sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)


def _stop(jobs: Sequence[ShardProcess], grace: float = STOP_GRACE) -> None:
    """End every shard still running, and what it started.

    SIGTERM first: ``shard-action run`` takes it as an interrupt and kills its runner's process
    group (a ``coverage run … pytest`` in a session of its own, which SIGKILL of the shard alone
    would orphan); whatever is left after ``grace`` seconds gets SIGKILL.
    """
    alive = [j.process for j in jobs if j.process is not None and j.process.poll() is None]
    for process in alive:
        _signal_group(process, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for process in alive:
        try:
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _signal_group(process, signal.SIGKILL)
            process.wait()


def _poll(job: ShardProcess) -> bool:
    """True when the job has just finished."""
    if job.process is None or job.code is not None:
        return False
    code = job.process.poll()
    if code is None:
        return False
    job.code = code
    job.finished = time.monotonic()
    if job.handle is not None:
        job.handle.close()
    return True


def progress_table(jobs: Sequence[ShardProcess], now: float) -> Table:
    table = Table(title="shards", title_justify="left")
    for name, justify in (("shard", "left"), ("lane", "left"), ("tests", "right")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    table.add_column("predicted", justify="right")
    table.add_column("elapsed", justify="right")
    table.add_column("status")
    colours = {"queued": "dim", "running": "cyan", "passed": "green"}
    for job in jobs:
        status = job.status
        colour = colours.get(status, "red")
        table.add_row(
            job.shard.id,
            job.shard.lane,
            str(len(job.shard.tests)),
            duration(job.shard.predicted_seconds),
            duration(job.elapsed(now)) if job.process else "",
            f"[{colour}]{status}[/{colour}]",
        )
    return table


def run_shards(
    shards: Sequence[PlannedShard],
    plan_path: Path,
    root: Path,
    out: Path,
    *,
    jobs: int,
    out_console: Console,
) -> list[ShardProcess]:
    """Run ``shards`` (of the plan in ``plan_path``) as processes, at most ``jobs`` at a time,
    longest first."""
    work = [
        ShardProcess(shard=s, results=out / "shards" / s.id, log=out / "logs" / f"{s.id}.log")
        for s in shards
    ]
    order = sorted(work, key=lambda j: -j.shard.predicted_seconds)
    pending = list(order)
    running: list[ShardProcess] = []
    live = out_console.is_terminal

    def advance() -> None:
        for job in list(running):
            if _poll(job):
                running.remove(job)
                if not live:
                    out_console.print(
                        f"shard {job.shard.id}: {job.status} in {duration(job.elapsed(0))}",
                        markup=False,
                    )
        while pending and len(running) < jobs:
            job = pending.pop(0)
            _start(job, plan_path, root)
            running.append(job)
            if not live:
                out_console.print(f"shard {job.shard.id}: started", markup=False)

    try:
        if live:
            with Live(console=out_console, refresh_per_second=4, transient=False) as display:
                while pending or running:
                    advance()
                    display.update(progress_table(work, time.monotonic()))
                    time.sleep(0.1)
                display.update(progress_table(work, time.monotonic()))
        else:
            while pending or running:
                advance()
                time.sleep(0.1)
    finally:
        _stop(running)
        for job in running:
            if job.handle is not None:
                job.handle.close()
    return work


def _run(args: argparse.Namespace) -> int:
    root = Path(args.path).resolve()
    if not root.is_dir():
        raise InputError("not a folder", source=str(args.path))
    out = args.out.resolve()
    for stale in ("shards", "logs", "report"):
        shutil.rmtree(out / stale, ignore_errors=True)
    history = history_file(args, root)
    if history is not None and history.is_file():
        args.timings = [*args.timings, str(history)]
    terminal = console(sys.stdout)
    plan = build_plan(args, root)
    write_plan(plan, out)
    print_plan(plan, sys.stdout)
    jobs = args.jobs or os.cpu_count() or 1
    started = time.monotonic()
    first = [shard for shard in plan.shards if shard.first]
    rest = [shard for shard in plan.shards if not shard.first]
    with terminate_as_interrupt():
        # As the tiers workflow does: the first tier's shards, then the rest only if they pass.
        finished = run_shards(first, out / PLAN_FILE, root, out, jobs=jobs, out_console=terminal)
        if all(job.code == 0 for job in finished):
            finished += run_shards(
                rest, out / PLAN_FILE, root, out, jobs=jobs, out_console=terminal
            )
        else:
            terminal.print(
                f"first tier {plan.first_tier} did not pass: "
                f"{count(len(rest), 'shard')} after it not run",
                markup=False,
            )
    wall = time.monotonic() - started
    files = make_report(
        plan=plan,
        results=[out / "shards"],
        out=out / "report",
        history_path=history if history is not None and history.is_file() else None,
        root=root,
    )
    if history is not None and files.history_written:
        history.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(out / "report" / "history.json", history)
    chart = f"*The Gantt chart of the shards is in {out / 'report' / 'summary.md'}.*"
    terminal.print(Markdown(for_terminal(files.summary, chart_note=chart)))
    failed = [job.shard.id for job in finished if job.code != 0]
    report = files.report
    terminal.print(
        Group(
            f"shards: {len(finished)} in {duration(wall)}, "
            f"{count(min(jobs, len(finished)) or 1, 'process', 'processes')} at once"
            + (f"; failed: {', '.join(failed)}" if failed else ""),
            f"files: {out / PLAN_FILE}, {out / 'shards'}/<id>/, {out / 'report'}/",
            f"next mode: {report.mode.next_mode} ({report.mode.next_reason})"
            + (f"; history saved to {history}" if history is not None else ""),
        ),
        markup=False,
    )
    return report.exit_code


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "local",
        help="plan, run every shard as a local process, and report — in one command",
        description="Run the whole pipeline on this machine: plan the shards, run them as "
        "concurrent processes (as matrix jobs would), then merge and report. By default on "
        "the project in the current folder; `shard-action local examples` runs the bundled "
        "example from a checkout of shard-action.",
        epilog="Exit status: the report's (0 ok, 1 failing tests, 3 tests lost); 2 bad input; "
        "5 no test collected (set allow-no-tests to accept that); 130 interrupted.",
    )
    parser.add_argument(
        "path", nargs="?", default=".", help="project folder (default: the current folder)"
    )
    add_config_options(parser)
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("shard-action-out"),
        metavar="DIR",
        help="where plan.json, shards/<id>/ and report/ go (default: ./shard-action-out)",
    )
    parser.add_argument(
        "--jobs",
        type=positive_int,
        default=0,
        help="shards run at once, at least 1 (default: the number of cores)",
    )
    add_history_options(parser, writes=True)
    parser.set_defaults(func=_run)
