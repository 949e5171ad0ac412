"""Running a shard's slices: one runner process each (and its re-runs), told to the ledger.

pytest gets only the slice's files as arguments and the exact ids through
:mod:`shard_action.pytest_select`; other runners get a rendered command template (no shell).
What to re-run and what it all means is ``core.ledger``'s; here are the processes and files.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from shard_action.adapters.coverage_facts import coverage_facts
from shard_action.adapters.runner import (
    lane_env,
    outcomes_from_junit,
    render_command,
    run_process,
    run_pytest,
    save_coverage,
    usable_cpus,
)
from shard_action.core import ledger as book
from shard_action.core.coverage_core import choose_core
from shard_action.core.ledger import FIRST, EarlyRecord, Ledger, SliceRecord
from shard_action.core.manifest import MANIFEST_FILE
from shard_action.core.outcomes import Outcome
from shard_action.core.plan import Plan, PlannedShard
from shard_action.core.process_report import PytestReport
from shard_action.core.selection import (
    PlacedSlice,
    Selection,
    file_owners,
    files_in_order,
    selection_for,
    slices_of,
)
from shard_action.core.workers import resolve as resolve_workers
from shard_action.core.workers import runs_xdist
from shard_action.errors import InputError

SHARD_VAR = "SHARD_ACTION_RUN_SHARD"
LANE_VAR = "SHARD_ACTION_RUN_LANE"
ATTEMPT_VAR = "SHARD_ACTION_RUN_ATTEMPT"


@dataclass(frozen=True)
class ShardContext:
    plan: Plan
    shard: PlannedShard
    results: Path
    root: Path
    python: str
    extra: tuple[str, ...]
    work: Path
    coverage_core: str | None = None
    """``COVERAGE_CORE`` to set (:func:`choose_core`), unless the environment has one."""

    def where(self, piece: PlacedSlice) -> str:
        return book.where(self.shard.id, piece)

    def env(self, piece: PlacedSlice, attempt: int) -> dict[str, str]:
        env = lane_env(piece.lane.env)
        if self.coverage_core is not None and "COVERAGE_CORE" not in env:
            env["COVERAGE_CORE"] = self.coverage_core
        env[SHARD_VAR] = self.shard.id
        env[LANE_VAR] = piece.lane.name
        env[ATTEMPT_VAR] = str(attempt)
        return env


def _attempt(
    ctx: ShardContext,
    piece: PlacedSlice,
    *,
    record: SliceRecord,
    selection: Selection,
    files: Sequence[str],
    junit_name: str,
    number: int,
    workers: int | None = None,
) -> PytestReport:
    """One pytest process over ``selection``; its exit code and JUnit file go to the record."""
    lane = piece.lane
    report = run_pytest(
        python=ctx.python,
        selection=selection,
        files=files,
        cwd=ctx.root,
        env=ctx.env(piece, number),
        junit=ctx.results / junit_name,
        workdir=ctx.work / junit_name.removesuffix(".xml"),
        coverage_file=ctx.work / "coverage" / ".coverage" if ctx.plan.runner.coverage else None,
        sequential=lane.sequential,
        args=(*ctx.plan.runner.pytest_args, *ctx.extra),
        timeout=lane.timeout,
        memory_mb=lane.memory_mb,
        workers=workers,
    )
    record.exit_codes.append(report.process.returncode)
    if (ctx.results / junit_name).is_file():
        record.junit.append(junit_name)
    return report


def run_pytest_slice(
    ctx: ShardContext,
    piece: PlacedSlice,
    owners: dict[str, frozenset[tuple[str, int]]],
    ledger: Ledger,
    record: SliceRecord,
) -> None:
    """The slice's process, then fresh processes for its failures while the ledger asks."""
    tag, at = str(piece.index + 1), ctx.where(piece)
    # workers for the first attempt only: a re-run of a few failed tests needs none
    workers = resolve_workers(piece.lane.workers, usable_cpus())
    xdist = runs_xdist(workers, sequential=piece.lane.sequential)
    selection = selection_for(ctx.plan, ctx.shard.id, piece.index, owners=owners, xdist=xdist)
    files = files_in_order(piece.tests)
    report = _attempt(
        ctx,
        piece,
        record=record,
        selection=selection,
        files=files,
        junit_name=f"junit-{tag}.xml",
        number=1,
        workers=workers,
    )
    book.judge_process(ledger, at, piece, report, FIRST)
    book.first_attempt(ledger, record, at, piece, report)
    if ledger.fatal:
        return
    collection = report.collection
    mine = set(piece.tests) | set(collection.unplanned if collection else ())
    for number in range(2, ctx.plan.runner.reruns + 2):
        again = record.rerun_next(mine, ctx.plan.runner.reruns)
        if not again:
            break
        known = frozenset(selection.known | set(again))
        rerun = Selection(keep=tuple(again), known=known, owned_files=frozenset())
        ledger.reruns = True
        name = f"junit-{tag}-rerun{number - 1}.xml"
        report = _attempt(
            ctx,
            piece,
            record=record,
            selection=rerun,
            files=files_in_order(again),
            junit_name=name,
            number=number,
        )
        book.judge_process(ledger, at, piece, report, f"re-run {number - 1}")
        book.rerun_attempt(record, again, report)
        if ledger.fatal:
            return


