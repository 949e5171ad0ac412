"""Shards as concurrent local ``shard-action run`` processes, as matrix jobs would run them.

At most ``jobs`` at a time, longest first; a progress table on a terminal, a line per start and
end otherwise. Stopping (Ctrl-C) ends every shard and what it started, then waits for them.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from rich.console import Console
from rich.live import Live
from rich.markup import escape
from rich.table import Table

from shard_action.adapters.documents import read_document
from shard_action.adapters.terminal import felt_locally, fitted, shows_lanes, table
from shard_action.core.manifest import MANIFEST_FILE, ShardManifest
from shard_action.core.plan import PlannedShard
from shard_action.core.units import duration
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
    wall: float | None = None
    """The shard's wall as its manifest records it, once it has finished and left one."""

    @property
    def status(self) -> str:
        if self.process is None:
            return "queued"
        if self.code is None:
            return "running"
        return "passed" if self.code == 0 else f"failed (exit {self.code})"

    def elapsed(self, now: float) -> float:
        """Running: the time since the process started; finished: the manifest's wall (the
        report's Actual), else the process's time, interpreter start-up and import included."""
        if self.process is None:
            return 0.0
        if self.wall is not None:
            return self.wall
        return (self.finished or now) - self.started

    def ended(self) -> str:
        """The line a log gets when the shard has finished."""
        said = f"shard {self.shard.id}: {self.status} in {duration(self.elapsed(0))}"
        return said if self.wall is not None else f"{said} (the process; no manifest)"


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
    job.wall = _manifest_wall(job.results)
    return True


def _manifest_wall(results: Path) -> float | None:
    try:
        return read_document(results / MANIFEST_FILE, ShardManifest).wall
    except (FileNotFoundError, InputError):
        return None


def progress_table(jobs: Sequence[ShardProcess], now: float) -> Table:
    lanes = shows_lanes([job.shard for job in jobs])
    drawn = table(
        "shards",
        [("shard", False), *([("lane", False)] if lanes else []), ("tests", True),
         ("predicted", True), ("elapsed", True), ("status", False)],
    )  # fmt: skip
    colours = {"queued": "dim", "running": "cyan", "passed": "green"}
    for job in jobs:
        status = job.status
        colour = colours.get(status, "red")
        drawn.add_row(
            escape(job.shard.id),
            *([escape(job.shard.lane)] if lanes else []),
            str(len(job.shard.tests)),
            duration(felt_locally(job.shard)),
            duration(job.elapsed(now)) if job.process else "",
            f"[{colour}]{status}[/{colour}]",
        )
    return drawn


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
                    out_console.print(job.ended(), markup=False)
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
                    display.update(fitted(out_console, progress_table(work, time.monotonic())))
                    time.sleep(0.1)
                display.update(fitted(out_console, progress_table(work, time.monotonic())))
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
