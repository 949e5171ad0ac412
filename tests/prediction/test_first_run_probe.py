"""The first-run probe: a few of the suite's own tests, timed in the plan step, scale the estimate.

Hand-computed figures follow the documented rules: the source-size rule gives 2 ms per test for
a file of 300 bytes per test (``core.estimate``), and a probe's factor is measured / estimated
over the probed tests. The command-level tests run real pytest processes on small projects.
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
from hypothesis import given
from hypothesis import strategies as st

from shard_action.adapters.probe import run_probe
from shard_action.core import estimate, probe
from shard_action.core.config import Config
from shard_action.core.models import TestItem, Timings
from shard_action.core.planner import make_plan
from shard_action.core.tiers import staged


def _items(spec: dict[str, int]) -> list[TestItem]:
    return [TestItem(id=f"{f}::t{i}", file=f) for f, n in spec.items() for i in range(n)]


def test_the_sample_is_a_stable_hash_choice_per_lane_and_bounded() -> None:
    lanes = {
        "default": [f"tests/test_a.py::t{i}" for i in range(40)],
        "db": [f"tests/db/test_b.py::t{i}" for i in range(5)],
    }
    chosen = probe.sample(lanes)
    assert chosen == probe.sample(dict(reversed(list(lanes.items()))))  # lane order: by name
    assert len([t for t in chosen if "/db/" in t]) == 5  # a small lane: all of it
    assert len([t for t in chosen if "test_a" in t]) == probe.PER_LANE
    assert len(probe.sample({"x": [f"t.py::t{i}" for i in range(500)]}, 100)) == probe.MAX_TESTS
    # hash-chosen, not the first ones: adding a test elsewhere does not move the others
    grown = {**lanes, "default": [*lanes["default"], "tests/test_c.py::new"]}
    assert len(set(chosen) - set(probe.sample(grown))) <= 1


def test_lanes_with_the_same_env_share_a_process_and_the_parts_merge() -> None:
    lanes = {"a": ["a.py::t"], "b": ["b.py::t"], "c": ["c.py::t"], "d": ["d.py::t"]}
    envs = {"a": {}, "b": {"X": "1"}, "c": {}, "d": {"X": "1"}}
    ids = ["a.py::t", "b.py::t", "c.py::t", "d.py::t"]
    assert probe.runs(lanes, ids, envs) == [
        ({}, ["a.py::t", "c.py::t"]),
        ({"X": "1"}, ["b.py::t", "d.py::t"]),
    ]
    ran = probe.ProbeTimes(budget=2, sample=ids[:2], seconds={"a.py::t": 0.5})
    ok = probe.ProbeTimes(budget=1, sample=ids[2:], seconds={"c.py::t": 0.1})
    both = probe.merged(5, ids, [ran, ok], lanes)
    assert (both.budget, both.sample, both.problem) == (5, ids, None)
    assert both.seconds == {**ran.seconds, **ok.seconds}


def test_a_failed_part_is_a_problem_named_by_its_lanes_even_when_others_measured() -> None:
    """A lane whose process failed was not measured: the merged probe says which, so the plan
    tells it and does not cache it, though the other lanes' times still scale the estimates."""
    lanes = {"plain": ["a.py::t0", "a.py::t1"], "db": ["d.py::t"], "db2": ["e.py::t"]}
    ran = probe.ProbeTimes(budget=5, sample=lanes["plain"], seconds={"a.py::t0": 0.5})
    ended = "pytest ended (exit 3) before any test ran"
    failed = probe.ProbeTimes(budget=4.5, sample=["d.py::t", "e.py::t"], problem=ended)
    both = probe.merged(5, [*lanes["plain"], "d.py::t", "e.py::t"], [ran, failed], lanes)
    assert both.seconds == ran.seconds
    assert both.problem == f"lanes db, db2: {ended}" and both.failed == ["db", "db2"]
    alone = probe.merged(5, ["d.py::t"], [failed.model_copy(update={"sample": ["d.py::t"]})], lanes)
    assert alone.problem == f"lane db: {ended}"
    assert not alone.seconds


