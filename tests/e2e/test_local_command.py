"""``shard-action local`` as a user meets it: no path (the current folder), ``--shards``, the
progress lines in a log, the live table on a terminal, and the summary at the end.

A tiny generated project stands in for ``examples/`` so each run takes seconds; the real example
runs in ``test_local_pipeline.py``.
"""

from __future__ import annotations

import json
import os
import pty
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from shard_action.core.units import duration
from tests.e2e.conftest import alive, clean_env, shard_action
from tests.plan_json import plan_tests, shard_tests

pytestmark = pytest.mark.slow

TESTS = {
    f"tests/test_{name}.py": "".join(
        f"def test_{name}_{i}():\n    assert {i} + 1 > {i}\n\n" for i in range(4)
    )
    for name in ("alpha", "beta", "gamma")
}


def tiny_project(folder: Path) -> Path:
    (folder / "tests").mkdir(parents=True)
    (folder / "pyproject.toml").write_text(
        '[project]\nname = "tiny"\nversion = "0"\n\n'
        '[tool.pytest.ini_options]\naddopts = "-p no:cacheprovider"\n'
    )
    for path, text in TESTS.items():
        (folder / path).write_text(text)
    return folder


def test_no_path_means_the_project_in_the_current_folder(tmp_path: Path) -> None:
    project = tiny_project(tmp_path)
    # A user's own examples/ folder is not what `local` runs: this one would fail.
    (project / "examples" / "tests").mkdir(parents=True)
    (project / "examples" / "pyproject.toml").write_text('[project]\nname = "other"\n')
    (project / "examples" / "tests" / "test_other.py").write_text("def test_o():\n    x\n")
    (project / "pyproject.toml").write_text(
        (project / "pyproject.toml")
        .read_text()
        .replace('addopts = "', 'testpaths = ["tests"]\naddopts = "')
    )
    proc = shard_action(["local", "--shards", "2", "--no-history"], cwd=project)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr
    out = project / "shard-action-out"
    plan = json.loads((out / "plan.json").read_text())
    assert len(plan["shards"]) == 2
    assert sorted(plan_tests(plan)) == sorted(
        f"{path}::test_{path[11:-3]}_{i}" for path in TESTS for i in range(4)
    )
    # Not a terminal: one plain line per event, then the rendered summary.
    for shard in plan["shards"]:
        assert f"shard {shard['id']}: started" in proc.stdout
        assert re.search(rf"shard {shard['id']}: passed in \d", proc.stdout)
    assert "12 tests passed" in proc.stdout, proc.stdout[-2000:]
    assert "shards: 2 in" in proc.stdout
    assert (out / "report" / "report.json").is_file()


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("\u2502").split("\u2502")]


