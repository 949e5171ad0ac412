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
import sys
from collections.abc import Sequence
from pathlib import Path

from shard_action.adapters import gha
from shard_action.adapters.changed_files import read_changed_files
from shard_action.adapters.collect import file_sizes, no_tests_message, todays_tests
from shard_action.adapters.files import make_folder, write_text_atomic
from shard_action.adapters.probe import first_run
from shard_action.adapters.quarantine_file import read_quarantine
from shard_action.adapters.runner import usable_cpus
from shard_action.adapters.terminal import print_plan
from shard_action.adapters.timing_files import read_timings
from shard_action.commands.options import (
    CACHE_DIR,
    add_config_options,
    add_history_options,
    config_from,
    history_file,
)
from shard_action.commands.report import default_templates, user_templates
from shard_action.core import shardcount
from shard_action.core.config import Config
from shard_action.core.demotion import Demotion
from shard_action.core.early_flakes import known_tests, place_early_runs
from shard_action.core.matrix import Matrix, matrix
from shard_action.core.mode import plan_mode
from shard_action.core.models import TestItem
from shard_action.core.plan import CountOption, Plan
from shard_action.core.plan_outputs import outputs
from shard_action.core.planner import make_plan
from shard_action.core.prediction import costs_of
from shard_action.core.render import PLAN, TemplateProblem, render_plan, template_set
from shard_action.core.tiers import count_options, plan_in_tiers
from shard_action.core.timings import resolve, timing_warnings, units_of
from shard_action.errors import InputError, NoTestsError

PLAN_FILE = "plan.json"
MATRIX_FILE = "matrix.json"
SUMMARY_FILE = "plan-summary.md"


def build_plan(
    args: argparse.Namespace, root: Path, explain: list[CountOption] | None = None
) -> Plan:
    """Everything ``plan`` does before writing: shared with ``local``.

    ``explain``: filled with the plan of every shard count worth showing (``plan --explain``).
    """
    config = config_from(args, root).as_planned()
    quarantine = read_quarantine(root, config.quarantine_file)
    out = getattr(args, "out", None)
    ours = [out.resolve()] if isinstance(out, Path) else []
    cache = CACHE_DIR if args.collect_cache else None
    collected = todays_tests(config, root, args.tests_from, cache, ours)
    if not collected.tests and not config.allow_no_tests:
        raise NoTestsError(no_tests_message(config, root, args.tests_from))
    timing_input = read_timings(args.timings, on_bad_report=config.on_bad_report)
    timings = resolve(
        timing_input.observations, collected.tests, granularity=units_of(collected.tests),
        sources=timing_input.sources, skipped_reports=timing_input.skipped_reports,
    )  # fmt: skip
    mode, reason = plan_mode(config.mode, timing_input.history, override=args.mode)
    sizes = file_sizes(root, collected.tests)
    history = timing_input.history
    costs = costs_of(history.costs, speed=history.speed()) if history is not None else {}
    demoted = history.demoted_for(config.max_demoted) if history is not None else []
    by_lane = Demotion(demoted=demoted).tests()
    first = first_run(
        config, root, collected, timings, sizes,
        mode=mode, quarantine=quarantine, cache=cache, out=out,
    )  # fmt: skip

    def plan_for(tests: Sequence[TestItem], notes: Sequence[str], chosen: Config) -> Plan:
        return make_plan(
            chosen, tests, timings, mode=mode, mode_reason=reason, warnings=notes,
            cpus=usable_cpus(), file_bytes=sizes, costs=costs, demoted=by_lane,
            first_run=first.costs, calibration=first.calibration,
        )  # fmt: skip

    given = bool(args.timings) or not collected.tests  # no test: no duration to estimate
    warnings = [*collected.warnings, *timing_input.warnings, *timing_warnings(timings, given)]
    plan = plan_in_tiers(config, collected.tests, plan_for, warnings)
    if explain is not None and collected.tests:  # no test: one empty shard, no count to weigh
        explain.extend(count_options(config, collected.tests, plan_for, plan))
    listed = getattr(args, "changed_files", None)
    changed = read_changed_files(listed) if listed is not None else frozenset()
    early = place_early_runs(plan, known_tests(history), config.early_flake_runs, changed)
    if early.new:
        print(early.note())
    return early.plan.model_copy(update={"quarantine": quarantine, "demoted": demoted})


def plan_summary(plan: Plan, folder: Path | None = None) -> tuple[str, list[str]]:
    """The plan's job summary, from the user's ``plan.md.j2`` in ``folder`` when it renders,
    else from ours; with a warning for each template problem."""
    defaults = default_templates()
    overrides, problems = user_templates(folder)
    warnings = [f"{p.source}: {p.message}" for p in problems]
    if PLAN in overrides:
        try:
            return render_plan(template_set(defaults, overrides), plan), warnings
        except TemplateProblem as exc:
            warnings.append(f"{folder}: {exc}; default used")
    return render_plan(template_set(defaults), plan), warnings


def write_plan(plan: Plan, out: Path, templates: Path | None = None) -> Matrix:
    make_folder(out)
    write_text_atomic(out / PLAN_FILE, plan.model_dump_json(indent=1) + "\n")
    jobs = matrix(plan)
    write_text_atomic(out / MATRIX_FILE, json.dumps(jobs, indent=1, ensure_ascii=False) + "\n")
    summary, template_warnings = plan_summary(plan, templates)
    write_text_atomic(out / SUMMARY_FILE, summary)
    gha.set_outputs(outputs(plan, str(out / PLAN_FILE)))
    gha.write_summary(summary, pointer=f"The whole plan is in {out / PLAN_FILE}.")
    for warning in plan.warnings:
        if gha.in_actions():
            gha.annotate("warning", warning, title="shard-action plan")
    for warning in template_warnings:
        if gha.in_actions():
            gha.annotate("warning", warning, title="shard-action plan template")
        else:
            print(f"warning: {warning}", file=sys.stderr)
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
    explain: list[CountOption] | None = [] if args.explain else None
    plan = build_plan(args, root, explain)
    out = args.out.resolve()
    write_plan(plan, out, args.templates)
    print_plan(plan, sys.stdout)
    if explain:
        print("shard counts (predicted from the same timings; GitHub bills each job per minute):")
        chosen = next((o for o in explain if o.shards == len(plan.shards)), None)
        for row in shardcount.table(explain, chosen if plan.counts else None):
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
    parser.add_argument(
        "--templates",
        type=Path,
        metavar="DIR",
        help="folder with a plan.md.j2 replacing our plan summary template",
    )
    parser.set_defaults(func=_run)
