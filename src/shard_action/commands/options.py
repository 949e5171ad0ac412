"""Options shared by ``plan`` and ``local`` (and the history file both default to).

Every key of the config is also an option: each flag overrides the config key of its name.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from shard_action.adapters.config_file import load_config, text_value
from shard_action.core.config import Config

CACHE_DIR = Path(".shard-action") / "cache"
DEFAULT_HISTORY = Path(".shard-action") / "history.json"
"""Where ``local`` keeps its history between runs, relative to the project folder; ``plan`` run
by hand reads the same file, so both plan from the same timings and mode."""


def shards_value(text: str) -> int | str:
    """``--shards`` takes a number or ``auto``."""
    if text == "auto":
        return text
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number or 'auto', got {text!r}") from None


def add_config_options(parser: argparse.ArgumentParser) -> None:
    """Options shared by ``plan`` and ``local``: each overrides the config key of the same name."""
    parser.add_argument("--config", type=Path, help="config file (TOML or YAML)")
    parser.add_argument(
        "--tier", metavar="NAME", help="plan only this tier's tests (default: full, every test)"
    )
    parser.add_argument(
        "--first-tier",
        metavar="NAME",
        help="run this tier's tests first, in shards of their own; the rest after they pass",
    )
    parser.add_argument("--shards", type=shards_value, help="number of shards, or auto")
    parser.add_argument("--max-shards", type=int, help="cap on shards over all lanes (<= 256)")
    parser.add_argument("--shard-overhead", type=float, help="seconds a shard costs to start")
    parser.add_argument(
        "--granularity",
        choices=("test", "file"),
        help=described("granularity"),
    )
    parser.add_argument(
        "--mode",
        choices=("auto", "parallel", "serial"),
        help="force a mode; auto follows the history (default: config, else auto)",
    )
    parser.add_argument(
        "--timings",
        action="extend",
        nargs="+",
        default=[],
        metavar="PATH",
        help="JUnit XML, pytest-split durations JSON or a history file; files, folders or globs",
    )
    parser.add_argument(
        "--on-bad-report",
        choices=("error", "warn"),
        help=described("on_bad_report"),
    )
    _add_other_config_keys(parser)
    _add_test_sources(parser)


def described(key: str) -> str | None:
    """A config key's description as argparse help: its ``%`` escaped ("1 %" would be read as
    a format, and every ``--help`` would crash)."""
    text = Config.model_fields[key].description
    return None if text is None else text.replace("%", "%%")


def _add_other_config_keys(parser: argparse.ArgumentParser) -> None:
    """A ``--key VALUE`` for every config key without an option of its own above."""
    config_group = parser.add_argument_group(
        "other config keys",
        "Every key of [tool.shard-action] is also an option; lists and tables are given as "
        "JSON, e.g. --collect-args '[\"tests\"]'.",
    )
    taken = {action.dest for action in parser._actions}
    for name in Config.model_fields:
        if name not in taken:
            config_group.add_argument(
                "--" + name.replace("_", "-"),
                dest=name,
                type=text_value,
                metavar="VALUE",
                help=described(name),
            )


def _add_test_sources(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--tests-from",
        type=Path,
        metavar="FILE",
        help="test ids, one per line (blank lines and # comments skipped)",
    )
    parser.add_argument(
        "--changed-files",
        type=Path,
        metavar="FILE",
        help="changed files, one path per line or NUL-separated, relative to the project folder "
        "(`git diff --name-only --relative -z BASE` run there): with early-flake-runs, their "
        "tests get the extra runs new tests get",
    )
    parser.add_argument(
        "--collect-cache",
        action=argparse.BooleanOptionalAction,
        default=True,
        help=f"reuse the collection of an unchanged tree, kept in {CACHE_DIR} (default: on; "
        "the key covers the files under the project folder, the interpreter and its installed "
        "packages, PYTEST_* and PYTHONPATH, and collect-args)",
    )


def add_history_options(parser: argparse.ArgumentParser, *, writes: bool) -> None:
    """``--history``/``--no-history``, shared by ``plan`` (reads it) and ``local`` (reads and
    updates it), so both default to the same file."""
    verb = "read before planning and updated after the report" if writes else "read"
    parser.add_argument(
        "--history",
        type=Path,
        metavar="FILE",
        help=f"our history file, {verb} when it exists "
        f"(default: the project's {DEFAULT_HISTORY.as_posix()}, which `local` keeps)",
    )
    parser.add_argument(
        "--no-history",
        action="store_true",
        help="do not read the history file" + (" nor update it" if writes else ""),
    )


def history_file(args: argparse.Namespace, root: Path) -> Path | None:
    """The history file to use (``--history``, else the project's ``.shard-action/``), or None
    with ``--no-history``; it need not exist yet."""
    if args.no_history:
        return None
    chosen: Path = args.history if args.history is not None else root / DEFAULT_HISTORY
    return chosen.resolve()


def config_from(args: argparse.Namespace, root: Path) -> Config:
    flags: dict[str, Any] = {name: getattr(args, name, None) for name in Config.model_fields}
    # like --timings and --out, a relative --config is relative to where the command runs
    config_path = args.config.resolve() if args.config is not None else None
    return load_config(cwd=root, config_path=config_path, env=os.environ, flags=flags)
