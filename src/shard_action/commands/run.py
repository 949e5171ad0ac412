"""``shard-action run``: run exactly one shard of a plan and leave evidence for the fan-in.

One process per slice of the shard (one in parallel mode; lane after lane in serial mode), with
the lane's env, timeout and memory cap (``adapters.slices``); failed tests are re-run in fresh
processes to tell flaky from broken (``core.ledger``). The results folder gets
``junit-<slice>.xml`` (and ``junit-<slice>-rerun<k>.xml``), the combined coverage data
``.coverage.<shard>`` and ``manifest.json`` (:class:`ShardManifest`), written last and
atomically: a folder without a manifest is a shard that died.

Exit status: 0, or 1 for a broken test (a flaky one too with ``fail-on-flaky``), planned tests
that neither ran nor drifted, a runner crash or an exceeded limit; 2 for bad input.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

from shard_action.adapters.documents import read_document
from shard_action.adapters.files import make_folder, write_text_atomic
from shard_action.adapters.slices import (
    ShardContext,
    choose_coverage_core,
    clean,
    run_attempt,
    run_slices,
)
from shard_action.core.ledger import Ledger, SliceRecord
from shard_action.core.manifest import MANIFEST_FILE, ShardManifest
from shard_action.core.plan import EMPTY_SHARD_ID, Plan, PlannedShard
from shard_action.core.selection import check_plan, slices_of
from shard_action.core.shard_manifest import Ended, manifest_of
from shard_action.errors import InputError

__all__ = ["load_plan", "run_shard"]

DEFAULT_RESULTS = Path("shard-results")


def load_plan(path: Path) -> Plan:
    """Read and validate ``plan.json``; every problem is an :class:`InputError` naming it."""
    plan = read_document(path, Plan)
    try:
        check_plan(plan)
    except ValueError as exc:
        raise InputError(f"not a valid plan: {exc}", source=str(path)) from exc
    return plan


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
    started = datetime.now(timezone.utc)
    root, results = root.resolve(), results.resolve()
    shard = _shard(plan, shard_id, plan_source)
    make_folder(results)
    clean(results, shard_id)
    pieces = slices_of(plan, shard) if shard is not None else []
    ledger = Ledger(slices=[SliceRecord(piece.lane.name, piece.tests) for piece in pieces])
    coverage: list[str] = []
    if shard is not None and shard.tests:
        python = plan.runner.python or sys.executable
        core = choose_coverage_core(plan, python, root, ledger)
        with tempfile.TemporaryDirectory(prefix="shard-action-run-") as tmp:
            ctx = ShardContext(plan, shard, results, root, python, tuple(extra), Path(tmp), core)
            coverage = run_slices(ctx, ledger)
    finished = datetime.now(timezone.utc)
    ended = Ended(started, finished, str(root), str(results), coverage, attempt)
    manifest, lines = manifest_of(plan, shard_id, ledger, ended)
    write_text_atomic(results / MANIFEST_FILE, manifest.model_dump_json(indent=2) + "\n")
    print("\n".join(lines), flush=True)
    return manifest


def _shard(plan: Plan, shard_id: str, plan_source: str) -> PlannedShard | None:
    """The plan's shard; None for the placeholder of an empty matrix (``EMPTY_SHARD_ID``)."""
    try:
        return plan.shard(shard_id)
    except KeyError as exc:
        if shard_id == EMPTY_SHARD_ID:
            return None
        raise InputError(str(exc.args[0]), source=plan_source) from None


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