def test_each_shard_shows_one_prediction_and_one_wall_in_every_view(tmp_path: Path) -> None:
    """One ``local`` output said ``default-1: passed in 2.0 s`` (the process, CLI import
    included) above the report's Actual ``1.6 s``, and planned 8.9 s (with a CI job's 2 s of
    set-up, which a local run has not) against the report's Predicted 6.9 s."""
    project = tiny_project(tmp_path / "project")
    out = tmp_path / "out"
    proc = shard_action(
        ["local", str(project), "--shards", "2", "--no-history", "--shard-overhead", "3",
         "--out", str(out)],
        cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr
    report = json.loads((out / "report" / "report.json").read_text())
    lines = proc.stdout.splitlines()
    header = _cells(
        next(line for line in lines if line.startswith("\u2503 shard")).replace("\u2503", "\u2502")
    )
    assert "set-up" not in " ".join(header)  # start-up + tests + finish
    planned = {
        cells[0]: cells[header.index("predicted")]
        for cells in (_cells(line) for line in lines if line.startswith("\u2502 default-"))
    }
    passed = dict(re.findall(r"^shard (\S+): passed in (.+)$", proc.stdout, re.MULTILINE))
    shards = report["shards"]
    assert len(shards) == 2
    for entry in shards:
        predicted, actual = duration(entry["predicted_seconds"]), duration(entry["actual_seconds"])
        assert planned[entry["shard"]] == predicted, (entry, proc.stdout)
        assert passed[entry["shard"]] == actual, (entry, proc.stdout)
        # and the summary's row on the terminal: shard, tests, Predicted, Actual
        row = next(line.split() for line in lines if line.split()[:1] == [entry["shard"]])
        assert " ".join(row[4:8]) == f"{predicted} {actual}", row
        plan_shard = next(
            s for s in json.loads((out / "plan.json").read_text())["shards"]
            if s["id"] == entry["shard"]
        )  # fmt: skip
        assert plan_shard["prediction"]["setup"] == 3.0
        assert duration(plan_shard["predicted_seconds"]) != predicted


def test_plan_by_hand_reads_the_history_that_local_keeps(tmp_path: Path) -> None:
    project = tiny_project(tmp_path / "project")
    first = shard_action(["local", "--shards", "2"], cwd=project)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr
    assert (project / ".shard-action" / "history.json").is_file()
    local_plan = json.loads((project / "shard-action-out" / "plan.json").read_text())
    assert local_plan["timings"]["measured"] == 0  # the first run had no history
    # plan by hand, then local again: both read the history the first local run wrote
    by_hand = shard_action(["plan", "--shards", "2", "--out", "by-hand"], cwd=project)
    assert by_hand.returncode == 0, by_hand.stdout[-3000:] + by_hand.stderr
    second = shard_action(["local", "--shards", "2"], cwd=project)
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr
    local_plan = json.loads((project / "shard-action-out" / "plan.json").read_text())
    plan = json.loads((project / "by-hand" / "plan.json").read_text())
    assert local_plan["timings"]["measured"] == 12
    assert plan["timings"]["measured"] == 12 and plan["timings"]["estimated"] == 0
    assert "timings: 12 measured, 0 estimated" in by_hand.stdout
    assert [shard_tests(s) for s in plan["shards"]] == [
        shard_tests(s) for s in local_plan["shards"]
    ]

    # --no-history plans from estimates again; a --history that does not exist is named.
    blind = shard_action(["plan", "--no-history", "--out", "blind"], cwd=project)
    assert json.loads((project / "blind" / "plan.json").read_text())["timings"]["measured"] == 0
    missing = shard_action(["plan", "--history", "nope.json", "--out", "x"], cwd=project)
    assert blind.returncode == 0 and missing.returncode == 2
    assert "nope.json: history file not found" in missing.stderr


def test_a_terminal_gets_the_live_table(tmp_path: Path) -> None:
    project = tiny_project(tmp_path / "project")
    main, child = pty.openpty()
    env = clean_env({"COLUMNS": "120", "LINES": "40", "TERM": "xterm"})
    with subprocess.Popen(
        [sys.executable, "-m", "shard_action", "local", str(project), "--shards", "2",
         "--no-history", "--out", str(tmp_path / "out")],
        cwd=tmp_path, env=env, stdin=subprocess.DEVNULL, stdout=child, stderr=child,
    ) as proc:  # fmt: skip
        os.close(child)
        chunks = []
        while True:
            try:
                chunk = os.read(main, 65536)
            except OSError:  # the child side closed
                break
            if not chunk:
                break
            chunks.append(chunk)
        code = proc.wait(timeout=300)
    os.close(main)
    screen = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", b"".join(chunks).decode("utf-8", "replace"))
    assert code == 0, screen[-3000:]
    # The table, redrawn while the shards run, then the last state.
    assert screen.count("predicted") >= 2 and "elapsed" in screen and "status" in screen
    assert "passed" in screen
    assert ": started" not in screen  # the plain lines are for logs only


def test_the_terminal_shows_long_failing_ids_whole_and_no_mermaid_source(tmp_path: Path) -> None:
    project = tiny_project(tmp_path / "project")
    # three ids that differ only at their end, longer than the terminal is wide
    (project / "tests" / "test_long.py").write_text(
        "import pytest\n\n"
        "@pytest.mark.parametrize('v', [f'a-long-parameter-value-that-goes-on-{i}' for i in "
        "range(3)])\n"
        "def test_a_very_long_descriptive_name_for_the_behaviour_under_test(v):\n"
        "    assert v.endswith('0')\n"
    )
    proc = shard_action(
        ["local", "--shards", "2", "--no-history", "--reruns", "0", "--coverage", "false"],
        cwd=project,
        env={"COLUMNS": "60"},
    )
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr
    failing = proc.stdout[proc.stdout.index("Failing tests") : proc.stdout.index("Time")]
    unfolded = re.sub(r"\s*\n\s*", "", failing)  # rich folds a long id over lines
    for i in (1, 2):
        test_id = (
            "tests/test_long.py::test_a_very_long_descriptive_name_for_the_behaviour_under_test"
            f"[a-long-parameter-value-that-goes-on-{i}]"
        )
        assert test_id in unfolded, failing
    # a message's first line may end in "…" (more lines follow); an id never does
    assert not re.search(r"test_a_very_long[^\s—]*…", unfolded), failing
    assert "gantt" not in proc.stdout and "dateFormat" not in proc.stdout
    assert "The Gantt chart of the shards is in" in proc.stdout


HANGING = """\
import os, pathlib, time


def test_{name}():
    folder = pathlib.Path(os.environ["PID_DIR"])
    (folder / f"{{os.getpid()}}.pid").write_text(str(os.getppid()))
    time.sleep(600)
"""


@pytest.mark.parametrize("ctrl_c", [True, False], ids=["ctrl-c-to-the-group", "sigint-to-local"])
def test_an_interrupted_local_run_ends_every_process_it_started(
    tmp_path: Path, ctrl_c: bool
) -> None:
    project = tmp_path / "project"
    (project / "tests").mkdir(parents=True)
    (project / "pyproject.toml").write_text(
        '[tool.pytest.ini_options]\naddopts = "-p no:cacheprovider"\n'
    )
    for name in ("one", "two"):
        (project / "tests" / f"test_{name}.py").write_text(HANGING.format(name=name))
    pids = tmp_path / "pids"
    pids.mkdir()
    # coverage on (the default): each shard's runner is `coverage run … pytest`
    local = subprocess.Popen(
        # no first-run probe: its own process would run a hanging test too (tested apart)
        [
            sys.executable,
            "-m",
            "shard_action",
            "local",
            "--shards",
            "2",
            "--no-history",
            "--probe",
            "0",
        ],
        cwd=project,
        env=clean_env({"PID_DIR": str(pids)}),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # a group of its own, as a shell gives a foreground job
    )
    seen: dict[int, int] = {}
    try:
        deadline = time.monotonic() + 120
        while len(seen) < 2 and time.monotonic() < deadline and local.poll() is None:
            seen = {int(p.stem): int(p.read_text() or 0) for p in pids.glob("*.pid")}
            time.sleep(0.2)
        assert len(seen) == 2, local.communicate(timeout=30)[0].decode()[-3000:]
        if ctrl_c:
            os.killpg(local.pid, signal.SIGINT)  # what a terminal sends on Ctrl-C
        else:
            local.send_signal(signal.SIGINT)
        output = local.communicate(timeout=60)[0].decode()
        assert local.returncode == 130, output[-3000:]
        assert "interrupted" in output
        started = [*seen, *seen.values()]  # each test process and the shard that ran it
        deadline = time.monotonic() + 10
        while any(map(alive, started)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert [p for p in started if alive(p)] == []
    finally:
        for pid in [local.pid, *seen, *seen.values()]:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


@pytest.mark.parametrize("jobs", ["0", "-1", "x"])
def test_jobs_below_one_is_an_argument_error(tmp_path: Path, jobs: str) -> None:
    proc = shard_action(["local", "--jobs", jobs], cwd=tmp_path, timeout=60)
    assert proc.returncode == 2
    assert "--jobs" in proc.stderr and ("positive" in proc.stderr or "number" in proc.stderr)


def test_local_in_a_folder_without_tests_fails_as_pytest_does(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "empty"\nversion = "0"\n')
    proc = shard_action(["local", "--no-history"], cwd=tmp_path, timeout=120)
    assert proc.returncode == 5, proc.stdout[-2000:] + proc.stderr
    assert f"pytest collected no test in {tmp_path}" in proc.stderr
    assert not (tmp_path / "shard-action-out" / "report").exists()
    allowed = shard_action(["local", "--no-history", "--allow-no-tests", "true"], cwd=tmp_path)
    assert allowed.returncode == 0, allowed.stdout[-2000:] + allowed.stderr


def test_split_by_file_counts_files_and_says_how_many_test_cases_they_ran(tmp_path: Path) -> None:
    """With a ``command`` runner the plan's unit is the file: the report counts files, calls
    them test files, and gives the JUnit test cases beside them (two true numbers)."""
    project = tmp_path / "specs"
    (project / "specs").mkdir(parents=True)
    files = {  # 3 + 2 + 1 test cases; one case fails, so its file fails
        "specs/test_one.py": "".join(f"def test_{i}():\n    pass\n\n" for i in range(3)),
        "specs/test_two.py": "def test_a():\n    pass\n\ndef test_b():\n    assert False\n",
        "specs/test_three.py": "def test_c():\n    pass\n",
    }
    for path, text in files.items():
        (project / path).write_text(text)
    (project / "shard-action.toml").write_text(
        'test-files = ["specs/test_*.py"]\ncoverage = false\nreruns = 0\n'
        'command = "{{ python }} -m pytest -p no:cacheprovider -q '
        '--junitxml={{ junit_path }} {{ files }}"\n'
    )
    proc = shard_action(
        ["local", "--config", "shard-action.toml", "--shards", "2", "--no-history"], cwd=project
    )
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr  # one failing file
    out = project / "shard-action-out" / "report"
    report = json.loads((out / "report.json").read_text())
    assert report["unit"] == "file"
    counts = report["counts"]
    assert (counts["tests"], counts["cases"], counts["failed"], counts["lost"]) == (3, 6, 1, 0)
    assert [(e["test"], e["cases"]) for e in report["failures"]] == [("specs/test_two.py", 2)]
    summary = (out / "summary.md").read_text()
    assert summary.startswith("## ❌ shard-action: 1 of 3 test files failing: 1 failed\n")
    assert "| Test files |" in summary
    assert "their JUnit reports hold 6 test cases" in summary
    comment = (out / "comment.md").read_text()
    assert "1 of 3 test files failing" in comment and "6 test cases" in comment
