"""``shard-action run``: run exactly one shard of a plan and leave evidence for the fan-in.

One process per lane run of the shard (one in parallel mode; lane after lane in serial mode),
with the lane's env, timeout and memory cap. pytest gets only the shard's files as arguments and
the exact ids through :mod:`shard_action.pytest_select`; other runners get a rendered command
template (no shell). Failed tests are re-run in fresh processes to tell flaky from broken.

The results folder gets ``junit-<run>.xml`` (and ``junit-<run>-rerun<k>.xml``), the combined
coverage data ``.coverage.<shard>`` and ``manifest.json`` (:class:`ShardManifest`), written last
and atomically: a folder without a manifest is a shard that died. The manifest holds one
:class:`SliceResult` per lane run, because a planned test is a (lane instance, test id) pair: in
serial mode a fan-out lane runs the same ids once per backend in one shard, and each run's
tests, outcomes, re-runs (with that lane's env), drift and JUnit files are its own.

Exit status: 0, or 1 for a broken test (a flaky one too with ``fail-on-flaky``), planned tests
that neither ran nor drifted, a runner crash or an exceeded limit; 2 for bad input.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from types import FrameType

from shard_action.adapters.coverage_facts import coverage_facts
from shard_action.adapters.documents import read_document
from shard_action.adapters.files import make_folder, write_text_atomic
from shard_action.adapters.runner import (
    ProcessResult,
    PytestReport,
    outcomes_from_junit,
    render_command,
    run_process,
    run_pytest,
    save_coverage,
)
from shard_action.core.completeness import fanned_out
from shard_action.core.coverage_core import choose_core
from shard_action.core.manifest import (
    MANIFEST_FILE,
    Attempt,
    Drift,
    Rerun,
    ShardManifest,
    SliceResult,
)
from shard_action.core.outcomes import Outcome, is_failing
from shard_action.core.plan import EMPTY_SHARD_ID, Plan, PlannedShard, plan_digest
from shard_action.core.prediction import ProcessTimes, measure
from shard_action.core.quarantine import Quarantine
from shard_action.core.reruns import (
    Verdict,
    final_outcome,
    shard_exit_code,
    verdict,
    wants_rerun,
)
from shard_action.core.selection import (
    PlacedSlice,
    Selection,
    check_plan,
    file_owners,
    files_in_order,
    group_by_file,
    not_run,
    selection_for,
    slices_of,
)
from shard_action.core.testids import file_of, label
from shard_action.core.units import count, duration
from shard_action.core.workers import resolve as resolve_workers
from shard_action.errors import InputError

DEFAULT_RESULTS = Path("shard-results")
SHARD_VAR = "SHARD_ACTION_RUN_SHARD"
LANE_VAR = "SHARD_ACTION_RUN_LANE"
ATTEMPT_VAR = "SHARD_ACTION_RUN_ATTEMPT"
FIRST = "the runner process"


def run_attempt(env: Mapping[str, str]) -> int | None:
    """``GITHUB_RUN_ATTEMPT`` as a number; ``None`` outside GitHub Actions (or when unusable)."""
    text = env.get("GITHUB_RUN_ATTEMPT", "").strip()
    return int(text) if text.isdigit() and int(text) >= 1 else None


def load_plan(path: Path) -> Plan:
    """Read and validate ``plan.json``; every problem is an :class:`InputError` naming it."""
    plan = read_document(path, Plan)
    try:
        check_plan(plan)
    except ValueError as exc:
        raise InputError(f"not a valid plan: {exc}", source=str(path)) from exc
    return plan


# -- bookkeeping -------------------------------------------------------------------------------


@dataclass
class _RunRecord:
    """What one lane run of the shard did: its processes, first attempts, re-runs and drift.

    Kept per run, not per shard: a planned test is a (lane instance, id) pair, and in serial
    mode a fan-out lane puts the same ids in two runs of one shard (once per backend), each of
    which must be counted on its own. Within one run an id is planned once, so a second sighting
    of it in the same run (two witnesses of one attempt: the event stream, a collection error)
    is the same test, not a second one.
    """

    lane: str
    planned: tuple[str, ...]
    tests: list[str] = field(default_factory=list)
    attempts: dict[str, list[Attempt]] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    unplanned: list[str] = field(default_factory=list)
    exit_codes: list[int] = field(default_factory=list)
    junit: list[str] = field(default_factory=list)
    coverage_core: str | None = None

    def first(self, test: str, outcome: Outcome, seconds: float | None) -> None:
        if test in self.attempts:
            return
        self.tests.append(test)
        self.attempts[test] = [Attempt(attempt=1, outcome=outcome, seconds=seconds)]

    def again(self, test: str, outcome: Outcome, seconds: float | None) -> None:
        attempts = self.attempts[test]
        attempts.append(Attempt(attempt=len(attempts) + 1, outcome=outcome, seconds=seconds))

    def outcomes_of(self, test: str) -> list[Outcome]:
        return [a.outcome for a in self.attempts[test]]


@dataclass
class _Ledger:
    """Everything the shard learns while it runs, in the order it learns it."""

    runs: list[_RunRecord] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    fatal: bool = False
    processes: list[ProcessTimes] = field(default_factory=list)
    """The first process of each lane run that ran a test, for the shard's measured parts."""
    files: dict[str, float] = field(default_factory=dict)
    reruns: bool = False


