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
import shutil
import sys
import time
from pathlib import Path

from rich.console import Console, Group

from shard_action.adapters.runner import usable_cpus
from shard_action.adapters.shard_pool import ShardProcess, run_shards
from shard_action.adapters.terminal import console, print_markdown, print_plan
from shard_action.commands import positive_int
from shard_action.commands.options import add_config_options, add_history_options, history_file
from shard_action.commands.plan import PLAN_FILE, build_plan, write_plan
from shard_action.commands.report import make_report
from shard_action.core.plan import Plan
from shard_action.core.units import count, duration
from shard_action.errors import InputError


def _run(args: argparse.Namespace) -> int:
    root = Path(args.path).resolve()
    if not root.is_dir():
        raise InputError("not a folder", source=str(args.path))
    out = args.out.resolve()
    for stale in ("shards", "logs", "report"):
        shutil.rmtree(out / stale, ignore_errors=True)
    history = history_file(args, root)
    known = history if history is not None and history.is_file() else None
    if known is not None:
        args.timings = [*args.timings, str(known)]
    terminal = console(sys.stdout)
    plan = build_plan(args, root)
    write_plan(plan, out)
    print_plan(plan, sys.stdout, local=True)
    jobs = args.jobs or usable_cpus() or 1
    started = time.monotonic()
    finished = _run_tiers(plan, out, root, jobs, terminal)
    wall = time.monotonic() - started
    files = make_report(
        plan=plan,
        results=[out / "shards"],
        out=out / "report",
        history_path=known,
        root=root,
        concurrency=min(jobs, len(finished)) or 1,
    )
    if history is not None and files.history_written:
        history.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(out / "report" / "history.json", history)
    chart = f"*The Gantt chart of the shards is in {out / 'report' / 'summary.md'}.*"
    print_markdown(terminal, files.summary, chart_note=chart)
    failed = [job.shard.id for job in finished if job.code != 0]
    report = files.report
    terminal.print(
        Group(
            f"shards: {len(finished)} in {duration(wall)}, "
            f"{count(min(jobs, len(finished)) or 1, 'process', 'processes')} at once"
            + (f"; failed: {', '.join(failed)}" if failed else ""),
            f"files: {out / PLAN_FILE}, {out / 'shards'}/<id>/, {out / 'report'}/",
            f"next mode: {report.mode.next.mode} ({report.mode.next.reason})"
            + (f"; history saved to {history}" if history is not None else ""),
        ),
        markup=False,
    )
    return report.exit_code


def _run_tiers(
    plan: Plan, out: Path, root: Path, jobs: int, terminal: Console
) -> list[ShardProcess]:
    """As the tiers workflow does: the first tier's shards, then the rest only if they pass."""
    first = [shard for shard in plan.shards if shard.first]
    rest = [shard for shard in plan.shards if not shard.first]
    finished = run_shards(first, out / PLAN_FILE, root, out, jobs=jobs, out_console=terminal)
    if all(job.code == 0 for job in finished):
        return finished + run_shards(
            rest, out / PLAN_FILE, root, out, jobs=jobs, out_console=terminal
        )
    terminal.print(
        f"first tier {plan.first_tier} did not pass: {count(len(rest), 'shard')} after it not run",
        markup=False,
    )
    return finished


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "local",
        help="plan, run every shard as a local process, and report — in one command",
        description="Run the whole pipeline on this machine: plan the shards, run them as "
        "concurrent processes (as matrix jobs would), then merge and report. By default on "
        "the project in the current folder; `shard-action local examples` runs the bundled "
        "example from a checkout of shard-action.",
        epilog="Exit status: the report's (0 ok, 1 failing tests, 3 tests lost); 2 bad input; "
        "5 no test collected (set allow-no-tests to accept that); 130 interrupted (Ctrl-C), "
        "143 terminated (SIGTERM).",
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
        help="shards run at once, at least 1 (default: the cores this process may use)",
    )
    add_history_options(parser, writes=True)
    parser.set_defaults(func=_run)
