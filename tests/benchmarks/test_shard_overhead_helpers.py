"""``benchmarks/shard_overhead.py``: its pure helpers and its probe plugin (no timing asserts)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import shard_overhead as bench  # noqa: E402


def record(**fields: object) -> dict[str, object]:
    base: dict[str, object] = {
        "loaded": 10.0,
        "collected_at": 12.0,
        "collected_items": 3,
        "selected": 2,
        "first": 12.5,
        "last": 20.0,
        "ids": ["t.py::a", "t.py::b"],
        "outcomes": {"t.py::a": "passed", "t.py::b": "skipped"},
        "module_file": "/x/networkx/__init__.py",
    }
    base.update(fields)
    return base


def test_parse_probe_skips_blank_and_cut_lines() -> None:
    text = json.dumps(record()) + "\n\n" + '{"loaded": 1.0, "fir'
    records = bench.parse_probe(text)
    assert len(records) == 1
    assert records[0].ids == ("t.py::a", "t.py::b")
    assert records[0].first == 12.5
    assert records[0].collected_items == 3


def test_parse_probe_keeps_missing_stamps_as_none() -> None:
    (only,) = bench.parse_probe(json.dumps(record(first=None, last=None, ids=[])))
    assert only.first is None
    assert only.last is None


def test_shard_run_phases_are_measured_from_the_process_start() -> None:
    first = bench.ProbeRecord.from_json(record())
    second = bench.ProbeRecord.from_json(
        record(loaded=21.0, first=22.0, last=30.0, ids=["t.py::c"], outcomes={"t.py::c": "failed"})
    )
    run = bench.ShardRun("ours", 1, started=9.0, ended=31.0, returncode=0, records=(first, second))
    assert run.wall == 22.0
    assert run.startup == 3.5  # 12.5 - 9.0: the first test of the first process
    assert run.launch == 1.0
    assert run.tests_seconds == 17.5  # 12.5 .. 30.0
    assert run.ids == ["t.py::a", "t.py::b", "t.py::c"]
    assert run.outcomes == {"passed": 1, "skipped": 1, "failed": 1}


def test_the_finish_ends_at_pytest_unconfigure_and_the_exit_at_the_process_end() -> None:
    (probe,) = bench.parse_probe(json.dumps(record(last=20.0, finished=21.5)))
    run = bench.ShardRun("ours", 1, started=9.0, ended=23.0, returncode=0, records=(probe,))
    assert run.finish == 1.5  # 20.0 .. 21.5: pytest's session end
    assert run.exit == 1.5  # 21.5 .. 23.0: interpreter exit and the tool's own work after it
    assert run.startup is not None and run.tests_seconds is not None
    assert run.startup + run.tests_seconds + run.finish + run.exit == run.wall


def test_shard_run_without_a_started_test_has_no_startup() -> None:
    idle = bench.ProbeRecord.from_json(record(first=None, last=None, ids=[]))
    run = bench.ShardRun("pytest-split", 2, 0.0, 5.0, 5, (idle,))
    assert run.startup is None
    assert run.tests_seconds is None
    assert bench.ShardRun("ours", 1, 0.0, 1.0, 1, ()).launch is None


@pytest.mark.parametrize(
    ("values", "k", "per_shard", "longest", "bound"),
    [
        ([5.0, 1.0, 1.0, 1.0], 4, 2.0, 5.0, 5.0),  # one long test decides
        ([1.0] * 8, 4, 2.0, 1.0, 2.0),  # the average decides
        ([], 4, 0.0, 0.0, 0.0),
    ],
)
def test_lower_bound(
    values: list[float], k: int, per_shard: float, longest: float, bound: float
) -> None:
    found = bench.lower_bound(values, k)
    assert (found.per_shard, found.longest, found.value) == (per_shard, longest, bound)


def test_exactly_once_counts_missing_repeated_and_unplanned_ids() -> None:
    shards = [["a", "b"], ["b", "x"], []]
    assert bench.exactly_once(shards, ["a", "b", "c"]) == (1, 1, 1)
    assert bench.exactly_once([["a"], ["c", "b"]], ["a", "b", "c"]) == (0, 0, 0)


def test_predicted_sums_stored_durations_per_group() -> None:
    durations = {"a": 1.5, "b": 2.0, "c": 4.0}
    assert bench.predicted([["a", "b"], ["c", "unknown"]], durations) == [3.5, 4.0]


def test_pairs_run_every_shard_of_both_tools_once_per_repeat_and_swap_who_goes_first() -> None:
    order = bench.pairs(2)
    assert len(order) == 2 * bench.SHARDS * 2
    assert sorted(order) == sorted(
        (r, s, t) for r in range(2) for s in range(1, bench.SHARDS + 1) for t in bench.TOOLS
    )
    firsts = [order[i][2] for i in range(0, len(order), 2)]
    # shard after shard the other tool goes first, and each repeat starts with the other tool
    one_repeat = ["pytest-split", "ours", "pytest-split", "ours"]
    assert firsts == [*one_repeat, *reversed(one_repeat)]


def test_table_aligns_columns() -> None:
    text = bench.table(["name", "s"], [["a", "1.0"], ["long name", "10.25"]])
    lines = text.splitlines()
    assert lines[0] == "name           s"
    assert lines[1] == "---------  -----"
    assert lines[2] == "a            1.0"
    assert lines[3] == "long name  10.25"


def test_ratio_and_seconds_format() -> None:
    assert bench.ratio(7.5, 18.0) == "0.42"
    assert bench.ratio(None, 1.0) == "-"
    assert bench.ratio(1.0, 0.0) == "-"
    assert bench.seconds(None) == "-"
    assert bench.seconds(27.16) == "27.2"


def test_child_env_is_the_same_for_both_tools_and_drops_the_callers_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHARD_ACTION_SHARDS", "9")
    monkeypatch.setenv("PYTEST_ADDOPTS", "-x")
    monkeypatch.setenv("COVERAGE_PROCESS_START", "x")
    monkeypatch.setenv("PYTHONPATH", "/elsewhere")
    layout = bench.Layout(tmp_path, coverage=False)
    env = bench.child_env(layout, tmp_path / "p.jsonl", stop=True)
    assert "SHARD_ACTION_SHARDS" not in env
    assert "PYTEST_ADDOPTS" not in env
    assert "COVERAGE_PROCESS_START" not in env
    assert env["PYTHONPATH"] == os.pathsep.join([str(layout.probe_dir), "/elsewhere"])
    assert env["PYTHONDONTWRITEBYTECODE"] == "1"
    assert env["SHARD_BENCH_PROBE"] == str(tmp_path / "p.jsonl")
    assert env["SHARD_BENCH_PROBE_STOP"] == "1"


SUITE = """
import pathlib
import pytest


