"""Prediction error: how close each shard's predicted wall is to what it then took, for real.

A real suite from PyPI that ships its tests (networkx or, with ``--suite scipy``, scipy, from
the wheels pinned in the ``bench`` extra; ``--subset`` takes a part of it) is copied into a
scratch project without bytecode, as a fresh checkout would be. Then the whole pipeline runs
twice with ``shard-action local`` (plan → every shard as a real ``shard-action run``, one after
another on this 2-core machine → report, which writes the history the next plan reads):

1. **first run, no history**: the plan's durations are estimates, its start-up and finish
   estimated from its own collection (``core.estimate.first_costs``), its set-up the config's
   ``shard-overhead`` (0 here: ``local`` has no job set-up);
2. **second run**: planned from the first run's history (test durations and the learned
   per-lane start-up, per-file collection and finish).

Per shard, error = |actual - predicted| / predicted, where both are the report's columns (the
shard's own wall; no set-up on either side). Target on the second run: median ≤ 10 %, max ≤ 25 %.

Run: ``.venv/bin/python benchmarks/prediction_error.py [--subset networkx/algorithms]
[--shards 4] [--coverage]``. Figures: ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from _suites import ENV as THREADS
from _suites import PINNED, copy_suite, installed


def prepare(work: Path, name: str, subset: str, coverage: bool) -> Path:
    """The scratch project: the package without bytecode, a rootdir, our config."""
    suite = work / "suite"
    if suite.exists():
        shutil.rmtree(suite)
    copy_suite(name, installed(name)[0], suite)
    (suite / "pytest.ini").write_text("[pytest]\n", "utf-8")
    (suite / "shard-action.toml").write_text(
        f"coverage = {'true' if coverage else 'false'}\n"
        "reruns = 0\n"
        "shard-overhead = 0\n"
        f'collect-args = ["{subset}"]\n',
        "utf-8",
    )
    return suite


def errors(report: dict[str, Any]) -> list[tuple[str, float, float, float]]:
    """(shard, predicted, actual, |actual - predicted| / predicted) for each shard that ran."""
    rows = []
    for shard in report["shards"]:
        predicted, actual = shard["predicted_seconds"], shard["actual_seconds"]
        if predicted and actual is not None:
            rows.append((shard["shard"], predicted, actual, abs(actual - predicted) / predicted))
    return rows


def run_local(suite: Path, out: Path, history: Path, shards: int) -> dict[str, Any]:
    command = [
        sys.executable, "-m", "shard_action", "local", str(suite),
        "--config", str(suite / "shard-action.toml"),
        "--out", str(out), "--history", str(history),
        "--shards", str(shards), "--jobs", "1",
    ]  # fmt: skip
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0", **THREADS}
    started = time.monotonic()
    proc = subprocess.run(command, cwd=suite, env=env, capture_output=True, text=True, check=False)
    if proc.returncode not in (0, 1):
        raise SystemExit(
            f"local failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        )
    print(f"  local: exit {proc.returncode} in {time.monotonic() - started:.1f} s", flush=True)
    report: dict[str, Any] = json.loads((out / "report" / "report.json").read_text("utf-8"))
    plan: dict[str, Any] = json.loads((out / "plan.json").read_text("utf-8"))
    report["_plan"] = plan
    return report


def summary(name: str, report: dict[str, Any]) -> list[str]:
    rows = errors(report)
    parts = {s["id"]: s.get("prediction") or {} for s in report["_plan"]["shards"]}
    measured = {s["shard"]: s.get("measured") or {} for s in report["shards"]}
    lines = [
        f"### {name}",
        "",
        "| shard | predicted | actual | error | predicted start-up / tests / finish "
        "| measured start-up / tests / finish |",
        "|---|--:|--:|--:|---|---|",
    ]
    for shard, predicted, actual, error in rows:
        p, m = parts.get(shard, {}), measured.get(shard, {})
        lines.append(
            f"| {shard} | {predicted:.2f} s | {actual:.2f} s | {error:.1%} | "
            f"{p.get('startup', 0):.2f} / {p.get('tests', 0):.2f} / {p.get('finish', 0):.2f} | "
            f"{m.get('startup', 0):.2f} / {m.get('tests', 0):.2f} / {m.get('finish', 0):.2f} |"
        )
    values = [r[3] for r in rows]
    if values:
        lines += [
            "",
            f"median error **{statistics.median(values):.1%}**, max **{max(values):.1%}**",
        ]
    speed = report["_history_speed"]
    if speed is not None:
        lines.append(f"(speed factor of the run against the history: {speed:.2f})")
    return [*lines, ""]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--suite", choices=sorted(PINNED), default="networkx", help="which suite")
    parser.add_argument("--subset", help="what to collect (default: networkx/algorithms)")
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument("--coverage", action="store_true")
    parser.add_argument("--runs", type=int, default=2, help="runs in a row (default 2)")
    parser.add_argument("--work", type=Path, help="scratch folder, kept (default: temporary)")
    args = parser.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="prediction-error-"))
    subset = args.subset or ("networkx/algorithms" if args.suite == "networkx" else args.suite)
    suite = prepare(work, args.suite, subset, args.coverage)
    history = work / "history.json"
    print(
        f"# prediction error: {args.suite} {installed(args.suite)[1]} {subset}, k = {args.shards}, "
        f"coverage {'on' if args.coverage else 'off'}, load {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    out_lines: list[str] = []
    for n in range(1, args.runs + 1):
        report = run_local(suite, work / f"out-{n}", history, args.shards)
        runs = json.loads(history.read_text("utf-8")).get("runs", []) if history.exists() else []
        report["_history_speed"] = runs[-1].get("speed") if runs else None
        name = "first run, no history" if n == 1 else f"run {n}, planned from the history"
        out_lines += summary(name, report)
    print("\n".join(out_lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
