"""A module every test file imports is start-up every shard pays, not the first file's cost.

pytest charges an import to the first file that triggers it, so when each file imports one heavy
module (scipy's io: numpy and scipy.sparse, 3-5 s) the first file each process collects looks
heavy and the rest cheap. The history used to learn "that file costs 4 s", and the planner then
charged only the shard holding it. Expected seconds here are written out by hand from the rule
(``core.prediction``: the first file's excess over the median of its process's other files, the
lower median of that over a run's processes, into the interpreter and out of the first file).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shard_action.core.estimate import Collection, first_costs
from shard_action.core.history import History
from shard_action.core.plan import Plan
from shard_action.core.prediction import (
    FirstFile,
    LaneCosts,
    Measured,
    Parts,
    ProcessTimes,
    costs_of,
    first_file,
    learned,
    measure,
    predict,
    shared_import,
    without_shared,
)
from tests.runner.helpers import QUIET_ENV, write_suite


def test_the_first_file_s_excess_over_the_process_s_typical_file() -> None:
    got = first_file([("a.py", 4.0), ("b.py", 0.1), ("c.py", 0.2), ("d.py", 0.12)])
    # the others' median is 0.12: 4.0 - 0.12
    assert got is not None and (got.file, got.seconds) == ("a.py", 4.0)
    assert got.excess == pytest.approx(3.88)
    lighter = first_file([("a.py", 0.05), ("b.py", 0.1), ("c.py", 0.2)])
    assert lighter == FirstFile(file="a.py", seconds=0.05, excess=0.0)


def test_too_few_files_no_usable_seconds_or_nothing_collected_say_nothing() -> None:
    assert first_file([]) is None  # a process that collected nothing
    assert first_file([("a.py", math.nan), ("b.py", -1.0)]) is None
    assert first_file([("a.py", 4.0)]) == FirstFile(file="a.py", seconds=4.0, excess=None)
    assert first_file([("a.py", 4.0), ("b.py", 0.1)]) == FirstFile(file="a.py", seconds=4.0)
    # an unusable time is skipped: the first file is the first one timed
    odd = first_file([("x.py", math.inf), ("a.py", 1.0), ("b.py", 0.1), ("c.py", 0.1)])
    assert odd is not None and (odd.file, odd.seconds) == ("a.py", 1.0)
    assert odd.excess == pytest.approx(0.9)


def test_a_shared_import_shows_in_at_least_half_the_processes() -> None:
    def firsts(*excess: float | None) -> list[FirstFile]:
        return [FirstFile(file=f"f{n}.py", seconds=5.0, excess=e) for n, e in enumerate(excess)]

    assert shared_import(firsts(3.9, 4.1, 4.0)) == 4.0
    assert shared_import(firsts(3.9, 4.1)) == 3.9  # the lower median
    assert shared_import(firsts(0.6, 0.0, 0.01)) == 0.01  # one file heavy on its own
    assert shared_import(firsts(0.6, 0.0)) == 0.0
    assert shared_import(firsts(None, 2.0, None)) == 2.0
    assert shared_import(firsts(None)) == 0.0
    assert shared_import([]) == 0.0


def _first(name: str, seconds: float, excess: float | None = None) -> FirstFile:
    return FirstFile(file=name, seconds=seconds, excess=excess)


def _shard(interpreter: float, files: dict[str, float], *firsts: FirstFile) -> Measured:
    return Measured(
        parts=Parts(startup=interpreter + sum(files.values()), tests=1.0, finish=0.5),
        interpreter=interpreter,
        files=files,
        first_files=list(firsts),
    )


def test_the_history_charges_a_shared_import_to_every_shard() -> None:
    """scipy/io in small: each shard's first file took 4.1 s, the others 0.1-0.2 s."""
    shards = [
        _shard(1.0, {"a.py": 4.1, "b.py": 0.1, "c.py": 0.1}, _first("a.py", 4.1, 4.0)),
        _shard(1.2, {"d.py": 4.2, "e.py": 0.2, "f.py": 0.2}, _first("d.py", 4.2, 4.0)),
        _shard(0.8, {"g.py": 4.3, "h.py": 0.1, "i.py": 0.1}, _first("g.py", 4.3, 4.2)),
    ]  # fmt: skip
    lane = learned({}, [("default", m) for m in shards])["default"]
    # shared 4.0 (the lower median of 4.0, 4.0, 4.2): interpreters 5.0, 5.2, 4.8 -> median 5.0
    assert lane.interpreter == [pytest.approx(5.0)]
    assert lane.files["a.py"] == [pytest.approx(0.1)]
    assert lane.files["d.py"] == [pytest.approx(0.2)]
    assert lane.files["g.py"] == [pytest.approx(0.3)]
    assert lane.files["b.py"] == [pytest.approx(0.1)]
    costs = costs_of({"default": lane})["default"]
    # any three of the files: 5.0 + their own collection, whichever of them came first
    assert predict(costs, ["b.py", "c.py", "e.py"], 1.0, overhead=0).startup == pytest.approx(5.4)
    assert predict(costs, ["a.py", "b.py", "c.py"], 1.0, overhead=0).startup == pytest.approx(5.3)


