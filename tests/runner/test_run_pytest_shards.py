"""``shard-action run`` with pytest on small generated suites: selection, env, order, ids."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from collections import Counter
from pathlib import Path

import pytest

from shard_action.adapters.junit import read_junit
from tests.runner.helpers import (
    CLI,
    QUIET_ENV,
    collect_ids,
    log_lines,
    manifest,
    only_slice,
    run_shard,
    save_plan,
    write_suite,
)
from tests.runner.plans import LaneSlice, plan, shard

pytestmark = pytest.mark.slow

LOGGING_CONFTEST = """\
import json, os
import pytest

@pytest.fixture(autouse=True)
def _log_each_test(request):
    with open(os.environ["RUN_LOG"], "a", encoding="utf-8") as log:
        log.write(json.dumps({
            "id": request.node.nodeid,
            "pid": os.getpid(),
            "shard": os.environ.get("SHARD_ACTION_RUN_SHARD"),
            "lane": os.environ.get("SHARD_ACTION_RUN_LANE"),
            "value": os.environ.get("LANE_VALUE"),
            "attempt": os.environ.get("SHARD_ACTION_RUN_ATTEMPT"),
            "xdist": request.config.pluginmanager.hasplugin("xdist"),
        }, ensure_ascii=False) + "\\n")
    yield
"""

NEVER_IMPORTED = """\
import os, pathlib
pathlib.Path(os.environ["RUN_LOG"]).with_name("{name}.imported").write_text("x")
raise RuntimeError("this file is outside the shard and must never be imported")
"""


def _suite(root: Path) -> Path:
    return write_suite(
        root,
        {
            "tests/conftest.py": LOGGING_CONFTEST,
            "tests/unit/test_alpha.py": """\
                def test_one(): pass
                def test_two(): pass
                def test_three(): pass
            """,
            "tests/unit/test_beta.py": """\
                class TestBeta:
                    def test_x(self): pass
                    def test_y(self): pass
            """,
            "tests/other/conftest.py": NEVER_IMPORTED.format(name="other-conftest"),
            "tests/other/test_never.py": NEVER_IMPORTED.format(name="other-test"),
            "tests/unit/test_slow_import.py": NEVER_IMPORTED.format(name="slow-import"),
        },
    )


def test_only_the_shards_files_are_collected_and_each_id_runs_once(tmp_path: Path) -> None:
    root = _suite(tmp_path / "suite")
    ids = collect_ids(root, "tests/unit/test_alpha.py", "tests/unit/test_beta.py")
    assert len(ids) == 5
    built = plan(
        shard("default-1", LaneSlice("default", [ids[0], ids[2], ids[3]])),
        shard("default-2", LaneSlice("default", [ids[1], ids[4]])),
        coverage=True,
    )
    plan_path = save_plan(root, built)
    log = tmp_path / "run.log"
    for s in built.shards:
        proc, results = run_shard(root, plan_path, s.id, env={"RUN_LOG": str(log)})
        assert proc.returncode == 0, proc.stdout + proc.stderr
        got = manifest(results)
        ran = only_slice(got)
        assert (ran.lane, ran.planned, ran.tests) == ("default", len(s.tests), s.tests)
        assert ran.outcomes == dict.fromkeys(s.tests, "passed")
        assert got.exit_code == 0 and got.failure is None and ran.drift == []
        assert got.workdir == str(root.resolve())
        assert got.coverage == [f".coverage.{s.id}"]
        assert (results / got.coverage[0]).is_file()
        assert not list(results.glob(".coverage.*.*")), "parallel parts were combined"
        assert got.junit == ["junit-1.xml"]
        cases = read_junit(results / "junit-1.xml").cases
        assert sorted(f"{c.file}::{c.name}" for c in cases) == sorted(
            f"{t.split('::')[0]}::{t.rsplit('::', 1)[1]}" for t in s.tests
        )
        assert f"{len(s.tests)} of {len(s.tests)} planned tests ran" in proc.stdout
    runs = log_lines(log)
    assert Counter(r["id"] for r in runs) == Counter(ids)
    assert {r["id"]: r["shard"] for r in runs} == {t: s.id for s in built.shards for t in s.tests}
    assert not list(tmp_path.glob("*.imported")), "a file outside the shard was imported"


def test_lane_env_processes_and_sequential_order(tmp_path: Path) -> None:
    root = write_suite(
        tmp_path / "suite",
        {
            "tests/conftest.py": LOGGING_CONFTEST,
            "tests/test_a.py": "def test_a1(): pass\ndef test_a2(): pass\n",
            "tests/test_z.py": "def test_z1(): pass\ndef test_z2(): pass\ndef test_z3(): pass\n",
        },
    )
    z = collect_ids(root, "tests/test_z.py")
    a = collect_ids(root, "tests/test_a.py")
    sequential = [*z, a[0]]  # the plan's order: file z first, then a
    built = plan(
        shard(
            "serial",
            LaneSlice("fast", [a[1]], env={"LANE_VALUE": "fast"}),
            LaneSlice("ordered", sequential, env={"LANE_VALUE": "ordered"}, sequential=True),
        ),
        mode="serial",
        coverage=False,
    )
    log = tmp_path / "run.log"
    autoload = {"RUN_LOG": str(log), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": ""}  # xdist is installed
    proc, results = run_shard(root, save_plan(root, built), "serial", env=autoload)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    runs = log_lines(log)
    fast = [r for r in runs if r["lane"] == "fast"]
    ordered = [r for r in runs if r["lane"] == "ordered"]
    assert [r["id"] for r in fast] == [a[1]]
    assert {r["value"] for r in fast} == {"fast"}
    assert {r["value"] for r in ordered} == {"ordered"}
    assert [r["id"] for r in ordered] == sequential, "a sequential lane keeps its order"
    assert len({r["pid"] for r in ordered}) == 1, "a sequential lane is one process"
    assert {r["pid"] for r in fast}.isdisjoint({r["pid"] for r in ordered})
    assert all(r["xdist"] for r in fast), "xdist is loaded where it is allowed"
    assert not any(r["xdist"] for r in ordered), "no xdist in a sequential lane"
    got = manifest(results)
    assert got.mode == "serial" and got.lane == "serial"
    assert [(r.lane, r.tests, r.junit) for r in got.slices] == [
        ("fast", [a[1]], ["junit-1.xml"]),
        ("ordered", sequential, ["junit-2.xml"]),
    ]
    assert got.junit == ["junit-1.xml", "junit-2.xml"]


FLAKY_PER_BACKEND = """\
import os, pathlib

