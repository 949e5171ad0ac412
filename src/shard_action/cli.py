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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="shard-action",
        description="Balanced, lane-aware test sharding with a trustworthy fan-in.",
    )
    parser.add_argument("--version", action="version", version=f"shard-action {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = import_module(f"shard_action.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"shard_action.commands.{name}":
                raise
            continue  # a step not built yet is simply not offered
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
    except InputError as exc:
        print(f"shard-action {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"shard-action {args.command}: interrupted", file=sys.stderr)
        return 130
    return code