@pytest.mark.parametrize(
    ("seconds", "stored"),
    [(0.012345, 0.012), (2.345, 2.3), (123.4, 120.0), (0.0, 0.0), (-1.0, 0.0), (0.96, 0.96)],
)
def test_measured_figures_are_stored_to_two_significant_digits(
    seconds: float, stored: float
) -> None:
    assert probe.quantised(seconds) == stored


def _document(seconds: dict[str, float], cut: dict[str, float] | None = None) -> probe.FirstRunFile:
    return probe.FirstRunFile(
        collection=probe.CollectionClock(interpreter=0.3, files={"a.py": 0.01, "b.py": 0.01}),
        probe=probe.ProbeTimes(budget=5, sample=list(seconds), seconds=seconds, cut=cut or {}),
    )


def test_a_probe_scales_every_source_size_estimate_by_hand() -> None:
    tests = _items({"a.py": 2, "b.py": 3})
    sizes = {"a.py": 600, "b.py": 900}  # 300 bytes per test: 2 ms each
    three = {"a.py::t0": 0.2, "a.py::t1": 0.2, "b.py::t0": 0.2}
    calibration = probe.calibration(_document(three), tests, sizes)
    assert calibration is not None
    assert (calibration.tests, calibration.cut) == (3, 0)
    assert calibration.factor == pytest.approx(100.0)  # 0.6 s measured against 6 ms
    plan = make_plan(
        Config(shards=1), tests, Timings(), mode="parallel", mode_reason="t",
        file_bytes=sizes, calibration=calibration,
    )  # fmt: skip
    assert plan.totals.seconds == pytest.approx(5 * 0.2)
    info = plan.timings.estimate
    assert info.probe is not None and info.probe.factor == pytest.approx(100.0)
    assert "scaled x100 by a probe that ran 3 of them" in info.reliability
    assert estimate.PROBED_RELIABILITY in info.reliability
    assert not info.first_run  # no fixed costs estimated here
    unprobed = make_plan(
        Config(shards=1), tests, Timings(), mode="parallel", mode_reason="t", file_bytes=sizes
    )
    assert unprobed.totals.seconds == pytest.approx(5 * 0.002)
    assert unprobed.timings.estimate.probe is None
    assert "without any timing" in unprobed.timings.estimate.reliability


def test_a_test_cut_at_the_budget_counts_at_most_as_much_as_the_finished_ones() -> None:
    tests = _items({"a.py": 2, "b.py": 3})
    sizes = {"a.py": 600, "b.py": 900}
    finished = {"a.py::t0": 0.002, "a.py::t1": 0.002, "b.py::t0": 0.002}
    document = _document(finished, cut={"b.py::t1": 0.3})
    calibration = probe.calibration(document, tests, sizes)
    assert calibration is not None and (calibration.tests, calibration.cut) == (4, 1)
    # 6 ms finished + the cut 0.3 s counted as 6 ms, against 4 tests x 2 ms: x1.5, not x38
    assert calibration.measured == pytest.approx(0.012)
    assert calibration.factor == pytest.approx(0.012 / 0.008)
    short = probe.calibration(_document(finished, cut={"b.py::t1": 0.002}), tests, sizes)
    assert short is not None and short.factor == pytest.approx(1.0)  # under the bound: as run
    plan = make_plan(
        Config(shards=1), tests, Timings(), mode="parallel", mode_reason="t",
        file_bytes=sizes, calibration=calibration,
    )  # fmt: skip
    assert "1 of them cut at the budget" in plan.timings.estimate.reliability


@pytest.mark.parametrize(
    ("seconds", "cut"),
    [({}, {"a.py::t0": 5.0}), ({"a.py::t1": 0.001, "b.py::t0": 0.001}, {"a.py::t0": 5.0})],
)
def test_fewer_than_three_finished_tests_scale_nothing_and_the_plan_says_why(
    seconds: dict[str, float], cut: dict[str, float]
) -> None:
    """One slow test cut at the budget said x1000 for 300 trivial tests: it is not trusted."""
    tests = _items({"a.py": 2, "b.py": 3})
    sizes = {"a.py": 600, "b.py": 900}
    calibration = probe.calibration(_document(seconds, cut), tests, sizes)
    assert calibration is not None and calibration.factor == 1.0
    plan = make_plan(
        Config(shards=1), tests, Timings(), mode="parallel", mode_reason="t",
        file_bytes=sizes, calibration=calibration,
    )  # fmt: skip
    assert plan.totals.seconds == pytest.approx(5 * 0.002)  # unscaled
    info = plan.timings.estimate
    assert info.probe is not None and info.probe.unused is not None
    finished = f"finished {len(seconds)} test{'' if len(seconds) == 1 else 's'} within its 5 s"
    assert finished in info.reliability and "3 needed" in info.reliability
    assert "unscaled" in info.reliability