def test_a_file_heavy_on_its_own_keeps_its_weight() -> None:
    shards = [
        _shard(1.0, {"heavy.py": 0.7, "b.py": 0.1, "c.py": 0.1}, _first("heavy.py", 0.7, 0.6)),
        _shard(1.0, {"d.py": 0.1, "e.py": 0.1, "f.py": 0.1}, _first("d.py", 0.1, 0.0)),
        _shard(1.0, {"g.py": 0.1, "h.py": 0.1, "i.py": 0.1}, _first("g.py", 0.1, 0.0)),
    ]  # fmt: skip
    lane = learned({}, [("default", m) for m in shards])["default"]
    assert lane.interpreter == [pytest.approx(1.0)]
    assert lane.files["heavy.py"] == [pytest.approx(0.7)]


def test_a_process_without_evidence_still_pays_the_lane_s_shared_import() -> None:
    """A one-file shard cannot tell its import apart, but the lane's other shards can; a shard
    whose process collected nothing (no first file) pays nothing; an old manifest (no
    ``first_files``) is learned as before."""
    shards = [
        _shard(1.0, {"a.py": 3.1, "b.py": 0.1, "c.py": 0.1}, _first("a.py", 3.1, 3.0)),
        _shard(1.0, {"d.py": 3.2}, _first("d.py", 3.2)),
        _shard(1.0, {}),
    ]  # fmt: skip
    lane = learned({}, [("default", m) for m in shards])["default"]
    # interpreters 4.0, 4.0 and 1.0: median 4.0; d.py keeps 3.2 - 3.0
    assert lane.interpreter == [pytest.approx(4.0)]
    assert lane.files["d.py"] == [pytest.approx(0.2)]
    old = Measured.model_validate(
        {"interpreter": 1.0, "files": {"a.py": 3.1, "b.py": 0.1, "c.py": 0.1}}
    )
    assert old.first_files == []
    before = learned({}, [("default", old)])["default"]
    assert before.interpreter == [1.0] and before.files["a.py"] == [3.1]


def test_a_shard_measures_each_process_s_first_file() -> None:
    first = FirstFile(file="a.py", seconds=2.0, excess=1.9)
    processes = [
        ProcessTimes(100.0, 100.5, 103.0, 104.0, collected_first=first),
        ProcessTimes(104.0, 104.5, 105.0, 106.0),  # collected nothing it timed
    ]
    got = measure(99.0, 107.0, processes, {"a.py": 2.0, "b.py": 0.1}, reruns=False)
    assert got is not None and got.first_files == [first]


def test_the_first_run_estimate_puts_the_shared_import_in_the_start_up() -> None:
    files = {"tests/a.py": 2.1, "tests/b.py": 0.1, "tests/c.py": 0.2, "tests/d.py": 0.1}
    collection = Collection(interpreter=0.8, files=files)
    costs = first_costs(collection, coverage=False)
    assert costs is not None
    # 0.8 + 0.2 for `run` + 2.0 shared (2.1 over the others' median 0.1), unscaled
    assert costs.interpreter == pytest.approx(3.0)
    # each file's own rest x 1.5
    assert dict(costs.files) == pytest.approx(
        {"tests/a.py": 0.15, "tests/b.py": 0.15, "tests/c.py": 0.3, "tests/d.py": 0.15}
    )
    one = first_costs(Collection(interpreter=0.8, files={"tests/a.py": 2.1}), coverage=False)
    assert one is not None and one.interpreter == pytest.approx(1.0)
    assert dict(one.files) == pytest.approx({"tests/a.py": 3.15})  # no evidence: as before
    none = first_costs(Collection(interpreter=0.8, files={"a.py": math.nan}), coverage=False)
    assert none is not None and none.interpreter == pytest.approx(1.0) and not none.files


SECONDS = st.floats(0, 10, allow_nan=False)


