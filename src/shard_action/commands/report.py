"""``shard-action report``: the fan-in. Every shard's results in, one verdict out.

Wiring only: adapters read the plan, the shards' results (``adapters.shard_results``), the
coverage data and the history; ``core.report.build`` decides; adapters write ``junit.xml``,
``coverage.*``, ``summary.md``, ``comment.md``, ``report.json`` and ``history.json`` (not with
``--fork``, nor when the given history could not be read), ``$GITHUB_OUTPUT``, the job summary
and the annotations (``core.report_outputs``). Exit status: ``core.report.exit_code``.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from shard_action.adapters import gha
from shard_action.adapters.coverage_merge import merge_coverage
from shard_action.adapters.fan_in_inputs import previous_history, settings_from
from shard_action.adapters.files import make_folder
from shard_action.adapters.quarantine_file import today_utc
from shard_action.adapters.report_files import default_templates, user_templates, write_files
from shard_action.adapters.shard_results import check_results_given, collect_results
from shard_action.commands.api_options import token_from_env
from shard_action.commands.run import load_plan
from shard_action.core.config import FLAKY_THRESHOLD, RECOVER_AFTER
from shard_action.core.jobs import Job, setups_of
from shard_action.core.plan import Plan
from shard_action.core.report import Problem, Report, Settings, build
from shard_action.core.report_outputs import annotations_for, console_text, outputs, summary_url

__all__ = ["ReportFiles", "annotations_for", "default_templates", "make_report", "user_templates"]

DEFAULT_OUT = Path("shard-report")


@dataclass(frozen=True, slots=True)
class ReportFiles:
    """What ``report`` produced, for callers such as ``local``."""

    report: Report
    out: Path
    summary: str
    comment: str
    history_written: bool
    workdirs: dict[str, str]
    """Shard id -> the folder it ran in (to make JUnit file paths relative)."""
    notes: tuple[str, ...] = ()
    """Which shard results were left out or replaced (re-run attempts, another plan)."""


def make_report(
    *,
    plan: Plan,
    results: Sequence[Path],
    out: Path,
    history_path: Path | None = None,
    templates: Path | None = None,
    fork: bool = False,
    flaky_threshold: float | None = None,
    recover_after: int | None = None,
    root: Path | None = None,
    env: Mapping[str, str] | None = None,
    concurrency: int | None = None,
    jobs: Sequence[Job] = (),
) -> ReportFiles:
    """Everything ``report`` does except printing and the exit status (``local`` calls it,
    with the number of shard processes it ran at once as ``concurrency``); ``jobs``: this run's
    jobs from the REST API, for each shard job's set-up."""
    env = os.environ if env is None else env
    out = out.resolve()
    make_folder(out)
    config, problems = settings_from(plan, env, flaky_threshold, recover_after)
    collected = collect_results(results, plan)
    merged = merge_coverage(collected.coverage, out, root=(root or Path.cwd()).resolve())
    history, history_problems = previous_history(history_path)
    overrides, template_problems = user_templates(templates)
    problems += collected.problems
    problems += [
        Problem(kind="coverage", source=p.source, message=p.message, shard=p.shard)
        for p in merged.problems
    ]
    settings = Settings.of(
        config,
        fork=fork,
        sha=env.get("GITHUB_SHA"),
        today=today_utc(),
        concurrency=concurrency,
    )
    started = {s.manifest.shard: s.manifest.started for s in collected.shards}
    fanin = build(
        plan,
        collected.shards,
        history=history,
        coverage=merged.totals,
        settings=settings,
        problems=problems + history_problems + template_problems,
        setups=setups_of(plan, jobs, started),
    )
    report, summary, comment = write_files(out, fanin, overrides, templates, summary_url(env))
    workdirs = {s.manifest.shard: s.manifest.workdir for s in collected.shards}
    written = fanin.history is not None
    return ReportFiles(report, out, summary, comment, written, workdirs, tuple(collected.notes))


def _print(files: ReportFiles) -> None:
    print(console_text(files.report, files.out, files.notes), flush=True)


def annotate(report: Report, workdirs: Mapping[str, str]) -> None:
    """Annotations on the run: failing, lost and flaky tests, at their file and line."""
    for item in annotations_for(report, workdirs):
        gha.annotate(item.level, item.message, title=item.title, file=item.file, line=item.line)


def _run(args: argparse.Namespace) -> int:
    check_results_given(args.results)
    plan = load_plan(args.plan)
    # requests is imported by the commands that call the API only (see api_options)
    from shard_action.adapters.run_jobs import read_run_jobs  # noqa: PLC0415

    found = read_run_jobs(os.environ, token_from_env())
    if found.notice:
        gha.annotate("notice", found.notice, title="shard-action")
    files = make_report(
        plan=plan,
        results=args.results,
        out=args.out,
        history_path=args.history,
        templates=args.templates,
        fork=args.fork,
        flaky_threshold=args.flaky_threshold,
        recover_after=args.recover_after,
        jobs=found.jobs,
    )
    report = files.report
    gha.set_outputs(outputs(report))
    gha.write_summary(files.summary, pointer=f"The full report is in {files.out / 'report.json'}.")
    if gha.in_actions():
        annotate(report, files.workdirs)
    _print(files)
    return report.exit_code


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "report",
        help="fan-in: merge the shards' results, prove nothing was lost, update the history",
        description="Merge every shard's JUnit and coverage, check the run against the plan "
        "(lost, twice, unplanned), classify flaky tests, update the history and decide the next "
        "mode, and write the job summary and the PR comment. Exit status: 0 ok, 1 failing tests, "
        "2 bad input (or an unreadable history), 3 incomplete run.",
    )
    arg = parser.add_argument
    arg("--plan", type=Path, required=True, help="plan.json from `plan`")
    arg(
        "--results",
        type=Path,
        nargs="+",
        action="extend",
        required=True,
        metavar="DIR",
        help="shard results: folders searched for manifest.json (e.g. shard-results/)",
    )
    arg("--history", type=Path, metavar="FILE", help="the previous history (missing: a new one)")
    arg(
        "--templates",
        type=Path,
        metavar="DIR",
        help="folder with summary.md.j2 and/or comment.md.j2 replacing ours",
    )
    arg(
        "--fork",
        action="store_true",
        help="results of an untrusted fork: the history is neither changed nor written",
    )
    arg(
        "--flaky-threshold",
        type=float,
        metavar="RATE",
        help="flaky rate (0-1) above which the next run is serial "
        f"(default: config, {FLAKY_THRESHOLD})",
    )
    arg(
        "--recover-after",
        type=int,
        metavar="N",
        help=f"clean serial runs before parallel again (default: config, {RECOVER_AFTER})",
    )
    arg("--out", type=Path, default=DEFAULT_OUT, metavar="DIR", help="output folder")
    parser.set_defaults(func=_run)
