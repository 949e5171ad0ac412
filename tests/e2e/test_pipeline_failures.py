"""The pipeline when things go wrong: a shard killed mid-run, a corrupt JUnit file.

Driven step by step through the real commands (`plan`, one `run` per shard, `report`), as the
matrix jobs of a workflow would, so one shard can be killed with SIGKILL while it runs.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.e2e.conftest import clean_env, copy_examples, shard_action
from tests.plan_json import shard_tests

pytestmark = pytest.mark.slow


def start_shard(project: Path, plan: Path, shard: str, results: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "shard_action", "run", "--plan", str(plan), "--shard", shard,
         "--results", str(results)],
        cwd=project,
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )  # fmt: skip


def test_killed_shard_and_corrupt_junit_are_named_and_the_rest_kept(tmp_path: Path) -> None:
    project = copy_examples(tmp_path / "project")
    out = tmp_path / "plan"
    planned = shard_action(["plan", "--out", str(out)], cwd=project)
    assert planned.returncode == 0, planned.stderr
    plan = json.loads((out / "plan.json").read_text())
    shards = {s["id"]: s for s in plan["shards"]}
    victim = "slow-1"  # ~10 s of sleeping tests: killing it after 3 s is mid-run
    corrupt = next(s for s in shards if s.startswith("default-"))
    results = tmp_path / "results"

    procs = {sid: start_shard(project, out / "plan.json", sid, results / sid) for sid in shards}
    time.sleep(3)
    assert procs[victim].poll() is None, "the victim shard finished before it could be killed"
    os.killpg(procs[victim].pid, signal.SIGKILL)
    for sid, proc in procs.items():
        output, _ = proc.communicate(timeout=300)
        if sid != victim:
            assert proc.returncode == 0, f"{sid}: {output[-3000:]}"
    assert not (results / victim / "manifest.json").exists()

    junit = sorted((results / corrupt).glob("junit*.xml"))[0]
    junit.write_text(junit.read_text()[:200], encoding="utf-8")  # cut mid-element

    report = shard_action(
        ["report", "--plan", str(out / "plan.json"), "--results", str(results),
         "--out", str(tmp_path / "report")],
        cwd=project,
    )  # fmt: skip
    assert report.returncode == 3, report.stdout + report.stderr
    data = json.loads((tmp_path / "report" / "report.json").read_text())

    assert [s["shard"] for s in data["lost_shards"]] == [victim]
    lost = sorted(t["test"] for t in data["lost"])
    assert lost == sorted(shard_tests(shards[victim]))
    assert all(t["shard"] == victim for t in data["lost"])
    for test in shard_tests(shards[victim]):
        assert test in report.stdout  # named on the terminal, not only in the file

    problems = [p for p in data["problems"] if p["source"].endswith(junit.name)]
    assert problems, data["problems"]
    assert str(junit.name) in report.stdout

    survivors = sum(len(shard_tests(s)) for sid, s in shards.items() if sid != victim)
    assert data["counts"]["tests"] == survivors
    assert data["counts"]["lost"] == len(shard_tests(shards[victim]))
