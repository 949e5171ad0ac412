"""The serial route of demotion on the planted suite: re-runs off, so serial runs are the witness.

``shard-action local --reruns 0`` on a copy of examples/planted: one parallel run, two forced
serial runs, then the next plan. The shared-file test fails beside the other shard and passes in
serial: demoted, with its reason. The order-dependent victim shares a process with its polluter
in serial too and the broken test fails everywhere: neither is demoted.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ..e2e.conftest import shard_action
from .test_planted_suite import BROKEN, SHARED, VICTIM, _copy

REASON = "failed in 1 parallel run (last #1) and passed in 2 serial runs after"


def _local(project: Path, out: Path, history: Path, env: dict[str, str], mode: str) -> Any:
    args = ["local", ".", "--out", str(out), "--history", str(history), "--jobs", "4"]
    done = shard_action([*args, "--reruns", "0", "--mode", mode], project, env=env)
    assert done.returncode == 1, (mode, done.stdout[-3000:], done.stderr[-3000:])
    return json.loads((out / "report" / "report.json").read_text())


@pytest.mark.slow
def test_failed_in_parallel_and_passed_in_two_serial_runs_is_demoted(tmp_path: Path) -> None:
    project = _copy(tmp_path)
    state = tmp_path / "state"
    state.mkdir()
    history, out = tmp_path / "history.json", tmp_path / "out"
    env = {"PLANTED_STATE": str(state), "PLANTED_SEED": "10"}

    first = _local(project, out, history, env, "parallel")
    failing = {e["test"]: e["status"] for e in first["failures"]}
    # nothing re-ran them: failed, not broken; the collision and the pollution both happened
    assert {t: failing.get(t) for t in (SHARED, VICTIM, BROKEN)} == dict.fromkeys(
        (SHARED, VICTIM, BROKEN), "failed"
    )
    suspects = json.loads(history.read_text())["demotion"]["suspects"]
    assert {s["test"] for s in suspects} == {SHARED, VICTIM, BROKEN}
    assert first["demotion"] == []

    second = _local(project, out, history, env, "serial")
    assert second["mode"]["mode"] == "serial" and second["demotion"] == []
    assert {e["test"] for e in second["failures"]} >= {VICTIM, BROKEN}
    assert SHARED not in {e["test"] for e in second["failures"]}
    suspects = json.loads(history.read_text())["demotion"]["suspects"]
    assert [(s["test"], s["serial_passes"]) for s in suspects] == [(SHARED, 1)]

    third = _local(project, out, history, env, "serial")
    assert [(d["test"], d["state"]) for d in third["demotion"]] == [(SHARED, "demoted")]
    assert third["demotion"][0]["detail"].startswith(REASON)
    comment = (out / "report" / "comment.md").read_text()
    assert "Demoted tests" in comment and "passed in 2 serial runs after" in comment
    kept = json.loads(history.read_text())["demotion"]
    assert [(d["test"], d["since"], d["reason"]) for d in kept["demoted"]] == [(SHARED, 3, REASON)]
    assert kept["suspects"] == []

    plan_out = tmp_path / "plan"
    args = ["plan", "--history", str(history), "--out", str(plan_out), "--mode", "parallel"]
    planned = shard_action(args, project, env=env)
    assert planned.returncode == 0, planned.stderr[-3000:]
    plan = json.loads((plan_out / "plan.json").read_text())
    demoted = [s for s in plan["shards"] if s["lane"] == "default.demoted"]
    assert [t for s in demoted for piece in s["slices"] for t in piece["tests"]] == [SHARED]
    assert "passed in 2 serial runs after" in (plan_out / "plan-summary.md").read_text()