def run_command_slice(
    ctx: ShardContext, piece: PlacedSlice, template: str, ledger: Ledger, record: SliceRecord
) -> None:
    """Any runner: one process per slice, outcomes from its JUnit report, else its exit code."""
    junit_name = f"junit-{piece.index + 1}.xml"
    junit = ctx.results / junit_name
    try:
        argv = render_command(
            template,
            files=files_in_order(piece.tests),
            tests=piece.tests,
            junit_path=junit.resolve(),
            shard=ctx.shard.id,
            lane=piece.lane.name,
            python=ctx.python,
        )
    except ValueError as exc:
        raise InputError(f"runner.command: {exc}") from exc
    process = run_process(
        [*argv, *ctx.extra],
        cwd=ctx.root,
        env=ctx.env(piece, 1),
        timeout=piece.lane.timeout,
        memory_mb=piece.lane.memory_mb,
    )
    record.exit_codes.append(process.returncode)
    at = ctx.where(piece)
    reports_junit = any(str(junit.resolve()) in arg for arg in argv)
    found: dict[str, Outcome] | None = None
    if junit.is_file():
        record.junit.append(junit_name)
        try:
            from shard_action.adapters.junit import read_junit  # noqa: PLC0415 - pytest's path reads events

            found = outcomes_from_junit(read_junit(junit), piece.tests, root=ctx.root)
        except InputError as exc:
            ledger.fail(f"{at}: the runner's JUnit report is unreadable: {exc}", fatal=False)
    book.judge_command(
        ledger,
        at,
        piece,
        process,
        junit_name=junit_name,
        wrote_junit=junit.is_file(),
        reports_junit=reports_junit,
    )
    book.command_outcomes(
        ledger,
        record,
        at,
        piece,
        returncode=process.returncode,
        found=found,
        reports_junit=reports_junit,
    )


def run_slices(ctx: ShardContext, ledger: Ledger) -> list[str]:
    """Every slice in order (fail fast: after a fatal failure the rest count as not run);
    the coverage file names saved."""
    plan, shard = ctx.plan, ctx.shard
    owners = file_owners(plan)
    for piece, record in zip(slices_of(plan, shard), ledger.slices, strict=True):
        if not piece.tests:
            continue
        if plan.runner.command is not None:
            run_command_slice(ctx, piece, plan.runner.command, ledger, record)
        else:
            run_pytest_slice(ctx, piece, owners, ledger, record)
        if ledger.fatal:
            break
    run_early(ctx, ledger)
    parts = ctx.work / "coverage"
    if not (plan.runner.coverage and plan.runner.command is None and parts.is_dir()):
        return []
    name = f".coverage.{shard.id}"
    problem = save_coverage(ctx.python, parts, ctx.results / name, cwd=ctx.root, env=os.environ)
    if problem is None:
        return [name]
    if any(record.tests for record in ledger.slices):
        ledger.fail(f"shard {shard.id}: {problem}", fatal=False)
    return []


def run_early(ctx: ShardContext, ledger: Ledger) -> None:
    """The plan's new tests, ``early_flake_runs`` more rounds each after the shard's own, each
    round a fresh process without coverage. What goes wrong here is a note, never a failure."""
    runner = ctx.plan.runner
    if ledger.fatal or runner.early_flake_runs <= 0 or runner.command is not None:
        return
    number = 0
    for early in ctx.shard.early:
        piece = PlacedSlice(-1, ctx.plan.lane(early.lane), tuple(early.tests))
        record = EarlyRecord(early.lane, piece.tests)
        ledger.early.append(record)
        keep = Selection(keep=piece.tests, known=frozenset(piece.tests), owned_files=frozenset())
        for attempt in range(2, runner.early_flake_runs + 2):
            number += 1
            name = f"early-{number}.xml"
            report = run_pytest(
                python=ctx.python, selection=keep, files=files_in_order(piece.tests),
                cwd=ctx.root, env=ctx.env(piece, attempt), junit=ctx.results / name,
                workdir=ctx.work / f"early-{number}", coverage_file=None,
                sequential=piece.lane.sequential, args=(*runner.pytest_args, *ctx.extra),
                timeout=piece.lane.timeout, memory_mb=piece.lane.memory_mb, workers=None,
            )  # fmt: skip
            ledger.reruns = True  # the round is in the shard's clock: no clean finish sample
            if (ctx.results / name).is_file():
                record.junit.append(name)
            record.round(report)
            if report.process.timed_out or report.process.signal is not None:
                ledger.notes.append(
                    f"{ctx.where(piece)}: early-flake round {number} was stopped "
                    f"(exit {report.process.returncode}); its tests count only where they ran"
                )


def choose_coverage_core(plan: Plan, python: str, root: Path, ledger: Ledger) -> str | None:
    """``COVERAGE_CORE`` for this shard's pytest processes (none: coverage.py chooses)."""
    runner = plan.runner
    if not runner.coverage or runner.command is not None or "COVERAGE_CORE" in os.environ:
        return None
    facts = None
    if runner.coverage_core == "auto":
        facts = coverage_facts(python, root, os.environ)
    choice = choose_core(runner.coverage_core, facts)
    ledger.notes.append(f"coverage core asked: {choice.reason}")
    return choice.core


def clean(results: Path, shard_id: str) -> None:
    """Remove what an earlier run of this shard left here, and nothing else."""
    for old in [results / MANIFEST_FILE, results / f".coverage.{shard_id}"]:
        old.unlink(missing_ok=True)
    for pattern in ("junit-*.xml", "early-*.xml"):
        for old in results.glob(pattern):
            old.unlink()


def run_attempt(env: Mapping[str, str]) -> int | None:
    """``GITHUB_RUN_ATTEMPT`` as a number; ``None`` outside GitHub Actions (or when unusable)."""
    text = env.get("GITHUB_RUN_ATTEMPT", "").strip()
    return int(text) if text.isdigit() and int(text) >= 1 else None
