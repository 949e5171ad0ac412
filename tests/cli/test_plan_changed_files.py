"""`shard-action plan --changed-files`: the tests of changed files get early-flake runs too."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from shard_action.cli import main
from tests.cli.test_plan_command import plan, workspace, write_ids

__all__ = ["workspace"]  # the fixture

SLOW = "t/test_a.py::test_slow"
CHANGED = ["t/test_b.py::test_x", "t/test_b.py::test_y"]
OTHERS = [f"t/test_c.py::test_{n}" for n in range(10)]


def _inputs(workspace: Path) -> list[str]:
    ids = write_ids(workspace / "ids.txt", [SLOW, *CHANGED, *OTHERS])
    durations = {SLOW: 30.0, **dict.fromkeys([*CHANGED, *OTHERS], 0.5)}
    (workspace / "d.json").write_text(json.dumps(durations))
    return ["--tests-from", str(ids), "--timings", "d.json", "--shards", "2"]


def _early(document: dict[str, Any]) -> dict[str, list[str]]:
    return {s["id"]: [t for e in s["early"] for t in e["tests"]] for s in document["shards"]}


def test_the_changed_files_tests_get_the_extra_runs(workspace: Path, capsys: Any) -> None:
    changed = workspace / "changed.txt"
    changed.write_text("./t/test_b.py\nsrc/app.py\n")
    args = [*_inputs(workspace), "--early-flake-runs", "2", "--changed-files", str(changed)]
    code, document = plan(workspace, *args)
    assert code == 0 and document is not None
    # the slow test is a shard of its own (30 s); the other shard has 36 s of room - 6 s of
    # its own: 2 runs of each changed test at the lane's mean (36 s / 13 tests) and 2 starts
    assert sorted(t for tests in _early(document).values() for t in tests) == CHANGED
    assert all(SLOW not in str(s["slices"]) for s in document["shards"] if s["early"])
    out = capsys.readouterr().out
    assert "early-flake runs: 2 of 2 tests (0 new, 2 in changed files) fit" in out


def test_without_early_flake_runs_the_list_changes_nothing(workspace: Path) -> None:
    changed = workspace / "changed.txt"
    changed.write_text("t/test_b.py\n")
    code, document = plan(workspace, *_inputs(workspace), "--changed-files", str(changed))
    assert code == 0 and document is not None
    assert all(tests == [] for tests in _early(document).values())


def test_a_missing_list_is_named(workspace: Path, capsys: Any) -> None:
    code, _ = plan(workspace, *_inputs(workspace), "--changed-files", "nope.txt")
    assert code == 2
    assert "nope.txt" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["plan", "local"])
def test_the_option_is_in_the_help(command: str, capsys: Any) -> None:
    with pytest.raises(SystemExit):
        main([command, "--help"])
    assert "--changed-files FILE" in capsys.readouterr().out
