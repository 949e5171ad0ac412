"""``shard-action plan``: today's tests + past timings → ``plan.json`` and the job matrix.

Wiring only: the config and the inputs are read by adapters, the plan is made by
``core.planner.make_plan`` (pure), and the results go to files, ``$GITHUB_OUTPUT`` and the job
summary. Contract relied on by scripts and benchmarks: ``DIR/plan.json`` with
``shards[*].slices[*].tests`` and ``shards[*].lane``; ``--timings`` takes JUnit XML,
pytest-split durations or a history file, told apart by content.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from shard_action.adapters import gha
from shard_action.adapters.collect import (
    Collected,
    collect_pytest,
    file_sizes,
    match_test_files,
    read_test_list,
)
from shard_action.adapters.config_file import load_config, text_value
from shard_action.adapters.files import make_folder, write_text_atomic
from shard_action.adapters.quarantine_file import read_quarantine
from shard_action.adapters.terminal import print_plan
from shard_action.adapters.timing_files import read_timings
from shard_action.core import shardcount
from shard_action.core.config import Config
from shard_action.core.matrix import Matrix, matrix
from shard_action.core.mode import plan_mode
from shard_action.core.models import TestItem
from shard_action.core.plan import Plan
from shard_action.core.plan_summary import plan_markdown
from shard_action.core.planner import make_plan
from shard_action.core.testids import is_whole_file
from shard_action.core.tiers import marked_first, split_first, staged
from shard_action.core.timings import Granularity, resolve
from shard_action.core.units import count
from shard_action.errors import InputError, NoTestsError

PLAN_FILE = "plan.json"
MATRIX_FILE = "matrix.json"
SUMMARY_FILE = "plan-summary.md"
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
        help=Config.model_fields["granularity"].description,
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
        help=Config.model_fields["on_bad_report"].description,
    )
    config_group = parser.add_argument_group(
        "other config keys",
        "Every key of [tool.shard-action] is also an option; lists and tables are given as "
        "JSON, e.g. --collect-args '[\"tests\"]'.",
    )
    taken = {action.dest for action in parser._actions}
    for name, field in Config.model_fields.items():
        if name not in taken:
            config_group.add_argument(
                "--" + name.replace("_", "-"),
                dest=name,
                type=text_value,
                metavar="VALUE",
                help=field.description,
            )
    parser.add_argument(
        "--tests-from",
        type=Path,
        metavar="FILE",
        help="test ids, one per line (blank lines and # comments skipped)",
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


def todays_tests(
    config: Config,
    root: Path,
    tests_from: Path | None,
    cache: bool,
    ours: Sequence[Path] = (),
) -> Collected:
    """``ours``: folders we write into (the plan's output), left out of the cache key."""
    if tests_from is not None:
        return read_test_list(tests_from)
    if config.test_files:
        return match_test_files(root, config.test_files)
    collected = collect_pytest(
        root,
        config.collect_args,
        python=config.python,
        cache_dir=root / CACHE_DIR if cache else None,
        skip=ours,
    )
    if collected.cached:
        print(
            f"collection: {count(len(collected.tests), 'test')} from the cache in "
            f"{CACHE_DIR} (nothing that collection reads changed; --no-collect-cache to collect "
            "again)"
        )
    return collected


def units_of(tests: Sequence[TestItem]) -> Granularity:
    """What today's ids name, which is what timings must be resolved onto.

    Not ``config.granularity``: at file granularity pytest's node ids keep a timing each (the
    planner sums them per file, and can still split a file longer than a shard); only a runner
    whose ids are files (``test-files``, or a list of paths) gets per-file timings.
    """
    return "file" if all(is_whole_file(t.id) for t in tests) else "test"


def _no_tests(config: Config, root: Path, tests_from: Path | None) -> str:
    if tests_from is not None:
        where = f"the test list {tests_from} holds no test id"
    elif config.test_files:
        where = f"no file in {root} matches test-files {config.test_files}"
    else:
        args = f" with collect-args {config.collect_args}" if config.collect_args else ""
        where = f"pytest collected no test in {root}{args}"
    return (
        f"{where}. Check the working directory and the filters; to accept an empty run, set "
        "allow-no-tests = true (or SHARD_ACTION_ALLOW_NO_TESTS=true, --allow-no-tests true)"
    )


def build_plan(
    args: argparse.Namespace, root: Path, explain: list[shardcount.Option] | None = None
) -> Plan:
    """Everything ``plan`` does before writing: shared with ``local``.

    ``explain``: filled with the plan of every shard count worth showing (``plan --explain``).
    """
    config = config_from(args, root)
    if config.test_files and config.granularity != "file":
        config = config.model_copy(update={"granularity": "file"})
    quarantine = read_quarantine(root, config.quarantine_file)
    out = getattr(args, "out", None)
    ours = [out.resolve()] if isinstance(out, Path) else []
    collected = todays_tests(config, root, args.tests_from, args.collect_cache, ours)
    if not collected.tests and not config.allow_no_tests:
        raise NoTestsError(_no_tests(config, root, args.tests_from))
    timing_input = read_timings(args.timings, on_bad_report=config.on_bad_report)
    timings = resolve(
        timing_input.observations,
        collected.tests,
        granularity=units_of(collected.tests),
        sources=timing_input.sources,
        skipped_reports=timing_input.skipped_reports,
    )
    mode, reason = plan_mode(config.mode, timing_input.history, override=args.mode)
    warnings = [*collected.warnings, *timing_input.warnings]
    if timings.unresolved:
        warnings.append(
            f"report entries that matched no test of today were not used: "
            f"{timings.unresolved} (e.g. {', '.join(timings.unresolved_examples)}); what cannot "
            "be matched, and why: docs/timings.md"
        )
    if not args.timings:
        warnings.append(
            "no timings given: every duration is estimated; pass --timings (JUnit XML, "
            "pytest-split durations or our history) for balanced shards"
        )
    first, rest = split_first(config, collected.tests)
    if collected.tests and not (first or rest) and not config.allow_no_tests:
        raise NoTestsError(
            f"tier {config.tier!r} selects none of the {count(len(collected.tests), 'test')} "
            "collected; check its markers, paths and ids (or set allow-no-tests = true)"
        )
    if config.first_tier is not None and not first:
        warnings.append(
            f"first-tier {config.first_tier!r} selects none of the planned tests: no shard "
            "runs first"
        )

    sizes = file_sizes(root, collected.tests)
    if explain is not None:

        def plan_for(k: int) -> Plan:
            return make_plan(
                config.model_copy(update={"shards": k}),
                collected.tests,
                timings,
                mode=mode,
                mode_reason=reason,
                cpus=os.cpu_count(),
                file_bytes=sizes,
            )

        explain.extend(shardcount.options(plan_for, shardcount.counts_up_to(config.max_shards)))

    def planned(tests: list[TestItem], notes: list[str]) -> Plan:
        return make_plan(
            config,
            tests,
            timings,
            mode=mode,
            mode_reason=reason,
            warnings=notes,
            cpus=os.cpu_count(),
            file_bytes=sizes,
        )

    tiers = {"tier": config.tier, "first_tier": config.first_tier}
    if config.first_tier is None or not first:
        plan = planned(rest, warnings).model_copy(update=tiers)
    elif not rest:
        plan = marked_first(
            planned(first, warnings), tier=config.tier, first_tier=config.first_tier
        )
    else:
        plan = staged(
            planned(first, warnings),
            planned(rest, []),
            tier=config.tier,
            first_tier=config.first_tier,
        )
    return plan.model_copy(update={"quarantine": quarantine})


def write_plan(plan: Plan, out: Path) -> Matrix:
    make_folder(out)
    write_text_atomic(out / PLAN_FILE, plan.model_dump_json(indent=1) + "\n")
    jobs = matrix(plan)
    write_text_atomic(out / MATRIX_FILE, json.dumps(jobs, indent=1, ensure_ascii=False) + "\n")
    summary = plan_markdown(plan)
    write_text_atomic(out / SUMMARY_FILE, summary)
    first, rest = matrix(plan, first=True), matrix(plan, first=False)
    gha.set_outputs(
        {
            "matrix": json.dumps(jobs, separators=(",", ":"), ensure_ascii=False),
            "matrix-first": json.dumps(first, separators=(",", ":"), ensure_ascii=False),
            "matrix-rest": json.dumps(rest, separators=(",", ":"), ensure_ascii=False),
            "first-count": str(len(first["include"])),
            "rest-count": str(len(rest["include"])),
            "shard-count": str(len(plan.shards)),
            "mode": plan.mode,
            "plan": str(out / PLAN_FILE),
        }
    )
    gha.write_summary(summary, pointer=f"The whole plan is in {out / PLAN_FILE}.")
    for warning in plan.warnings:
        if gha.in_actions():
            gha.annotate("warning", warning, title="shard-action plan")
    return jobs


def _run(args: argparse.Namespace) -> int:
    root = Path(args.root).resolve()
    if not root.is_dir():
        raise InputError("not a folder", source=str(args.root))
    history = history_file(args, root)
    if history is not None and history.is_file():
        args.timings = [*args.timings, str(history)]
    elif args.history is not None and not args.no_history:
        raise InputError("history file not found", source=str(args.history))
    explain: list[shardcount.Option] | None = [] if args.explain else None
    plan = build_plan(args, root, explain)
    out = args.out.resolve()
    write_plan(plan, out)
    print_plan(plan, sys.stdout)
    if explain:
        print("shard counts (predicted from the same timings; GitHub bills each job per minute):")
        for row in shardcount.table(explain):
            print(row)
    print(f"wrote {out / PLAN_FILE}")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "plan",
        help="plan balanced shards from past timings and today's tests",
        description="Collect today's tests, read past timings, put tests in lanes and split "
        "them into balanced shards. Writes DIR/plan.json and the job matrix.",
        epilog="Exit status: 0 planned; 2 bad input (config, timings, test list); 5 no test "
        "collected (set allow-no-tests to accept that).",
    )
    add_config_options(parser)
    add_history_options(parser, writes=False)
    parser.add_argument("--root", default=".", help="project folder (default: current folder)")
    parser.add_argument(
        "--explain",
        action="store_true",
        help="also print, for shard counts up to max-shards, the predicted wall time, the "
        "billed minutes and the speed-up",
    )
    parser.add_argument(
        "--out", type=Path, default=Path("shard-plan"), metavar="DIR", help="output folder"
    )
    parser.set_defaults(func=_run)