@dataclass(frozen=True)
class _Context:
    plan: Plan
    shard: PlannedShard
    results: Path
    root: Path
    python: str
    extra: tuple[str, ...]
    work: Path
    coverage_core: str | None = None
    """``COVERAGE_CORE`` to set (:func:`choose_core`), unless the environment has one."""


def _where(ctx: _Context, piece: PlacedSlice) -> str:
    return f"shard {ctx.shard.id}, lane {piece.lane.name}"


def _env(ctx: _Context, piece: PlacedSlice, attempt: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update(piece.lane.env)
    if ctx.coverage_core is not None and "COVERAGE_CORE" not in env:
        env["COVERAGE_CORE"] = ctx.coverage_core
    env[SHARD_VAR] = ctx.shard.id
    env[LANE_VAR] = piece.lane.name
    env[ATTEMPT_VAR] = str(attempt)
    return env


def _signal_name(number: int) -> str:
    try:
        return f"signal {number} ({signal.Signals(number).name})"
    except ValueError:
        return f"signal {number}"


CAUSE_CHARS = 300
"""A cause quoted from a process's stderr is cut here: one line of a report, not a traceback."""


def _said(process: ProcessResult) -> str:
    """``: <its last stderr line>``, the cause in the process's own words, or nothing."""
    cause = process.cause
    if cause is None:
        return ""
    if len(cause) > CAUSE_CHARS:
        cause = cause[: CAUSE_CHARS - 1].rstrip() + "…"
    return f": {cause}"


def _judge_process(
    ctx: _Context, piece: PlacedSlice, report: PytestReport, ledger: _Ledger, label: str
) -> None:
    """Turn what went wrong with one process (not with its tests) into failures."""
    where = _where(ctx, piece)
    process = report.process
    lane = piece.lane
    inside = f" while running {report.running}" if report.running else ""
    if process.timed_out:
        ledger.failures.append(
            f"{where}: {label} exceeded the lane timeout of {lane.timeout:g} s and was "
            f"killed{inside}"
        )
        ledger.fatal = True
    elif report.memory_errors:
        ledger.failures.append(
            f"{where}: {report.memory_errors[0]} exceeded the memory cap of {lane.memory_mb} MiB "
            "(MemoryError); the process was stopped"
        )
        ledger.fatal = True
    elif process.signal is not None:
        cap = (
            f" (probably the memory cap of {lane.memory_mb} MiB)"
            if lane.memory_mb is not None
            else ""
        )
        ledger.failures.append(
            f"{where}: {label} was killed by {_signal_name(process.signal)}{cap}{inside}"
        )
        ledger.fatal = True
    elif report.collection is None:
        ledger.failures.append(
            f"{where}: {label} exited with code {process.returncode} before it finished "
            f"collecting{_said(process)}"
        )
        ledger.fatal = True
    elif process.returncode in (3, 4):
        kind = "an internal error" if process.returncode == 3 else "a usage error"
        ledger.failures.append(f"{where}: pytest stopped with {kind} (exit {process.returncode})")
        ledger.fatal = True
    if report.collection is not None and report.collection.errors and label == FIRST:
        nodes = ", ".join(node or "(rootdir)" for node, _ in report.collection.errors[:5])
        ledger.failures.append(f"{where}: {label} could not collect {nodes}")


def _clocked(report: PytestReport, ledger: _Ledger) -> None:
    """Keep what the first process's clock says, for the manifest's measured parts."""
    clock = report.clock
    if clock is not None and report.process.began > 0:
        ledger.processes.append(
            ProcessTimes(report.process.began, clock.configured, clock.first, clock.last)
        )
    if report.collection is not None:
        for name, seconds in report.collection.files:
            ledger.files[name] = ledger.files.get(name, 0.0) + seconds


def _run_pytest_slice(
    ctx: _Context,
    piece: PlacedSlice,
    owners: dict[str, frozenset[tuple[str, int]]],
    ledger: _Ledger,
    record: _RunRecord,
) -> None:
    lane = piece.lane
    tag = str(piece.index + 1)
    coverage_parts = ctx.work / "coverage" / ".coverage" if ctx.plan.runner.coverage else None
    args = (*ctx.plan.runner.pytest_args, *ctx.extra)

    def attempt(
        selection: Selection, files: Sequence[str], junit_name: str, number: int
    ) -> PytestReport:
        # workers for the first attempt only: a re-run of a few failed tests needs none
        workers = resolve_workers(lane.workers, os.cpu_count()) if number == 1 else None
        report = run_pytest(
            python=ctx.python,
            selection=selection,
            files=files,
            cwd=ctx.root,
            env=_env(ctx, piece, number),
            junit=ctx.results / junit_name,
            workdir=ctx.work / junit_name.removesuffix(".xml"),
            coverage_file=coverage_parts,
            sequential=lane.sequential,
            args=args,
            timeout=lane.timeout,
            memory_mb=lane.memory_mb,
            workers=workers,
        )
        record.exit_codes.append(report.process.returncode)
        if (ctx.results / junit_name).is_file():
            record.junit.append(junit_name)
        return report

    selection = selection_for(ctx.plan, ctx.shard.id, piece.index, owners=owners)
    report = attempt(selection, files_in_order(piece.tests), f"junit-{tag}.xml", 1)
    _judge_process(ctx, piece, report, ledger, FIRST)
    _clocked(report, ledger)
    for result in report.results:
        record.first(result.id, result.outcome, result.seconds)
    if report.running is not None:
        record.first(report.running, "error", None)
    collection = report.collection
    if collection is not None:
        record.coverage_core = collection.coverage_core
        record.missing.extend(collection.missing)
        record.unplanned.extend(collection.unplanned)
        if collection.ignored:
            ledger.notes.append(
                f"{_where(ctx, piece)}: {count(len(collection.ignored), 'collected test')} not in "
                f"the plan, replacing no planned id, did not run "
                f"(first: {collection.ignored[0]})"
            )
        broken = {file_of(node) for node, _ in collection.errors if node}
        for test in piece.tests:
            if file_of(test) in broken:
                record.first(test, "error", None)
        if lane.sequential:
            mine_planned = set(piece.tests)
            ran = [r.id for r in report.results if r.id in mine_planned]
            ran_set = set(ran)
            planned = [t for t in piece.tests if t in ran_set]
            if ran != planned:
                ledger.notes.append(
                    f"{_where(ctx, piece)}: ran in pytest's collection order, which differs "
                    "from the order in the plan"
                )
    if ledger.fatal:
        return
    mine = set(piece.tests) | set(collection.unplanned if collection else ())
    for number in range(2, ctx.plan.runner.reruns + 2):
        again = [
            t
            for t in record.tests
            if t in mine and wants_rerun(record.outcomes_of(t), ctx.plan.runner.reruns)
        ]
        if not again:
            break
        known = selection.known | set(again)
        rerun = Selection(keep=tuple(again), known=frozenset(known), owned_files=frozenset())
        ledger.reruns = True
        name = f"junit-{tag}-rerun{number - 1}.xml"
        report = attempt(rerun, files_in_order(again), name, number)
        _judge_process(ctx, piece, report, ledger, f"re-run {number - 1}")
        got = {r.id: r for r in report.results}
        for test in again:
            again_result = got.get(test)
            if again_result is None:  # not found again (a drifted id), or the process died
                record.again(test, "error", None)
            else:
                record.again(test, again_result.outcome, again_result.seconds)
        if ledger.fatal:
            return


def _run_command_slice(
    ctx: _Context, piece: PlacedSlice, template: str, ledger: _Ledger, record: _RunRecord
) -> None:
    """Any runner: one process per run, outcomes from its JUnit report, else its exit code."""
    lane = piece.lane
    junit_name = f"junit-{piece.index + 1}.xml"
    junit = ctx.results / junit_name
    try:
        argv = render_command(
            template,
            files=files_in_order(piece.tests),
            tests=piece.tests,
            junit_path=junit.resolve(),
            shard=ctx.shard.id,
            lane=lane.name,
            python=ctx.python,
        )
    except ValueError as exc:
        raise InputError(f"runner.command: {exc}") from exc
    process = run_process(
        [*argv, *ctx.extra],
        cwd=ctx.root,
        env=_env(ctx, piece, 1),
        timeout=lane.timeout,
        memory_mb=lane.memory_mb,
    )
    record.exit_codes.append(process.returncode)
    where = _where(ctx, piece)
    reports_junit = any(str(junit.resolve()) in arg for arg in argv)
    found: dict[str, Outcome] | None = None
    if junit.is_file():
        record.junit.append(junit_name)
        try:
            from shard_action.adapters.junit import read_junit  # noqa: PLC0415 - pytest's path reads events

            found = outcomes_from_junit(read_junit(junit), piece.tests, root=ctx.root)
        except InputError as exc:
            ledger.failures.append(f"{where}: the runner's JUnit report is unreadable: {exc}")
    elif reports_junit and not (process.timed_out or process.signal is not None):
        ledger.failures.append(
            f"{where}: the runner exited with code {process.returncode} and wrote no JUnit "
            f"report to {junit_name}{_said(process)}: its "
            f"{count(len(piece.tests), 'planned test')} count as not run"
        )
    if process.timed_out:
        ledger.failures.append(
            f"{where}: the runner exceeded the lane timeout of {lane.timeout:g} s and was killed"
        )
        ledger.fatal = True
    elif process.signal is not None:
        cap = f" (probably the memory cap of {lane.memory_mb} MiB)" if lane.memory_mb else ""
        ledger.failures.append(
            f"{where}: the runner was killed by {_signal_name(process.signal)}{cap}"
        )
        ledger.fatal = True
    _record_command_outcomes(
        ctx,
        piece,
        returncode=process.returncode,
        found=found,
        reports_junit=reports_junit,
        ledger=ledger,
        record=record,
    )


def _record_command_outcomes(
    ctx: _Context,
    piece: PlacedSlice,
    *,
    returncode: int,
    found: dict[str, Outcome] | None,
    reports_junit: bool,
    ledger: _Ledger,
    record: _RunRecord,
) -> None:
    """A planned id gets the outcome its JUnit cases give it; without one it is lost.

    Only a template that asks for no JUnit report (no ``junit_path``) falls back to the exit
    code, since then the exit code is all the runner says.
    """
    where = _where(ctx, piece)
    if ledger.fatal:
        fallback: Outcome | None = "error"
    elif found is None and not reports_junit:
        fallback = "passed" if returncode == 0 else "failed"
    else:
        fallback = None
    outcomes = dict(found or {})
    unnamed = [t for t in piece.tests if t not in outcomes]
    if found is not None and unnamed and fallback is None:
        ledger.failures.append(
            f"{where}: the runner's JUnit report has no result for "
            f"{count(len(unnamed), 'planned test')}: not run (deselected, filtered out, or "
            f"reported under a name that matches no planned file); first: {unnamed[0]}"
        )
    recorded = {t: o for t in piece.tests if (o := outcomes.get(t, fallback)) is not None}
    for test, outcome in recorded.items():
        record.first(test, outcome, None)
    complete = len(recorded) == len(piece.tests)  # otherwise a failure above says why
    if (
        returncode != 0
        and not ledger.fatal
        and complete
        and not any(is_failing(o) for o in recorded.values())
    ):
        ledger.failures.append(
            f"{where}: the runner exited with code {returncode} but reported no failure"
        )


# -- the shard ---------------------------------------------------------------------------------


def _clean(results: Path, shard_id: str) -> None:
    """Remove what an earlier run of this shard left here, and nothing else."""
    for old in [results / MANIFEST_FILE, results / f".coverage.{shard_id}"]:
        old.unlink(missing_ok=True)
    for old in results.glob("junit-*.xml"):
        old.unlink()


def _now() -> datetime:
    return datetime.now(timezone.utc)


@contextlib.contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """A cancelled CI job sends SIGTERM: stop the runner's process group on the way out."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread: nothing to install
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _coverage_core(plan: Plan, python: str, root: Path, ledger: _Ledger) -> str | None:
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


def run_shard(
    plan: Plan,
    shard_id: str,
    *,
    results: Path,
    root: Path,
    extra: Sequence[str] = (),
    plan_source: str = "plan.json",
    attempt: int | None = None,
) -> ShardManifest:
    """Run one shard and write its manifest; the manifest's ``exit_code`` is the verdict.

    ``attempt`` is the workflow run's attempt (``GITHUB_RUN_ATTEMPT``), kept in the manifest.
    """
    started = _now()
    root = root.resolve()
    results = results.resolve()
    known_ids = {s.id for s in plan.shards}
    if shard_id not in known_ids and shard_id != EMPTY_SHARD_ID:
        listed = ", ".join(s.id for s in plan.shards) or "none"
        raise InputError(
            f"no shard {shard_id!r} in the plan (shards: {listed})", source=plan_source
        )
    make_folder(results)
    _clean(results, shard_id)
    shard = plan.shard(shard_id) if shard_id in known_ids else None
    ledger = _Ledger()
    coverage_files: list[str] = []
    pieces = slices_of(plan, shard) if shard is not None else []
    ledger.runs = [_RunRecord(piece.lane.name, piece.tests) for piece in pieces]
    if shard is not None and shard.tests:
        python = plan.runner.python or sys.executable
        core = _coverage_core(plan, python, root, ledger)
        with tempfile.TemporaryDirectory(prefix="shard-action-run-") as tmp:
            ctx = _Context(plan, shard, results, root, python, tuple(extra), Path(tmp), core)
            owners = file_owners(plan)
            for piece, record in zip(pieces, ledger.runs, strict=True):
                if not piece.tests:
                    continue
                if plan.runner.command is not None:
                    _run_command_slice(ctx, piece, plan.runner.command, ledger, record)
                else:
                    _run_pytest_slice(ctx, piece, owners, ledger, record)
                if ledger.fatal:
                    break  # fail fast: the remaining runs are reported as not run
            parts = ctx.work / "coverage"
            if plan.runner.coverage and plan.runner.command is None and parts.is_dir():
                name = f".coverage.{shard.id}"
                problem = save_coverage(python, parts, results / name, cwd=root, env=os.environ)
                if problem is None:
                    coverage_files.append(name)
                elif any(record.tests for record in ledger.runs):
                    ledger.failures.append(f"shard {shard.id}: {problem}")
    return _finish(
        plan=plan,
        shard=shard,
        shard_id=shard_id,
        ledger=ledger,
        started=started,
        results=results,
        root=root,
        coverage_files=coverage_files,
        attempt=attempt,
    )


def _run_result(
    record: _RunRecord, quarantine: Quarantine, base: str | None
) -> tuple[SliceResult, list[Verdict], list[str], Counter[Outcome]]:
    """The manifest's view of one run, its verdicts, its lost ids and its outcome counts.

    A quarantined test's verdict is left out of the verdicts that decide the exit code: it ran
    and the manifest records it, but it does not fail the shard.
    """
    outcomes: dict[str, Outcome] = {}
    verdicts: list[Verdict] = []
    reruns: list[Rerun] = []
    for test in record.tests:
        attempts = record.attempts[test]
        outcomes[test] = final_outcome([a.outcome for a in attempts])
        judged = verdict([a.outcome for a in attempts])
        if judged is not None:
            if quarantine.covers(test, record.lane, base) is None:
                verdicts.append(judged)
            if len(attempts) > 1:
                reruns.append(Rerun(test=test, attempts=attempts, verdict=judged))
    missing = group_by_file(record.missing)
    unplanned = group_by_file(record.unplanned)
    drift = [
        Drift(file=f, planned=missing.get(f, []), collected=unplanned.get(f, []))
        for f in dict.fromkeys([*missing, *unplanned])
    ]
    result = SliceResult(
        lane=record.lane,
        planned=len(record.planned),
        tests=record.tests,
        outcomes=outcomes,
        reruns=reruns,
        drift=drift,
        exit_codes=record.exit_codes,
        junit=record.junit,
        coverage_core=record.coverage_core,
    )
    lost = not_run(record.planned, record.tests, record.missing)
    return result, verdicts, lost, Counter(outcomes.values())


def _finish(
    *,
    plan: Plan,
    shard: PlannedShard | None,
    shard_id: str,
    ledger: _Ledger,
    started: datetime,
    results: Path,
    root: Path,
    coverage_files: list[str],
    attempt: int | None = None,
) -> ShardManifest:
    runs: list[SliceResult] = []
    verdicts: list[Verdict] = []
    lost: list[str] = []
    counts: Counter[Outcome] = Counter()
    fanned = fanned_out(plan.shards)
    bases = {lane.name: lane.base for lane in plan.lanes}
    for record in ledger.runs:
        result, judged, missed, counted = _run_result(
            record, plan.quarantine, bases.get(record.lane)
        )
        runs.append(result)
        verdicts += judged
        lost += [label(t, record.lane, t in fanned) for t in missed]
        counts += counted
    failures = list(ledger.failures)
    if lost and not failures:  # with a cause, the count is the report's to give, once
        failures.append(f"shard {shard_id}: {count(len(lost), 'planned test')} did not run")
    failure = "; ".join(failures) if failures else None
    code = shard_exit_code(
        verdicts, fail_on_flaky=plan.runner.fail_on_flaky, lost=len(lost), failure=failure
    )
    finished = _now()
    measured = measure(
        started.timestamp(),
        finished.timestamp(),
        ledger.processes,
        ledger.files,
        reruns=ledger.reruns,
    )
    manifest = ShardManifest(
        shard=shard_id,
        lane=shard.lane if shard is not None else EMPTY_SHARD_ID,
        mode=plan.mode,
        started=started,
        finished=finished,
        exit_code=code,
        slices=runs,
        coverage=coverage_files,
        workdir=str(root),
        failure=failure,
        plan_digest=plan_digest(plan),
        attempt=attempt,
        measured=measured,
    )
    write_text_atomic(results / MANIFEST_FILE, manifest.model_dump_json(indent=2) + "\n")
    _print_summary(manifest, results, ledger.notes, counts, lost, fanned=fanned)
    return manifest


def _print_summary(
    manifest: ShardManifest,
    results: Path,
    notes: list[str],
    counts: Counter[Outcome],
    lost: Sequence[str] = (),
    *,
    fanned: frozenset[str] = frozenset(),
) -> None:
    """Counts are per (lane, id): under fan-out in serial mode one id runs once per backend.

    A test is named with its lane when it is ``fanned`` out (planned in several lanes), so
    that the sqlite and the memory run of the same id can be told apart.
    """
    several = len(manifest.slices) > 1

    def name(test: str, run: SliceResult) -> str:
        return label(test, run.lane, test in fanned)

    flaky = [(r, run) for run in manifest.slices for r in run.reruns if r.verdict == "flaky"]
    broken = [
        (t, o, run) for run in manifest.slices for t, o in run.outcomes.items() if is_failing(o)
    ]
    drifted = sum(len(d.planned) + len(d.collected) for run in manifest.slices for d in run.drift)
    seconds = (manifest.finished - manifest.started).total_seconds()
    status = "ok" if manifest.exit_code == 0 else "FAILED"
    lines = [
        f"shard-action run: shard {manifest.shard} (lane {manifest.lane}) {status} "
        f"in {duration(seconds)}: {manifest.executed} of "
        f"{count(manifest.planned, 'planned test')} ran"
        + (f", {count(drifted, 'drifted id')}" if drifted else ""),
        "  "
        + "  ".join(
            f"{outcome} {counts.get(outcome, 0)}"
            for outcome in ("passed", "failed", "error", "skipped")
        )
        + f"  flaky {len(flaky)}  broken {len(broken)}",
    ]
    if several:
        lines += [
            f"  lane {run.lane}: {len(run.tests)} of {run.planned} ran" for run in manifest.slices
        ]
    lines += [f"  flaky:  {name(r.test, run)}" for r, run in flaky[:20]]
    lines += [f"  broken: {name(t, run)} ({o})" for t, o, run in broken[:20]]
    if len(broken) > 20:
        lines.append(f"  … and {len(broken) - 20} more broken")
    drift = [(d, run) for run in manifest.slices for d in run.drift]
    for record, run in drift[:10]:
        lines.append(
            f"  drift in {name(record.file, run)}: {count(len(record.planned), 'planned id')} not "
            f"collected, {count(len(record.collected), 'unplanned id')} run here"
        )
    cores = sorted({run.coverage_core for run in manifest.slices if run.coverage_core})
    if cores:
        lines.append(f"  coverage measured with the {', '.join(cores)} core")
    lines += [f"  note: {note}" for note in notes]
    if manifest.failure:
        lines.append(f"  failure: {manifest.failure}")
    if lost:
        shown = ", ".join(lost[:5]) + (f" and {len(lost) - 5} more" if len(lost) > 5 else "")
        lines.append(f"  did not run: {shown}")
    files = [MANIFEST_FILE, *manifest.junit, *manifest.coverage]
    lines.append(f"  results: {results} ({', '.join(files)})")
    print("\n".join(lines), flush=True)


# -- CLI ---------------------------------------------------------------------------------------


def _run(args: argparse.Namespace) -> int:
    extra = list(args.extra)
    if extra[:1] == ["--"]:
        extra = extra[1:]
    plan = load_plan(args.plan)
    results = args.results or DEFAULT_RESULTS / args.shard
    root = args.root or Path.cwd()
    if not root.is_dir():
        raise InputError("not a folder", source=str(root))
    with terminate_as_interrupt():
        manifest = run_shard(
            plan,
            args.shard,
            results=results,
            root=root,
            extra=extra,
            plan_source=str(args.plan),
            attempt=run_attempt(os.environ),
        )
    return manifest.exit_code


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "run",
        usage="shard-action run --plan PLAN --shard SHARD [--results DIR] [--root DIR] "
        "[-- RUNNER ARGS...]",
        epilog="Exit status: 0 when every test passed or was flaky (flaky fails too with "
        "fail-on-flaky); 1 for a broken test, planned tests that did not run, a runner crash, "
        "or a lane's timeout or memory cap exceeded; 2 for bad input (plan file, shard id).",
        help="run one shard of a plan (a matrix job)",
        description="Run exactly the tests of one shard of plan.json, re-run failures in fresh "
        "processes, and leave JUnit XML, coverage data and manifest.json in the results folder. "
        "Arguments after `--` go to the runner (pytest, or the command template).",
    )
    parser.add_argument("--plan", type=Path, required=True, help="plan.json from `plan`")
    parser.add_argument("--shard", required=True, help="shard id (the matrix value)")
    parser.add_argument(
        "--results", type=Path, help="results folder (default: shard-results/<shard>)"
    )
    parser.add_argument(
        "--root",
        type=Path,
        help="folder the tests run in: where the plan was made (default: the current folder)",
    )
    parser.add_argument(
        "extra",
        nargs=argparse.REMAINDER,
        metavar="-- RUNNER ARGS",
        help="after --: more arguments for the runner (pytest), after the plan's pytest-args",
    )
    parser.set_defaults(func=_run)
