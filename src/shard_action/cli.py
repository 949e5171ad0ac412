"""The ``shard-action`` command: one sub-command per pipeline step, each in ``commands/``.

This module only dispatches. Each ``commands.<name>`` module registers its own arguments and
wires adapters to the core, so a step can be read (and changed) without reading the others.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import signal
import sys
from collections.abc import Iterator, Sequence
from importlib import import_module
from types import FrameType
from typing import NoReturn

from shard_action import __version__
from shard_action.adapters import gha
from shard_action.errors import InputError, NoTestsError

COMMANDS = (
    "plan",
    "run",
    "report",
    "local",
    "comment",
    "fetch_history",
    "history",
    "schema",
)


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where Ctrl-C raises ``KeyboardInterrupt``: the clean-up that ends every
    process a command started (collection, probe, runners, shards) is the same for both."""


@contextlib.contextmanager
def signals_as_interrupt() -> Iterator[None]:
    """SIGINT and SIGTERM interrupt the command once; the next ones are ignored until it ends.

    A cancelled GitHub job gets SIGINT, then SIGTERM a few seconds later, and ``timeout`` sends
    SIGTERM: by default Python dies of it and leaves its children running. The second signal
    must not cut the clean-up of the first short (the children are killed, each within a grace).
    """
    raised = False

    def handler(signum: int, frame: FrameType | None) -> None:
        nonlocal raised
        if raised:
            return
        raised = True
        raise Terminated if signum == signal.SIGTERM else KeyboardInterrupt

    try:
        # a signal the parent ignored stays ignored (a shell starts `cmd &` with SIGINT ignored)
        watched = [
            s for s in (signal.SIGINT, signal.SIGTERM) if signal.getsignal(s) is not signal.SIG_IGN
        ]
        previous = {sig: signal.signal(sig, handler) for sig in watched}
    except ValueError:  # not the main thread: nothing to install
        yield
        return
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


class Parser(argparse.ArgumentParser):
    """argparse, plus "did you mean --max-shards?" for a mistyped option."""

    def error(self, message: str) -> NoReturn:
        prefix = "unrecognized arguments: "
        if message.startswith(prefix):
            known = [o[2:] for a in self._actions for o in a.option_strings if o[:2] == "--"]
            hints = []
            for word in message[len(prefix) :].split():
                if word.startswith("--"):
                    name = word[2:].split("=", 1)[0]
                    close = difflib.get_close_matches(name, known, n=1, cutoff=0.7)
                    if close:
                        hints.append(f"--{name}: did you mean --{close[0]}?")
            if hints:
                message += " (" + "; ".join(hints) + ")"
        super().error(message)


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser; with ``only``, just that sub-command's module is imported.

    Every step of a workflow and every shard starts this program: importing all the commands
    (coverage, jinja2, PyGithub…) to run one of them would cost each job time for nothing.
    """
    parser = Parser(
        prog="shard-action",
        description="Balanced, lane-aware test sharding with a trustworthy fan-in.",
    )
    parser.add_argument("--version", action="version", version=f"shard-action {__version__}")
    sub = parser.add_subparsers(dest="subcommand", required=True, metavar="COMMAND")
    for name in COMMANDS if only is None else (only,):
        import_module(f"shard_action.commands.{name}").register(sub)
    return parser


def _subcommand_parser(parser: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            chosen: argparse.ArgumentParser = action.choices[name]
            return chosen
    return parser  # pragma: no cover - every parser built here has sub-commands


def _chosen(argv: Sequence[str]) -> str | None:
    if argv and argv[0].replace("-", "_") in COMMANDS:
        return argv[0].replace("-", "_")
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Every line printed here goes through a stream that no printed value can turn into a
    workflow command (test ids and messages come from plans, manifests and fork artifacts)."""
    with gha.command_safe_output():
        return _main(list(sys.argv[1:] if argv is None else argv))


def _main(arguments: list[str]) -> int:
    parser = build_parser(_chosen(arguments))
    args, unknown = parser.parse_known_args(arguments)
    if unknown:  # the sub-command's usage, not the top level's, and its options to suggest
        command = _subcommand_parser(parser, args.subcommand)
        command.error(f"unrecognized arguments: {' '.join(unknown)}")
    try:
        with signals_as_interrupt():
            code: int = args.func(args)
    except InputError as exc:
        print(f"shard-action {args.subcommand}: error: {exc}", file=sys.stderr)
        return 2
    except NoTestsError as exc:
        print(f"shard-action {args.subcommand}: error: {exc}", file=sys.stderr)
        return NoTestsError.exit_code
    except Terminated:
        print(f"shard-action {args.subcommand}: terminated (SIGTERM)", file=sys.stderr)
        return 128 + signal.SIGTERM
    except KeyboardInterrupt:
        print(f"shard-action {args.subcommand}: interrupted", file=sys.stderr)
        return 130
    return code