def test_read(): pass
def test_write(): pass

def test_flaky_once_per_backend():
    marker = pathlib.Path(os.environ["FLAKY_DIR"]) / os.environ["LANE_VALUE"]
    if not marker.exists():
        marker.write_text("x")
        raise AssertionError("first attempt on this backend fails")
"""


def test_fan_out_in_serial_mode_runs_and_reruns_the_same_ids_once_per_backend(
    tmp_path: Path,
) -> None:
    root = write_suite(
        tmp_path / "suite",
        {"tests/conftest.py": LOGGING_CONFTEST, "tests/test_db.py": FLAKY_PER_BACKEND},
    )
    ids = collect_ids(root, "tests")
    flaky = ids[2]
    built = plan(
        shard(
            "serial",
            LaneSlice("db-sqlite", ids, env={"LANE_VALUE": "sqlite"}),
            LaneSlice("db-memory", ids, env={"LANE_VALUE": "memory"}),
        ),
        bases={"db-sqlite": "db", "db-memory": "db"},
        mode="serial",
        reruns=1,
        coverage=False,
    )
    log = tmp_path / "run.log"
    flaky_dir = tmp_path / "flaky"
    flaky_dir.mkdir()
    env = {"RUN_LOG": str(log), "FLAKY_DIR": str(flaky_dir)}
    proc, results = run_shard(root, save_plan(root, built), "serial", env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    runs = log_lines(log)
    assert sorted((r["id"], r["lane"], r["value"], r["attempt"]) for r in runs) == sorted(
        [(t, f"db-{v}", v, "1") for t in ids for v in ("sqlite", "memory")]
        + [(flaky, f"db-{v}", v, "2") for v in ("sqlite", "memory")]
    ), "every id once per backend, and each backend's re-run with that backend's env"
    got = manifest(results)
    assert [(r.lane, r.planned, r.tests) for r in got.slices] == [
        ("db-sqlite", 3, ids),
        ("db-memory", 3, ids),
    ]
    for ran in got.slices:
        assert ran.outcomes == dict.fromkeys(ids, "passed")
        assert [(r.test, r.verdict) for r in ran.reruns] == [(flaky, "flaky")]
    assert [r.junit for r in got.slices] == [
        ["junit-1.xml", "junit-1-rerun1.xml"],
        ["junit-2.xml", "junit-2-rerun1.xml"],
    ]
    assert "6 of 6 planned tests ran" in proc.stdout and "passed 6 " in proc.stdout
    assert f"flaky:  {flaky} (lane db-memory)" in proc.stdout


WEIRD_IDS = """\
import pytest

