"""The ``shard-action`` command: one sub-command per pipeline step, each in ``commands/``.

This module only dispatches. Each ``commands.<name>`` module registers its own arguments and
wires adapters to the core, so a step can be read (and changed) without reading the others.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from importlib import import_module

from shard_action import __version__
from shard_action.errors import InputError

COMMANDS = ("plan", "run", "report", "local", "comment", "fetch_history", "schema")


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser; with ``only``, just that sub-command's module is imported.

    Every step of a workflow and every shard starts this program: importing all the commands
    (coverage, jinja2, PyGithub…) to run one of them would cost each job time for nothing.
    """
    parser = argparse.ArgumentParser(
        prog="shard-action",
        description="Balanced, lane-aware test sharding with a trustworthy fan-in.",
    )
    parser.add_argument("--version", action="version", version=f"shard-action {__version__}")
    sub = parser.add_subparsers(dest="subcommand", required=True, metavar="COMMAND")
    for name in COMMANDS if only is None else (only,):
        import_module(f"shard_action.commands.{name}").register(sub)
    return parser


def _chosen(argv: Sequence[str]) -> str | None:
    if argv and argv[0].replace("-", "_") in COMMANDS:
        return argv[0].replace("-", "_")
    return None


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(_chosen(arguments))
    args = parser.parse_args(arguments)
    try:
        code: int = args.func(args)
    except InputError as exc:
        print(f"shard-action {args.subcommand}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"shard-action {args.subcommand}: interrupted", file=sys.stderr)
        return 130
    return code
