"""Issue 10 on a suite built for it: ``shard-action local`` over seven runs of examples/planted.

Real subprocesses on a copy in a tmp folder, one history carried from run to run, the driver
changing only the control words the planted tests read (an outage, a fix). The schedule and what
each run must show are in ``RUNS``; docs/benchmarks.md has the figures of one drive.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from ..e2e.conftest import EXAMPLES, IGNORE, shard_action

VICTIM = "tests/test_order.py::test_victim_of_the_polluted_environment"
SHARED = "tests/test_shared.py::test_shared_file"
RANDOM = "tests/test_random.py::test_random_coin"
BROKEN = "tests/test_broken.py::test_always_fails"
PLANTED_FLAKY = {VICTIM, SHARED}
"""The parallel-sensitive ones; the random one is quarantined (flaky on its own, owned)."""


@dataclass(frozen=True)
class Expect:
    control: str
    mode: str
    next_mode: str
    demoted_after: frozenset[str]
    flaky: frozenset[str]
    outage: bool = False


RUNS = [
    # 1: both parallel-sensitive tests flake, pass alone: demoted, explained, still parallel
    Expect("", "parallel", "parallel", frozenset({VICTIM, SHARED}), frozenset({VICTIM, SHARED})),
    # 2: the victim is green alone; the shared-file test meets the other shard again: demotion
    # did not help, it counts (1 of 15 = 6.7% > 5%), and only now the suite goes serial
    Expect("", "parallel", "serial", frozenset({VICTIM}), frozenset({SHARED})),
    # 3: the service is down for every svc test: an outage, not counted
    Expect("outage", "serial", "serial", frozenset({VICTIM}), frozenset(), outage=True),
    # 4, 5: clean serial runs; recover-after = 2 returns to parallel, promote-after = 3 clean
    # runs of the victim in its demoted lane (runs 2, 4, 5) promote it
    Expect("", "serial", "serial", frozenset({VICTIM}), frozenset()),
    Expect("", "serial", "parallel", frozenset(), frozenset()),
    # 6: the shared file is fixed; the promoted victim is still order-dependent: demoted again,
    # explained, the suite stays parallel
    Expect("fixed-shared", "parallel", "parallel", frozenset({VICTIM}), frozenset({VICTIM})),
    # 7: green in parallel
    Expect("fixed-shared", "parallel", "parallel", frozenset({VICTIM}), frozenset()),
]


def _copy(tmp_path: Path) -> Path:
    project = tmp_path / "planted"
    shutil.copytree(EXAMPLES / "planted", project, ignore=IGNORE)
    (project / ".shard-action").mkdir()
    expires = (date.today() + timedelta(days=30)).isoformat()
    (project / ".shard-action" / "quarantine.toml").write_text(
        f'[[quarantine]]\ntest = "{RANDOM}"\nowner = "@planted"\n'
        f'reason = "random on purpose"\nexpires = {expires}\n'
    )
    return project


def _row(number: int, report: dict[str, Any], history: dict[str, Any]) -> str:
    flaky = sorted(e["test"].split("::")[1] for e in report["flaky"])
    demoted = sorted(d["test"].split("::")[1] for d in history["demotion"]["demoted"])
    mode = report["mode"]
    return (
        f"| {number} | {mode['mode']} | {mode['next']['mode']} | {', '.join(demoted) or 'none'} | "
        f"{', '.join(flaky) or 'none'} | {mode['rate_flaky']} of {mode['rate_tests']} | "
        f"{'yes' if mode['outage'] else 'no'} |"
    )


@pytest.mark.slow
def test_the_planted_suite_over_seven_runs(tmp_path: Path) -> None:
    project = _copy(tmp_path)
    state = tmp_path / "state"
    state.mkdir()
    history = tmp_path / "history.json"
    out = tmp_path / "out"
    env = {"PLANTED_STATE": str(state), "PLANTED_SEED": "10"}
    rows = []
    random_seen: set[str] = set()
    before: frozenset[str] = frozenset()
    for number, expect in enumerate(RUNS, start=1):
        (state / "control").write_text(expect.control)
        args = ["local", ".", "--out", str(out), "--history", str(history), "--jobs", "4"]
        done = shard_action(args, project, env=env)
        assert done.returncode == 1, (number, done.stdout[-3000:], done.stderr[-3000:])
        report = json.loads((out / "report" / "report.json").read_text())
        kept = json.loads(history.read_text())
        rows.append(_row(number, report, kept))
        mode = report["mode"]
        where = f"run {number}: {mode['next']['reason']}"
        assert (mode["mode"], mode["next"]["mode"]) == (expect.mode, expect.next_mode), where
        assert bool(mode["outage"]) == expect.outage, where
        assert {d["test"] for d in kept["demotion"]["demoted"]} == expect.demoted_after, where
        assert {e["test"] for e in report["flaky"]} == expect.flaky, where
        # never is a broken test called flaky: it is broken (or, in the outage, failing too)
        failing = {e["test"]: e for e in report["failures"]}
        assert failing[BROKEN]["status"] == "broken" and not failing[BROKEN]["known_flaky"]
        outage_failures = {t for t in failing if t.startswith("tests/svc/")}
        assert len(outage_failures) == (5 if expect.outage else 0), where
        (quarantined,) = report["quarantined"]
        random_seen.add(quarantined["status"])
        plan = json.loads((out / "plan.json").read_text())
        lanes = {lane["name"] for lane in plan["lanes"]}
        if before:  # the plan ran what the history demoted, and says so
            assert "default.demoted" in lanes, where
            assert "demoted" in (out / "plan-summary.md").read_text().lower(), where
        before = expect.demoted_after
        if number == 2:
            assert [(d["test"], d["state"]) for d in report["demotion"]] == [
                (SHARED, "not helped"),
                (VICTIM, "still demoted"),
            ]
            assert SHARED in mode["next"]["reason"]
            comment = (out / "report" / "comment.md").read_text()
            assert "Demoted tests" in comment and "not helped" in comment
        if number == 3:
            assert kept["mode"]["clean_serial_runs"] == 0 and "outage" in mode["next"]["reason"]
        if number == 5:
            assert [(d["test"], d["state"]) for d in report["demotion"]] == [(VICTIM, "promoted")]
            assert "back to parallel after 2 clean serial runs" in mode["next"]["reason"]
    # the random test flaked or failed at least once (found), always as a quarantined test
    assert random_seen - {"passed"}, random_seen
    print("\n".join(rows))