def test_the_factor_is_clamped() -> None:
    tests = _items({"a.py": 3})
    sizes = {"a.py": 900}
    slow = probe.calibration(_document({t.id: 60.0 for t in tests}), tests, sizes)
    assert slow is not None and slow.factor == estimate.FACTOR_RANGE[1]
    fast = probe.calibration(_document({t.id: 1e-6 for t in tests}), tests, sizes)
    assert fast is not None and fast.factor == estimate.FACTOR_RANGE[0]


def test_a_probe_is_unused_when_every_test_has_a_timing() -> None:
    tests = _items({"a.py": 2})
    calibration = probe.calibration(_document({"a.py::t0": 0.2}), tests, {"a.py": 600})
    timings = Timings(durations={t.id: 1.0 for t in tests})
    plan = make_plan(
        Config(shards=1), tests, timings, mode="parallel", mode_reason="t",
        calibration=calibration,
    )  # fmt: skip
    assert plan.totals.seconds == pytest.approx(2.0)
    assert plan.timings.estimate.probe is None
    assert plan.timings.estimate.reliability == "every duration was measured"


def test_nothing_probed_is_no_calibration() -> None:
    tests = _items({"a.py": 2})
    assert probe.calibration(probe.FirstRunFile(), tests, {}) is None
    assert probe.calibration(_document({}), tests, {}) is None
    assert probe.calibration(_document({"gone.py::t": 1.0}), tests, {}) is None
    assert probe.calibration(_document({"a.py::t0": 0.0}), tests, {}) is None


_SUITE = _items({"a.py": 3, "b.py": 5, "c.py": 1})
_SIZES = {"a.py": 900, "b.py": 4000, "c.py": 120}
_seconds = st.floats(0, 30, allow_nan=False)
_documents = st.builds(
    probe.FirstRunFile,
    collection=st.builds(
        probe.CollectionClock,
        interpreter=_seconds,
        files=st.dictionaries(st.sampled_from(sorted(_SIZES)), _seconds),
    ),
    probe=st.builds(
        probe.ProbeTimes,
        budget=st.just(5.0),
        seconds=st.dictionaries(st.sampled_from([t.id for t in _SUITE]), _seconds, max_size=5),
        cut=st.dictionaries(st.sampled_from([t.id for t in _SUITE]), _seconds, max_size=1),
    ),
)


def _plan_from(document: probe.FirstRunFile) -> str:
    """What ``plan`` does with the document: fixed costs and calibration read from it alone."""
    costs = estimate.first_costs(probe.collection_of(document), coverage=True)
    plan = make_plan(
        Config(shards="auto", max_shards=4, shard_overhead=1.0), _SUITE, Timings(),
        mode="parallel", mode_reason="t", file_bytes=_SIZES, first_run=costs,
        calibration=probe.calibration(document, _SUITE, _SIZES),
    )  # fmt: skip
    return plan.model_dump_json()


@given(document=_documents)
def test_the_same_documents_give_the_same_plan(document: probe.FirstRunFile) -> None:
    """Stored and read back (the file beside the plan), planned twice: the same plan."""
    stored = probe.FirstRunFile.model_validate_json(document.model_dump_json())
    assert _plan_from(stored) == _plan_from(document) == _plan_from(document)