IDS = [
    "with space",
    "double \\"quote\\"",
    "single 'quote'",
    "$(touch pwned)",
    "`touch pwned2`; rm -rf nothing",
    "café ☕ 日本",
    "a::b::c",
    "brackets[1]",
    "back\\\\slash",
    "-dash --option",
]

@pytest.mark.parametrize("value", IDS, ids=IDS)
def test_weird(value):
    assert value in IDS
"""


def test_weird_ids_run_exactly_once(tmp_path: Path) -> None:
    root = write_suite(
        tmp_path / "suite",
        {"tests/conftest.py": LOGGING_CONFTEST, "tests/test_weird.py": WEIRD_IDS},
        pyproject="[tool.pytest.ini_options]\n"
        "disable_test_id_escaping_and_forfeit_all_rights_to_community_support = true\n",
    )
    ids = collect_ids(root, "tests")
    assert len(ids) == 10 and any("☕" in i for i in ids) and any("a::b::c" in i for i in ids)
    built = plan(
        shard("w-1", LaneSlice("w", ids[::2])),
        shard("w-2", LaneSlice("w", ids[1::2])),
        coverage=False,
    )
    plan_path = save_plan(root, built)
    log = tmp_path / "run.log"
    for s in built.shards:
        proc, results = run_shard(root, plan_path, s.id, env={"RUN_LOG": str(log)})
        assert proc.returncode == 0, proc.stdout + proc.stderr
        ran = only_slice(manifest(results))
        assert ran.outcomes == dict.fromkeys(s.tests, "passed") and ran.drift == []
    assert Counter(r["id"] for r in log_lines(log)) == Counter(ids)
    assert not (root / "pwned").exists() and not (root / "pwned2").exists()


DRIFTING = """\
import random, time
import pytest

@pytest.mark.parametrize("stamp", [time.time()])
def test_clock(stamp): pass

@pytest.mark.parametrize("value", [random.random()])
def test_random(value): pass