def test_one():
    pathlib.Path("ran-one").write_text("x")


def test_two():
    assert False


def test_three():
    pytest.skip("no")
"""


def run_probe(tmp_path: Path, stop: bool) -> list[bench.ProbeRecord]:
    (tmp_path / "test_probe_suite.py").write_text(SUITE, encoding="utf-8")
    (tmp_path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    out = tmp_path / "probe.jsonl"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env.update(
        PYTHONPATH=str(BENCHMARKS),
        SHARD_BENCH_PROBE=str(out),
        SHARD_BENCH_PROBE_STOP="1" if stop else "0",
        SHARD_BENCH_MODULE="pathlib",
    )
    subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "_shard_probe", "-p", "no:cacheprovider", "-q"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        check=False,
    )
    return bench.parse_probe(out.read_text("utf-8"))


@pytest.mark.slow
def test_probe_records_the_phases_ids_and_outcomes_of_a_real_pytest_run(tmp_path: Path) -> None:
    (only,) = run_probe(tmp_path, stop=False)
    assert only.ids == (
        "test_probe_suite.py::test_one",
        "test_probe_suite.py::test_two",
        "test_probe_suite.py::test_three",
    )
    assert dict(only.outcomes) == {
        "test_probe_suite.py::test_one": "passed",
        "test_probe_suite.py::test_two": "failed",
        "test_probe_suite.py::test_three": "skipped",
    }
    assert only.collected_items == only.selected == 3
    assert only.collected_at is not None and only.first is not None and only.last is not None
    assert only.loaded <= only.collected_at <= only.first <= only.last
    assert only.module_file is not None and only.module_file.endswith("pathlib.py")
    assert (tmp_path / "ran-one").exists()


@pytest.mark.slow
def test_probe_in_stop_mode_ends_the_process_before_the_first_test_runs(tmp_path: Path) -> None:
    (only,) = run_probe(tmp_path, stop=True)
    assert only.first is not None
    assert only.ids == ()
    assert not (tmp_path / "ran-one").exists()


def test_load_summary_gives_the_median_and_range_of_the_shards_loads() -> None:
    runs = [bench.ShardRun("ours", 1, 0.0, 1.0, 0, (), load=load) for load in (3.0, 1.0, 2.0, None)]
    assert bench.load_summary(runs) == (
        "load average (1 min) at the shards' ends: median 2.00, 1.00-3.00"
    )
    assert bench.load_summary(runs[3:]) == "load average: -"


SEEDED_SUITE = """
import pathlib
import random


def test_draws_first():
    random.random()


def test_records_its_draw():
    pathlib.Path("draws").open("a").write(repr(random.random()) + "\\n")
"""


@pytest.mark.slow
def test_seeded_tests_draw_the_same_whatever_ran_before_them(tmp_path: Path) -> None:
    (tmp_path / "test_seeded.py").write_text(SEEDED_SUITE, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env.update(PYTHONPATH=str(BENCHMARKS), SHARD_BENCH_SEED="1")
    command = [sys.executable, "-m", "pytest", "-p", "_shard_probe", "-p", "no:cacheprovider"]
    for selection in ([], ["-k", "records"]):  # after a test that draws, then alone
        subprocess.run(
            [*command, *selection],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            check=True,
        )
    first, alone = (tmp_path / "draws").read_text("utf-8").split()
    assert first == alone
