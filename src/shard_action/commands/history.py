"""``shard-action history show [FILE]``: the history's trends, for a person at a terminal.

Prints what the job summary's Trends section says about the newest run (the same template
block, rendered for the terminal): tests markedly slower than their rolling median and since
when, new slowest tests, the last runs' test and wall time, and the bottleneck; then what the
file holds (runs, tests, mode). ``--json`` prints the trends as ``report.json`` carries them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from shard_action.adapters.history_file import read_history
from shard_action.adapters.terminal import console, print_markdown
from shard_action.commands import positive_int
from shard_action.commands.options import DEFAULT_HISTORY
from shard_action.commands.report import default_templates
from shard_action.core.render import render_trends, template_set
from shard_action.core.trends import RUNS_SHOWN, trends_of
from shard_action.core.units import count
from shard_action.errors import InputError


def _show(args: argparse.Namespace) -> int:
    path: Path = args.file if args.file is not None else DEFAULT_HISTORY
    if not path.is_file():
        raise InputError(
            "no history file here (`shard-action local` keeps one in "
            f"{DEFAULT_HISTORY.as_posix()}; the action's is the artifact shard-action-history)",
            source=str(path),
        )
    history = read_history(path)
    trends = trends_of(history, runs=args.runs)
    if args.json:
        print(trends.model_dump_json(indent=1))
        return 0
    out = console(sys.stdout)
    records = sum(len(tests) for tests in history.tests.values())
    last = history.last_run()
    out.print(
        f"{path}: {count(len(history.runs), 'run')}"
        + (f" (newest #{last.index})" if last is not None else "")
        + f", {count(records, 'test')} in {count(len(history.tests), 'lane')}; "
        f"mode {history.mode.mode} ({history.mode.reason})",
        markup=False,
    )
    text = render_trends(template_set(default_templates()), trends)
    if text.strip():
        chart = "*(The chart of the runs is drawn in the job summary.)*"
        print_markdown(out, text, chart_note=chart)
    else:
        out.print("no trends yet: they need at least one run with timings", markup=False)
    return 0


def _no_action(args: argparse.Namespace) -> int:
    args.history_parser.print_help()
    return 2


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "history",
        help="show the trends a history file holds (slower tests, suite time, bottleneck)",
        description="Read a history file (the one `local` keeps, or the artifact "
        "shard-action-history) and show its trends.",
    )
    actions = parser.add_subparsers(
        dest="action", metavar="ACTION", help="`show`: print the trends"
    )
    show = actions.add_parser(
        "show",
        help="print the trends of the newest run",
        description="Print what the job summary's Trends section says: tests markedly slower "
        "than their rolling median and since when, new slowest tests, the last runs' test and "
        "wall time, and what bounded the newest run's wall time.",
        epilog="Exit status: 0 shown; 2 no history file, or not a readable history.",
    )
    show.add_argument(
        "file",
        nargs="?",
        type=Path,
        help=f"the history file (default: {DEFAULT_HISTORY.as_posix()}, which `local` keeps)",
    )
    show.add_argument(
        "--runs",
        type=positive_int,
        default=RUNS_SHOWN,
        metavar="N",
        help=f"runs in the table of runs (default {RUNS_SHOWN})",
    )
    show.add_argument("--json", action="store_true", help="print the trends as JSON")
    show.set_defaults(func=_show)
    parser.set_defaults(func=_no_action, history_parser=parser)