@given(
    files=st.dictionaries(st.sampled_from([f"t{n}.py" for n in range(6)]), SECONDS, max_size=6),
    excess=st.lists(st.one_of(st.none(), SECONDS), max_size=4),
)
def test_moving_the_shared_import_keeps_the_shard_s_total(
    files: dict[str, float], excess: list[float | None]
) -> None:
    firsts = [
        FirstFile(file=name, seconds=s, excess=e)
        for (name, s), e in zip(files.items(), excess, strict=False)
    ]
    shared = shared_import(firsts)
    paid, own = without_shared(files, firsts, shared)
    assert paid + sum(own.values()) == pytest.approx(sum(files.values()), abs=1e-5)
    assert set(own) == set(files) and all(s >= 0 for s in own.values())
    assert paid <= shared * len(firsts) + 1e-9
    untouched = set(files) - {f.file for f in firsts}
    assert all(own[name] == files[name] for name in untouched)


@given(files=st.dictionaries(st.sampled_from([f"t{n}.py" for n in range(6)]), SECONDS))
def test_the_first_run_estimate_keeps_every_second_it_measured(files: dict[str, float]) -> None:
    costs = first_costs(Collection(interpreter=1.0, files=files), coverage=False)
    assert costs is not None and costs.interpreter is not None
    shared = costs.interpreter - 1.0 - 0.2
    assert shared >= -1e-9
    assert shared + sum(costs.files.values()) / 1.5 == pytest.approx(sum(files.values()), abs=1e-4)


HEAVY_SLEEP = 0.6
FILES = 9


def test_every_shard_of_a_suite_that_imports_one_heavy_module_is_predicted_to_pay_it(
    tmp_path: Path,
) -> None:
    """Real `shard-action local`, twice: nine files import a package that sleeps 0.6 s at
    import; each shard's process pays it once, by whichever file it collects first. The second
    plan (from the first run's history, one shard more than that run had) predicts every shard's
    start-up with it and no file's collection as heavy: before, the history priced the first run's
    three first files at 0.6 s each, and the fourth shard was predicted without the import."""
    suite = {"heavy/__init__.py": f"import time\ntime.sleep({HEAVY_SLEEP})\n"}
    for n in range(FILES):
        suite[f"tests/test_m{n}.py"] = (
            "import heavy\n\ndef test_a():\n    pass\n\ndef test_b():\n    pass\n"
        )
    root = write_suite(
        tmp_path / "suite", suite, pyproject='[tool.pytest.ini_options]\npythonpath = ["."]\n'
    )
    history, out = tmp_path / "history.json", tmp_path / "out"
    manifests: list[Path] = []
    for shards in ("3", "4"):
        proc = subprocess.run(
            [sys.executable, "-m", "shard_action", "local", str(root), "--out", str(out),
             "--history", str(history), "--shards", shards, "--coverage", "false",
             "--probe", "0", "--granularity", "file", "--jobs", "1"],
            cwd=root, env={**os.environ, **QUIET_ENV}, capture_output=True, text=True,
            timeout=300, check=False,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        if not manifests:
            manifests = sorted(out.rglob("manifest.json"))
            firsts = [
                json.loads(m.read_text("utf-8"))["measured"]["first_files"] for m in manifests
            ]
            # each process paid the import once, on its first file
            assert [len(f) for f in firsts] == [1, 1, 1], firsts
            assert all(f[0]["seconds"] >= HEAVY_SLEEP for f in firsts), firsts
            # evidence where the process had three files (a shard of fewer has none of its own)
            assert all(
                f[0]["excess"] is None or f[0]["excess"] >= HEAVY_SLEEP * 0.8 for f in firsts
            )
            plan_one = Plan.model_validate_json((out / "plan.json").read_text("utf-8"))
    plan = Plan.model_validate_json((out / "plan.json").read_text("utf-8"))
    assert len(plan_one.shards) == 3 and len(plan.shards) == 4
    for shard in plan.shards:
        assert shard.prediction is not None
        assert shard.prediction.startup >= HEAVY_SLEEP * 0.8, plan.shards
    lane = History.model_validate_json(history.read_text("utf-8")).costs["default"]
    assert len(lane.interpreter) == 2
    assert all(sample >= HEAVY_SLEEP * 0.8 for sample in lane.interpreter), lane.interpreter
    assert set(lane.files) == {f"tests/test_m{n}.py" for n in range(FILES)}
    heavy = {name: s for name, s in lane.files.items() if max(s) >= HEAVY_SLEEP / 3}
    assert not heavy, lane.files  # the first files are priced as their own rest


def test_an_old_history_without_the_new_samples_still_reads() -> None:
    lane = LaneCosts.model_validate({"interpreter": [1.0], "files": {"a.py": [4.0]}})
    assert costs_of({"default": lane})["default"].file_seconds("a.py") == 4.0