def test_the_first_run_flag_decides_the_merged_note_not_the_sentence() -> None:
    """A first-tier plan merges two halves: the note follows ``first_run``, whatever a half's
    sentence says (it was found by searching the sentence before)."""
    tests = _items({"a.py": 2, "b.py": 2})
    costs = estimate.first_costs(estimate.Collection(interpreter=0.5), coverage=False)
    one = make_plan(
        Config(shards=1), tests, Timings(), mode="parallel", mode_reason="t", first_run=costs
    )
    assert one.timings.estimate.first_run
    quiet = one.timings.estimate.model_copy(update={"reliability": "reworded"})
    half = one.model_copy(update={"timings": one.timings.model_copy(update={"estimate": quiet})})
    plain = make_plan(Config(shards=1), tests, Timings(), mode="parallel", mode_reason="t")
    assert not plain.timings.estimate.first_run
    for first, rest in ((half, plain), (plain, half)):
        merged = staged(first, rest, tier="full", first_tier="smoke").timings.estimate
        assert merged.first_run
        assert merged.reliability.endswith(estimate.FIRST_RUN_NOTE)
    merged = staged(plain, plain, tier="full", first_tier="smoke").timings.estimate
    assert not merged.first_run and estimate.FIRST_RUN_NOTE not in merged.reliability


# -- real pytest processes ---------------------------------------------------------------------


def _project(root: Path) -> None:
    (root / "pytest.ini").write_text("[pytest]\n", "utf-8")
    (root / "test_slow.py").write_text(
        "import time\n\n\ndef test_s0():\n    time.sleep(0.2)\n\n\n"
        "def test_s1():\n    time.sleep(0.2)\n",
        "utf-8",
    )
    (root / "test_fast.py").write_text(
        "import pytest\n\n\n@pytest.mark.parametrize('n', range(10))\ndef test_f(n):\n"
        "    assert n >= 0\n",
        "utf-8",
    )


def _plan(root: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shard_action", "plan", "--no-history", "--shards", "2",
         "--coverage", "false", "--out", "out", *extra],
        cwd=root, capture_output=True, text=True, check=False,
    )  # fmt: skip


