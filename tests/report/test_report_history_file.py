"""The history file on disk: missing is empty, anything unusable is named, writes are atomic."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from shard_action.adapters.history_file import read_history, write_history
from shard_action.core.history import History, RunRecord, TestRecord
from shard_action.core.mode import ModeState
from shard_action.errors import InputError


def test_a_missing_file_is_an_empty_history(tmp_path: Path) -> None:
    history = read_history(tmp_path / "nope.json")
    assert history == History() and history.mode.mode == "parallel"


def test_round_trip(tmp_path: Path) -> None:
    history = History(
        mode=ModeState(mode="serial", reason="flaky", clean_serial_runs=1, since=3, cause="c"),
        runs=[RunRecord(index=3, mode="parallel", tests=2, flaky=1, flaky_rate=0.5, coverage=80.0)],
        tests={"l": {"t[|\n]": TestRecord(duration=1.5, outcomes="pF", last_seen=3, recent=[1.5])}},
    )
    path = tmp_path / "deep" / "history.json"
    write_history(path, history)
    assert read_history(path) == history
    assert [p.name for p in path.parent.iterdir()] == ["history.json"]  # no temporary left


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "not valid JSON"),
        (b"\xff\xfe", "not UTF-8"),
        (b"[1, 2]", "not a shard-action history"),
        (json.dumps({"kind": "shard-action-plan"}).encode(), "not a shard-action history"),
        (
            json.dumps({"kind": "shard-action-history", "version": 3}).encode(),
            "shard-action history version 3 is not supported",
        ),
        (
            json.dumps({"kind": "shard-action-history", "version": 0}).encode(),
            r"shard-action history version 0 is not supported \(this shard-action reads version 2",
        ),
        # JSON's true and 1.0 are not the version 1 that Python's == finds them equal to
        (
            b'{"kind": "shard-action-history", "version": true}',
            r"shard-action history version true is not a whole number \(this shard-action reads "
            "version 2",
        ),
        (
            b'{"kind": "shard-action-history", "version": 1.0, "mode": "serial"}',
            "shard-action history version 1.0 is not a whole number",
        ),
        (
            b'{"kind": "shard-action-history", "version": 2.0}',
            "shard-action history version 2.0 is not a whole number",
        ),
        (
            b'{"kind": "shard-action-history", "version": "2"}',
            'shard-action history version "2" is not a whole number',
        ),
        (
            json.dumps({"kind": "shard-action-history", "version": 1, "mode": "fast"}).encode(),
            "not a valid shard-action history: key 'mode.mode': Input should be 'parallel' or "
            "'serial'",
        ),
    ],
)
def test_an_unusable_file_is_named(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "history.json"
    path.write_bytes(content)
    with pytest.raises(InputError, match=message) as caught:
        read_history(path)
    assert str(path) in str(caught.value)


V1_SERIAL = (
    '{"kind": "shard-action-history", "version": 1, "mode": "serial",'
    ' "mode_reason": "flaky rate 9% over the 5% threshold in run #4; back to parallel after 3",'
    ' "clean_serial_runs": 2, "mode_since": 4, "mode_cause": "flaky rate 9% in run #4",'
    ' "runs": [{"index": 6, "mode": "serial", "tests": 2, "flaky": 0, "flaky_rate": 0.0}],'
    ' "tests": {"default": {"t": {"duration": 1.5, "outcomes": "Fpp", "last_seen": 6}}}}'
)
"""A serial history as release 1 wrote it: five flat mode fields."""


def test_a_version_1_history_is_read_as_version_2_with_its_mode_state(tmp_path: Path) -> None:
    path = tmp_path / "history.json"
    path.write_text(V1_SERIAL, "utf-8")
    history = read_history(path)
    assert history.version == 2
    assert history.mode == ModeState(
        mode="serial",
        reason="flaky rate 9% over the 5% threshold in run #4; back to parallel after 3",
        clean_serial_runs=2,
        since=4,
        cause="flaky rate 9% in run #4",
    )
    assert (history.next_index(), history.tests["default"]["t"].outcomes) == (7, "Fpp")
    write_history(path, history)
    written = json.loads(path.read_text("utf-8"))
    assert (written["version"], written["mode"]["clean_serial_runs"]) == (2, 2)
    assert "mode_reason" not in written and read_history(path) == history


def test_a_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="is a folder"):
        read_history(tmp_path)


def test_unusable_numbers_in_a_stored_history_are_dropped_or_clamped(tmp_path: Path) -> None:
    """NaN, Infinity, null (what an infinite float is written as), negative or extreme values."""
    path = tmp_path / "history.json"
    path.write_text(
        '{"kind": "shard-action-history", "version": 1, "runs": ['
        '{"index": 1, "mode": "parallel", "tests": -3, "flaky": 1, "flaky_rate": NaN,'
        ' "coverage": Infinity, "seconds": -5},'
        '{"index": 2, "mode": "parallel", "tests": 4, "flaky": 1, "flaky_rate": 7.5,'
        ' "coverage": -1, "seconds": 1.7e308}],'
        ' "tests": {"l": {'
        '"a": {"duration": null, "recent": [NaN, 2.0, -1, 1.7e308, Infinity, 4.0]},'
        '"b": {"duration": -Infinity},'
        '"c": {"duration": 1.7e308, "recent": []},'
        '"d": {"duration": NaN, "recent": [1.0, 1e300]}}}}',
        "utf-8",
    )
    history = read_history(path)
    first, second = history.runs
    assert (first.tests, first.flaky_rate, first.coverage, first.seconds) == (0, 0.0, None, None)
    assert (second.flaky_rate, second.coverage, second.seconds) == (1.0, 0.0, None)
    records = history.tests["l"]
    assert (records["a"].duration, records["a"].recent) == (3.0, [2.0, 4.0])
    assert records["b"].duration == 0.0
    assert records["c"].duration == 7 * 24 * 3600.0
    assert (records["d"].duration, records["d"].recent) == (1.0, [1.0])
    write_history(path, history)
    assert read_history(path) == history


SUITE = "def test_a():\n    pass\n\n\ndef test_b():\n    pass\n"


@pytest.mark.slow
def test_a_report_with_an_extreme_junit_time_writes_a_history_the_next_plan_reads(
    tmp_path: Path,
) -> None:
    """plan → run → JUnit says 1.7e308 s → report twice (two samples: their mean overflowed to
    inf, written as null) → the next plan and report still read the history, tests kept."""
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_x.py").write_text(SUITE)
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    env = {
        **os.environ,
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
        "SHARD_ACTION_COVERAGE": "false",
    }
    for name in [n for n in env if n.startswith("GITHUB_")]:
        del env[name]

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "shard_action", *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )

    assert cli("plan", "--out", "p1").returncode == 0
    (shard,) = json.loads((tmp_path / "p1" / "plan.json").read_text())["shards"]
    ran = cli("run", "--plan", "p1/plan.json", "--shard", shard["id"], "--results", "r/s")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    junit = tmp_path / "r" / "s" / "junit-1.xml"
    junit.write_text(re.sub(r'time="[^"]*"', 'time="1.7e308"', junit.read_text()))
    history = None
    for out in ("o1", "o2"):
        extra: list[str] = ["--history", history] if history else []
        done = cli("report", "--plan", "p1/plan.json", "--results", "r", "--out", out, *extra)
        assert done.returncode == 0, done.stdout + done.stderr
        history = f"{out}/history.json"
    planned = cli("plan", "--timings", "o2/history.json", "--out", "p2")
    assert planned.returncode == 0, planned.stdout + planned.stderr
    kept = read_history(tmp_path / "o2" / "history.json")
    assert len(kept.runs) == 2
    assert sorted(kept.tests["default"]) == ["tests/test_x.py::test_a", "tests/test_x.py::test_b"]
