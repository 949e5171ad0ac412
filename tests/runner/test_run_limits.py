"""A lane's timeout and memory cap: the shard fails fast, saying which shard, lane and limit."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.runner.helpers import (
    collect_ids,
    manifest,
    only_slice,
    run_shard,
    save_plan,
    write_suite,
)
from tests.runner.plans import LaneSlice, plan, shard

pytestmark = pytest.mark.slow

HANGS = """\
import os, pathlib, subprocess, sys, time

def test_quick():
    pass

def test_hangs():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
    pathlib.Path(os.environ["CHILD_PID"]).write_text(str(child.pid))
    time.sleep(300)

def test_after():
    pass
"""

HOG = """\
def test_small():
    pass

def test_hog():
    data = bytearray(2048 * 1024 * 1024)
    assert data

def test_after():
    pass
"""


def _alive(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status")
    try:
        state = next(line for line in status.read_text().splitlines() if line.startswith("State"))
    except (OSError, StopIteration):
        return False
    return " Z " not in state and "zombie" not in state


def test_timeout_kills_the_process_group_and_fails_fast(tmp_path: Path) -> None:
    root = write_suite(tmp_path / "suite", {"tests/test_hangs.py": HANGS})
    quick, hangs, after = collect_ids(root, "tests")
    built = plan(
        shard("slow-1", LaneSlice("slow", [quick, hangs, after], timeout=3)), coverage=False
    )
    child_pid = tmp_path / "child.pid"
    started = time.monotonic()
    proc, results = run_shard(
        root, save_plan(root, built), "slow-1", env={"CHILD_PID": str(child_pid)}
    )
    elapsed = time.monotonic() - started
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert elapsed < 60, "the shard did not fail fast"
    got = manifest(results)
    assert got.failure is not None
    assert "shard slow-1, lane slow: the runner process exceeded the lane timeout of 3 s" in (
        got.failure
    )
    assert f"while running {hangs}" in got.failure
    assert f"did not run: {after}" in proc.stdout
    assert only_slice(got).outcomes == {quick: "passed", hangs: "error"}
    assert only_slice(got).reruns == [], "a timeout is not re-run"
    assert "failure:" in proc.stdout and "timeout of 3 s" in proc.stdout
    deadline = time.monotonic() + 5
    while _alive(int(child_pid.read_text())) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(int(child_pid.read_text())), "the test's own child process survived"


def test_memory_cap_stops_the_shard_with_a_clear_message(tmp_path: Path) -> None:
    root = write_suite(tmp_path / "suite", {"tests/test_hog.py": HOG})
    small, hog, after = collect_ids(root, "tests")
    built = plan(
        shard("mem-1", LaneSlice("mem", [small, hog, after], memory_mb=300)),
        coverage=True,
        reruns=2,
    )
    proc, results = run_shard(root, save_plan(root, built), "mem-1")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    got = manifest(results)
    assert got.failure is not None
    assert f"shard mem-1, lane mem: {hog} exceeded the memory cap of 300 MiB" in got.failure
    assert f"did not run: {after}" in proc.stdout
    assert only_slice(got).outcomes == {small: "passed", hog: "failed"}
    assert only_slice(got).reruns == [], "a process over its memory cap is not re-run"
    assert len(only_slice(got).exit_codes) == 1


def test_memory_cap_leaves_a_normal_suite_alone(tmp_path: Path) -> None:
    root = write_suite(tmp_path / "suite", {"tests/test_hog.py": HOG})
    small, _, after = collect_ids(root, "tests")
    built = plan(shard("mem-1", LaneSlice("mem", [small, after], memory_mb=300, timeout=120)))
    proc, results = run_shard(root, save_plan(root, built), "mem-1")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert only_slice(manifest(results)).outcomes == {small: "passed", after: "passed"}