def test_the_plan_command_probes_a_first_run_and_plans_it_again_the_same(tmp_path: Path) -> None:
    _project(tmp_path)
    proc = _plan(tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "out"
    document = probe.FirstRunFile.model_validate_json((out / "first-run.json").read_text("utf-8"))
    assert document.probe is not None and document.collection is not None
    assert set(document.probe.seconds) == set(document.probe.sample)  # 12 tests: all of them
    assert document.probe.seconds["test_slow.py::test_s0"] >= 0.2
    plan = json.loads((out / "plan.json").read_text("utf-8"))
    info = plan["timings"]["estimate"]
    assert info["first_run"] and info["probe"]["tests"] == 12
    # the suite takes 0.4 s and a bit; unprobed, the rule said 2 ms per test (24 ms)
    assert 0.3 < plan["totals"]["seconds"] < 2.0
    assert "by a probe that ran 12 of them" in " ".join(proc.stdout.split())
    first_plan = (out / "plan.json").read_text("utf-8")
    again = _plan(tmp_path)  # the collection cache holds the tree: its probe is reused
    assert again.returncode == 0, again.stderr
    assert (out / "plan.json").read_text("utf-8") == first_plan
    assert "first-run probe" in again.stdout


def test_probe_zero_turns_it_off(tmp_path: Path) -> None:
    _project(tmp_path)
    proc = _plan(tmp_path, "--probe", "0")
    assert proc.returncode == 0, proc.stderr
    plan = json.loads((tmp_path / "out" / "plan.json").read_text("utf-8"))
    assert plan["timings"]["estimate"]["probe"] is None
    assert "without any timing" in plan["timings"]["estimate"]["reliability"]
    assert plan["totals"]["seconds"] < 0.1  # the source-size rule alone: 2 ms-ish per test
    document = probe.FirstRunFile.model_validate_json(
        (tmp_path / "out" / "first-run.json").read_text("utf-8")
    )
    assert document.probe is None and document.collection is not None


def test_the_budget_stops_the_probe_and_keeps_the_cut_test(tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text("[pytest]\n", "utf-8")
    (tmp_path / "test_long.py").write_text(
        "import time\n\n\ndef test_quick():\n    pass\n\n\ndef test_long():\n    time.sleep(30)\n",
        "utf-8",
    )
    ids = ["test_long.py::test_quick", "test_long.py::test_long"]
    began = time.monotonic()
    times = run_probe(Config(), tmp_path, ids, budget=0.5)
    assert time.monotonic() - began < 20  # stopped at the budget, not after the 30 s test
    assert set(times.seconds) == {"test_long.py::test_quick"}
    assert set(times.cut) == {"test_long.py::test_long"}
    assert times.cut["test_long.py::test_long"] >= 0.3
    assert times.problem is None


def _document_of(root: Path) -> probe.FirstRunFile:
    return probe.FirstRunFile.model_validate_json((root / "out" / "first-run.json").read_text())


def _alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_interrupting_the_plan_ends_the_probe_s_pytest(
    tmp_path: Path, sig: signal.Signals, code: int
) -> None:
    """Ctrl-C or SIGTERM of ``plan`` while the probe's test sleeps: the probe's process group
    (its own session, so the terminal's signal does not reach it) is killed, not orphaned."""
    (tmp_path / "pytest.ini").write_text("[pytest]\n", "utf-8")
    (tmp_path / "test_sleep.py").write_text(
        "import os, pathlib, time\n\n\ndef test_sleep():\n"
        "    pathlib.Path('pgid').write_text(str(os.getpgid(0)))\n    time.sleep(40)\n",
        "utf-8",
    )
    plan = subprocess.Popen(
        [sys.executable, "-m", "shard_action", "plan", "--no-history", "--shards", "2",
         "--coverage", "false", "--probe", "60", "--out", "out"],
        cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    marker = tmp_path / "pgid"
    pgid = 0
    try:
        deadline = time.monotonic() + 60
        while not (marker.exists() and marker.read_text()) and time.monotonic() < deadline:
            time.sleep(0.05)
        pgid = int(marker.read_text())
        plan.send_signal(sig)
        assert plan.wait(timeout=30) == code
        deadline = time.monotonic() + 5
        while _alive(pgid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(pgid), "the probe's pytest outlived the plan"
    finally:
        if pgid and _alive(pgid):
            os.killpg(pgid, signal.SIGKILL)
        if plan.poll() is None:
            plan.kill()
            plan.wait()


_BROKEN_RUN = (
    "import os, pathlib, sys\n\n\ndef pytest_collection_finish(session):\n"
    "    down = pathlib.Path(__file__).resolve().parent.parent / 'down'\n"
    "    if down.exists() and not session.config.option.collectonly:\n"
    "        sys.stderr.write('fixture server down ##[error]forged\\n')\n"
    "        sys.stderr.flush()\n        os._exit(3)\n"
)
"""A conftest that lets the plan's collection pass and stops the probe's run before any test
while a file outside the tree (so outside the collection cache's key) says the server is down."""


def test_a_probe_that_ran_nothing_says_why_and_is_not_cached(tmp_path: Path) -> None:
    root = tmp_path / "project"
    root.mkdir()
    _project(root)
    (root / "conftest.py").write_text(_BROKEN_RUN, "utf-8")
    (tmp_path / "down").touch()
    proc = _plan(root)
    assert proc.returncode == 0, proc.stderr
    said = " ".join(proc.stdout.split())
    assert "pytest ended (exit 3) before any test ran: fixture server down" in said
    assert "##[error]" not in proc.stdout and "##%5Berror]forged" in said  # command-safe
    assert _document_of(root).probe is not None
    (tmp_path / "down").unlink()  # back up, the tree unchanged: the next plan probes again
    again = _plan(root)
    assert again.returncode == 0, again.stderr
    document = _document_of(root)
    assert document.probe is not None and document.probe.problem is None
    assert "by a probe that ran 12 of them" in " ".join(again.stdout.split())


@pytest.mark.parametrize(
    "extra",
    [("--shards", "1"), ("--mode", "serial"), ("--shards", "auto", "--max-shards", "1")],
)
def test_no_probe_when_the_plan_is_one_shard_anyway(tmp_path: Path, extra: tuple[str, ...]) -> None:
    _project(tmp_path)
    proc = _plan(tmp_path, *extra)
    assert proc.returncode == 0, proc.stderr
    assert "first-run probe" not in proc.stdout
    document = _document_of(tmp_path)
    assert document.probe is None and document.collection is not None
    plan = json.loads((tmp_path / "out" / "plan.json").read_text("utf-8"))
    assert len(plan["shards"]) == 1


def test_one_shard_anyway_is_every_config_that_cannot_split() -> None:
    assert probe.one_shard_anyway(Config(shards=1), "parallel")
    assert probe.one_shard_anyway(Config(max_shards=1), "parallel")
    assert probe.one_shard_anyway(Config(shards=4, max_shards=1), "parallel")
    assert probe.one_shard_anyway(Config(), "serial")  # the history's serial mode too
    assert not probe.one_shard_anyway(Config(), "parallel")
    assert not probe.one_shard_anyway(Config(shards=2), "parallel")


def test_an_allowed_empty_suite_is_not_probed_and_predicts_nothing(tmp_path: Path) -> None:
    """The auditor's case: no test, ``allow-no-tests``; it probed nothing, warned that every
    duration is estimated, searched the counts for target-time 10 s and predicted a 30 s wall
    (the shard overhead) for a shard predicted 0 s."""
    (tmp_path / "pytest.ini").write_text("[pytest]\n", "utf-8")
    (tmp_path / "pyproject.toml").write_text(
        "[tool.shard-action]\nallow-no-tests = true\n", "utf-8"
    )
    proc = _plan(tmp_path, "--shards", "auto", "--explain", "--target-time", "10")
    assert proc.returncode == 0, proc.stderr
    said = " ".join(proc.stdout.split())
    assert "predicted wall time 0.0 s (lower bound 0.0 s, one job 0.0 s, about the same)" in said
    assert "warning: no tests to plan: the job matrix holds one shard 'none' that runs " in said
    for spurious in ("first-run probe", "no timings given", "target-time", "shard counts"):
        assert spurious not in said, spurious
    plan = json.loads((tmp_path / "out" / "plan.json").read_text("utf-8"))
    assert [(s["id"], s["predicted_seconds"]) for s in plan["shards"]] == [("none", 0.0)]
    assert (plan["makespan"], plan["lower_bound"], plan["serial_seconds"]) == (0.0, 0.0, 0.0)
    assert plan["counts"] == []
    document = _document_of(tmp_path)
    assert document.probe is None and document.collection is not None


def test_quarantined_tests_are_not_probed(tmp_path: Path) -> None:
    _project(tmp_path)
    (tmp_path / ".shard-action").mkdir()
    (tmp_path / ".shard-action" / "quarantine.toml").write_text(
        '[[quarantine]]\ntest = "test_slow.py::test_s0"\nowner = "@a"\nreason = "flaky"\n'
        "expires = 2999-01-01\n",
        "utf-8",
    )
    proc = _plan(tmp_path)
    assert proc.returncode == 0, proc.stderr
    document = _document_of(tmp_path)
    assert document.probe is not None
    assert "test_slow.py::test_s1" in document.probe.sample
    assert "test_slow.py::test_s0" not in document.probe.sample


def test_one_slow_test_cut_at_the_budget_does_not_scale_the_suite(tmp_path: Path) -> None:
    """The reviewer's case, smaller: a 30 s test runs first and is cut, 15 trivial ones never
    run. Unguarded, it scaled the suite x500 (about 16 s for a 0.03 s suite)."""
    (tmp_path / "pytest.ini").write_text("[pytest]\n", "utf-8")
    (tmp_path / "test_a_slow.py").write_text(
        "import time\n\n\ndef test_slow():\n    time.sleep(30)\n", "utf-8"
    )
    (tmp_path / "test_b_fast.py").write_text(
        "import pytest\n\n\n@pytest.mark.parametrize('n', range(15))\ndef test_f(n):\n"
        "    assert n >= 0\n",
        "utf-8",
    )
    began = time.monotonic()
    proc = _plan(tmp_path, "--probe", "1")
    assert proc.returncode == 0, proc.stderr
    assert time.monotonic() - began < 25
    said = " ".join(proc.stdout.split())
    assert "first-run probe: not used (finished 0 tests within its 1 s budget" in said
    plan = json.loads((tmp_path / "out" / "plan.json").read_text("utf-8"))
    assert plan["totals"]["seconds"] < 1.0
    assert "3 needed" in plan["timings"]["estimate"]["reliability"]
    assert set(_document_of(tmp_path).probe.cut) == {"test_a_slow.py::test_slow"}  # type: ignore[union-attr]


_LANES = """\
[tool.pytest.ini_options]

[[tool.shard-action.lanes]]
name = "env"
paths = ["test_env.py"]
env = { PROBE_X = "1" }

[[tool.shard-action.lanes]]
name = "db"
paths = ["test_db.py"]
backends = ["pg", "sqlite"]
backend-var = "PROBE_DB"
"""

_NEEDS = """\
import os, time

import pytest


@pytest.mark.parametrize("n", range(3))
def test_needs(n):
    if os.environ.get("{var}") != "{value}":
        pytest.skip("not in its lane's environment")
    time.sleep(0.2)
"""


def test_each_lane_is_probed_with_its_own_env(tmp_path: Path) -> None:
    """A lane's ``env`` (and a fan-out lane's backend, its first value) reaches the probe: the
    tests that skip without it take their 0.2 s, and the default lane does not get it."""
    (tmp_path / "pyproject.toml").write_text(_LANES, "utf-8")
    (tmp_path / "test_env.py").write_text(_NEEDS.format(var="PROBE_X", value="1"), "utf-8")
    (tmp_path / "test_db.py").write_text(_NEEDS.format(var="PROBE_DB", value="pg"), "utf-8")
    (tmp_path / "test_plain.py").write_text(
        "import os, time\n\n\ndef test_plain():\n    assert 'PROBE_X' not in os.environ\n"
        "    assert 'PROBE_DB' not in os.environ\n    time.sleep(0.2)\n",
        "utf-8",
    )
    proc = _plan(tmp_path, "--probe", "30")
    assert proc.returncode == 0, proc.stderr
    document = _document_of(tmp_path)
    assert document.probe is not None and document.probe.problem is None
    assert set(document.probe.seconds) == set(document.probe.sample)
    assert len(document.probe.sample) == 7
    slow = {t: s for t, s in document.probe.seconds.items() if s >= 0.15}
    assert set(slow) == set(document.probe.sample), document.probe.seconds


_DB_EXITS = (
    "import os, sys\n\n\ndef pytest_collection_finish(session):\n"
    "    if os.environ.get('DB') == '1' and not session.config.option.collectonly:\n"
    "        sys.stderr.write('no database here\\n')\n        sys.stderr.flush()\n"
    "        os._exit(3)\n"
)

_DB_LANE = """\
[tool.pytest.ini_options]

[[tool.shard-action.lanes]]
name = "db"
paths = ["test_db.py"]
env = { DB = "1" }
"""


def test_a_lane_whose_probe_failed_is_named_and_the_probe_is_not_cached(tmp_path: Path) -> None:
    """Lane ``db``'s process exits before its first test while the plain lane measures: the
    plan still scales by the plain lane's times, but says lane db failed and caches nothing
    (it once said only "timed 4 tests ... scaled x0.415" and cached the partial probe)."""
    (tmp_path / "pyproject.toml").write_text(_DB_LANE, "utf-8")
    (tmp_path / "conftest.py").write_text(_DB_EXITS, "utf-8")
    (tmp_path / "test_db.py").write_text("def test_d0():\n    pass\n", "utf-8")
    _project(tmp_path)
    (tmp_path / "pytest.ini").unlink()  # the pyproject's section configures pytest
    proc = _plan(tmp_path)
    assert proc.returncode == 0, proc.stderr
    said = " ".join(proc.stdout.split())
    assert "first-run probe (no history): timed 12 tests" in said, said
    assert "failed: lane db: pytest ended (exit 3) before any test ran: no database here" in said
    document = _document_of(tmp_path)
    assert document.probe is not None and "test_db.py::test_d0" not in document.probe.seconds
    assert document.probe.problem is not None and document.probe.problem.startswith("lane db: ")
    assert not list(tmp_path.rglob("probe-*.json"))
    plan = json.loads((tmp_path / "out" / "plan.json").read_text("utf-8"))
    info = plan["timings"]["estimate"]
    assert info["probe"]["failed"] == ["db"]  # and the plan summary's sentence says so:
    assert "the probe's process failed for lane db (see the log)" in info["reliability"]
