"""Bad input to ``shard-action run``: a clear message naming the file, exit status 2."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.runner.helpers import CLI, manifest, only_slice, run_shard, save_plan, write_suite
from tests.runner.plans import LaneSlice, plan, shard

pytestmark = pytest.mark.slow


def _plan_file(root: Path) -> Path:
    built = plan(
        shard("a-1", LaneSlice("a", ["tests/test_x.py::t"])), shard("b-1", LaneSlice("b", []))
    )
    return save_plan(root, built)


def test_unknown_shard_lists_the_known_ones(tmp_path: Path) -> None:
    root = write_suite(tmp_path, {})
    proc, results = run_shard(root, _plan_file(root), "zzz")
    assert proc.returncode == 2
    assert "plan.json: no shard 'zzz' in the plan (shards: a-1, b-1)" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (results / "manifest.json").exists()


@pytest.mark.parametrize(
    "content, message",
    [
        ("{not json", ":1: not valid JSON at column 2"),
        ("[1, 2]", ": not a plan (expected a JSON object, got list)"),
        ('{"kind": "shard-action-history", "version": 1}', ": not a plan (kind 'shard-action-h"),
        ('{"kind": "shard-action-plan", "version": 99}', ": plan version 99 is not supported"),
        # a plan of an older release (version 1 had no kind, shards a flat `tests` list)
        (
            '{"version": 1, "mode": "parallel", "shards": [{"tests": [], "runs": []}]}',
            ": plan version 1 is not supported (this shard-action reads version 2): re-run "
            "`shard-action plan`",
        ),
        (
            '{"kind": "shard-action-plan", "version": 2, "mode": "parallel"}',
            ": not a valid plan: key 'mode_reason': Field required (and ",
        ),
        (b"\xff\xfe\x00garbage", ": not UTF-8"),
    ],
)
def test_corrupt_plan_names_the_file(tmp_path: Path, content: str | bytes, message: str) -> None:
    root = write_suite(tmp_path, {})
    path = root / "broken-plan.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    proc, _ = run_shard(root, path, "a-1")
    assert proc.returncode == 2
    assert f"broken-plan.json{message}" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_slice_of_a_lane_the_plan_does_not_list_is_refused(tmp_path: Path) -> None:
    root = write_suite(tmp_path, {})
    data = json.loads(_plan_file(root).read_text())
    data["shards"][0]["slices"][0]["lane"] = "elsewhere"
    path = root / "plan.json"
    path.write_text(json.dumps(data))
    proc, _ = run_shard(root, path, "a-1")
    assert proc.returncode == 2
    assert "plan.json: not a valid plan: shard 'a-1': no lane 'elsewhere' in the plan" in (
        proc.stderr
    )


def test_missing_plan_file(tmp_path: Path) -> None:
    proc, _ = run_shard(tmp_path, tmp_path / "nope.json", "a-1")
    assert proc.returncode == 2 and "nope.json: plan file not found" in proc.stderr


@pytest.mark.parametrize("shard_id", ["none", "b-1"])
def test_empty_shard_writes_a_manifest_and_passes(tmp_path: Path, shard_id: str) -> None:
    root = write_suite(tmp_path, {})
    proc, results = run_shard(root, _plan_file(root), shard_id)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    got = manifest(results)
    assert got.shard == shard_id and got.planned == 0 and got.executed == 0
    assert got.exit_code == 0 and got.failure is None
    assert all(run.exit_codes == [] for run in got.slices)


def test_a_runner_that_cannot_start_fails_the_shard(tmp_path: Path) -> None:
    root = write_suite(tmp_path, {"tests/test_x.py": "def t(): pass\ndef test_x(): pass\n"})
    built = plan(shard("a-1", LaneSlice("a", ["tests/test_x.py::test_x"])))
    proc, results = run_shard(root, save_plan(root, built), "a-1", "--no-such-option")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    got = manifest(results)
    assert only_slice(got).exit_codes == [4]
    assert got.failure is not None
    assert "shard a-1, lane a: the runner process exited with code 4 before it finished" in (
        got.failure
    )
    assert "did not run: tests/test_x.py::test_x" in proc.stdout


def _two_shards(root: Path) -> dict[str, Any]:
    built = plan(
        shard("a-1", LaneSlice("a", ["tests/test_x.py::t"])), shard("a-2", LaneSlice("a", ["u.py"]))
    )
    data: dict[str, Any] = json.loads(save_plan(root, built).read_text())
    return data


def _set(data: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    *keys, last = [int(k) if k.isdigit() else k for k in path.split(".")]
    target: Any = data
    for key in keys:
        target = target[key]
    target[last] = value
    return data


@pytest.mark.parametrize(
    "path, value, shard_id, message",
    [
        ("shards.0.id", "../../escaped", "../../escaped", "'shards.0.id': String should match"),
        ("shards.0.id", "a/b", "a/b", "(got 'a/b')"),
        ("shards.0.id", "..", "..", "(got '..')"),
        ("shards.0.lane", "../x", "a-1", "'shards.0.lane': String should match"),
        ("shards.0.slices.0.lane", "a/../../x", "a-1", "(got 'a/../../x')"),
        ("lanes.0.name", "/tmp", "a-1", "'lanes.0.name': String should match"),
        ("shards.1.id", "a-1", "a-1", "shard id 'a-1' is used by two shards"),
        (
            "shards.1.slices.0.tests",
            ["tests/test_x.py::t"],
            "a-2",
            "test 'tests/test_x.py::t' (lane a) is planned in shards 'a-1' and 'a-2'",
        ),
        (
            "shards.0.slices.0.tests",
            ["u.py", "u.py"],
            "a-1",
            "test 'u.py' (lane a) is planned in shard 'a-1' twice",
        ),
    ],
)
def test_a_plan_with_unsafe_names_or_a_test_in_two_places_is_refused_when_loaded(
    tmp_path: Path, path: str, value: Any, shard_id: str, message: str
) -> None:
    root = write_suite(tmp_path / "repo", {})
    data = _set(_two_shards(root), path, value)
    bad = root / "bad-plan.json"
    bad.write_text(json.dumps(data))
    results = tmp_path / "deep" / "er" / "results"
    proc, _ = run_shard(root, bad, shard_id, results=results)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "bad-plan.json: not a valid plan" in proc.stderr and message in proc.stderr
    assert not any(tmp_path.rglob("*escaped*")) and not (tmp_path / "deep").exists()
    report = subprocess.run(
        [*CLI[:-1], "report", "--plan", str(bad), "--results", str(root), "--out", "out"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    assert report.returncode == 2 and message in report.stderr, report.stderr