def test_stable_one(): pass
def test_stable_two(): pass
"""


def test_drifted_ids_run_once_in_the_owner_shard_and_are_recorded(tmp_path: Path) -> None:
    root = write_suite(
        tmp_path / "suite",
        {"tests/conftest.py": LOGGING_CONFTEST, "tests/test_drift.py": DRIFTING},
    )
    ids = collect_ids(root, "tests")
    clock, rand, one, two = ids
    assert "test_clock[" in clock and "test_random[" in rand
    built = plan(
        shard("d-1", LaneSlice("d", [one, clock])),  # the first shard holding the file owns it
        shard("d-2", LaneSlice("d", [two, rand])),
        coverage=False,
    )
    plan_path = save_plan(root, built)
    log = tmp_path / "run.log"
    manifests = {}
    for s in built.shards:
        proc, results = run_shard(root, plan_path, s.id, env={"RUN_LOG": str(log)})
        assert proc.returncode == 0, proc.stdout + proc.stderr
        manifests[s.id] = manifest(results)
    runs = log_lines(log)
    ran = Counter(r["id"].split("[")[0] for r in runs)
    assert ran == {
        "tests/test_drift.py::test_clock": 1,
        "tests/test_drift.py::test_random": 1,
        "tests/test_drift.py::test_stable_one": 1,
        "tests/test_drift.py::test_stable_two": 1,
    }
    assert {r["shard"] for r in runs if "[" in r["id"]} == {"d-1"}
    owner, other = only_slice(manifests["d-1"]), only_slice(manifests["d-2"])
    (owner_drift,) = owner.drift
    assert owner_drift.file == "tests/test_drift.py"
    assert owner_drift.planned == [clock]
    assert len(owner_drift.collected) == 2 and clock not in owner_drift.collected
    assert {c.split("[")[0] for c in owner_drift.collected} == {
        "tests/test_drift.py::test_clock",
        "tests/test_drift.py::test_random",
    }
    assert set(owner.tests) == {one, *owner_drift.collected}
    (other_drift,) = other.drift
    assert other_drift.planned == [rand] and other_drift.collected == []
    assert other.tests == [two]
    assert manifests["d-2"].exit_code == 0


def test_a_collection_error_fails_the_shard_and_names_the_file(tmp_path: Path) -> None:
    root = write_suite(
        tmp_path / "suite",
        {
            "tests/test_ok.py": "def test_ok(): pass\n",
            "tests/test_broken.py": "def test_b(): pass\n",
        },
    )
    ids = collect_ids(root, "tests")
    (root / "tests/test_broken.py").write_text("import no_such_module_here\n")
    built = plan(shard("c-1", LaneSlice("c", ids)), reruns=1, coverage=False)
    proc, results = run_shard(root, save_plan(root, built), "c-1")
    assert proc.returncode == 1
    got = manifest(results)
    assert only_slice(got).outcomes["tests/test_broken.py::test_b"] == "error"
    assert got.failure is not None and "could not collect tests/test_broken.py" in got.failure
    assert "did not run: tests/test_ok.py::test_ok" in proc.stdout
    assert only_slice(got).drift == []


def test_another_interpreter_without_shard_action_and_a_root_option(tmp_path: Path) -> None:
    """``runner.python`` may be the project's own virtualenv, which lacks shard-action."""
    site_packages = [p for p in sys.path if p.endswith("site-packages")]
    venv.create(tmp_path / "venv", with_pip=False)
    (pth,) = (tmp_path / "venv").glob("lib/python*/site-packages")
    # pytest and coverage from our environment, but not our editable shard-action: a path in a
    # .pth file is added as it is, without processing the .pth files inside it
    (pth / "borrowed.pth").write_text("\n".join(site_packages) + "\n")
    python = tmp_path / "venv" / "bin" / "python"
    check = subprocess.run(
        [str(python), "-c", "import pytest, coverage\nimport shard_action"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert "No module named 'shard_action'" in check.stderr
    root = _suite(tmp_path / "suite")
    ids = collect_ids(root, "tests/unit/test_alpha.py")
    built = plan(shard("o-1", LaneSlice("o", ids)), python=str(python), coverage=True)
    plan_path = save_plan(root, built)
    log = tmp_path / "run.log"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    results = tmp_path / "out"
    proc = subprocess.run(
        [*CLI, "--plan", str(plan_path), "--shard", "o-1", "--root", str(root),
         "--results", str(results)],
        cwd=elsewhere,
        env={**os.environ, **QUIET_ENV, "RUN_LOG": str(log)},
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    got = manifest(results)
    assert only_slice(got).tests == ids and got.workdir == str(root.resolve())
    assert got.coverage == [".coverage.o-1"]
    assert [r["id"] for r in log_lines(log)] == ids


def test_xdist_inside_a_parallel_shard(tmp_path: Path) -> None:
    root = _suite(tmp_path / "suite")
    ids = collect_ids(root, "tests/unit/test_alpha.py", "tests/unit/test_beta.py")
    built = plan(
        shard("x-1", LaneSlice("x", ids[:4])),
        shard("x-2", LaneSlice("x", ids[4:])),
        pytest_args=["-p", "xdist", "-n", "2"],
        coverage=False,
    )
    log = tmp_path / "run.log"
    proc, results = run_shard(root, save_plan(root, built), "x-1", env={"RUN_LOG": str(log)})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    ran = only_slice(manifest(results))
    assert sorted(ran.tests) == sorted(ids[:4]) and ran.drift == []
    assert ran.outcomes == dict.fromkeys(ids[:4], "passed")
    runs = log_lines(log)
    assert sorted(r["id"] for r in runs) == sorted(ids[:4])
    assert len({r["pid"] for r in runs}) == 2, "two xdist workers"
