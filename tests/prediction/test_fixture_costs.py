"""Module and class fixture cost: found where pytest charges it, learned per scope, planned once
per shard that holds the scope.

The rules on hand-made phase times (expected values by construction), the planner on known
costs, and the whole loop on examples/fixtures: ``shard-action local`` twice with one history,
real pytest processes whose fixtures sleep a known time.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shard_action.core import fixtures
from shard_action.core.config import Config
from shard_action.core.history import History
from shard_action.core.models import TestItem, Timings
from shard_action.core.planner import make_plan
from shard_action.core.prediction import (
    MAX_SCOPES,
    Costs,
    LaneCosts,
    Measured,
    ProcessTimes,
    costs_of,
    learned,
    measure,
)
from shard_action.core.process_report import TestResult
from tests.e2e.conftest import clean_env

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "fixtures"


def _result(
    test: str, setup: float, teardown: float = 0.001, call: float = 0.002, shared: float = 0.0
) -> TestResult:
    return TestResult(test, "passed", setup + call + teardown, setup, teardown, shared)


def test_scopes_are_the_file_then_each_class_and_parameters_are_not_classes() -> None:
    assert fixtures.scopes_of("t/a.py::test_x") == ["t/a.py"]
    assert fixtures.scopes_of("t/a.py::TestA::TestB::test_x[p::q]") == [
        "t/a.py",
        "t/a.py::TestA",
        "t/a.py::TestA::TestB",
    ]
    assert fixtures.scopes_of("t/a.py") == ["t/a.py"]


def test_the_first_test_of_a_scope_carries_its_fixture_and_the_last_its_teardown() -> None:
    results = [
        # the process's first test: a 2 s session fixture, then a.py's 1 s module fixture
        _result("a.py::test_0", setup=3.002, shared=2.0),
        *(_result(f"a.py::test_{i}", setup=0.002) for i in range(1, 5)),
        _result("a.py::TestK::test_0", setup=0.502),  # opens the class: 0.5 s
        _result("a.py::TestK::test_1", setup=0.002, teardown=0.301),  # closes TestK and a.py
        _result("b.py::test_0", setup=0.003, teardown=0.401),  # the last: 0.4 s session teardown
    ]
    paid = fixtures.charges(results)
    assert paid.per_test == pytest.approx({
        "a.py::test_0": 2.0 + 1.0,
        "a.py::TestK::test_0": 0.5,
        # the teardown closes a.py (the outermost scope it closes), so a.py pays it
        "a.py::TestK::test_1": 0.3,
        "b.py::test_0": 0.4,
    })  # fmt: skip
    # the session's set-up and teardown are the process's start-up and finish, not a.py's or
    # b.py's (b.py's set-up, 1 ms over the typical, is noise)
    assert (paid.startup, paid.finish) == pytest.approx((2.0, 0.4))
    assert paid.scopes == pytest.approx({"a.py": 1.3, "a.py::TestK": 0.5, "b.py": 0.0})


def test_without_session_fixtures_the_first_test_opens_its_scope_like_any_other() -> None:
    results = [
        _result("a.py::test_0", setup=1.002, shared=0.000_02),  # a builtin session fixture
        *(_result(f"a.py::test_{i}", setup=0.002) for i in range(1, 5)),
        _result("b.py::test_0", setup=0.002),
    ]
    paid = fixtures.charges(results)
    assert (paid.startup, paid.finish) == (0.0, 0.0)
    assert paid.per_test == pytest.approx({"a.py::test_0": 1.0})
    assert paid.scopes == pytest.approx({"a.py": 1.0, "b.py": 0.0})


def test_noise_is_no_cost_and_an_older_plugin_gives_nothing() -> None:
    results = [_result(f"a.py::test_{i}", setup=0.002 + 0.001 * (i % 3)) for i in range(9)]
    paid = fixtures.charges(results)
    assert paid == fixtures.Charges(scopes={"a.py": 0.0})
    assert fixtures.charges([TestResult("a.py::t", "passed", 1.0)]) == fixtures.Charges()


phases = st.lists(
    st.tuples(st.sampled_from(["a.py", "a.py::K", "b.py", "c.py::K::L"]), st.floats(0, 3),
              st.floats(0, 3)),
    min_size=1, max_size=30,
)  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(phases)
def test_a_tests_extra_is_never_more_than_its_time_and_every_extra_is_a_scopes(
    spec: list[tuple[str, float, float]],
) -> None:
    results = [  # the first test's set-up: half of it session fixtures
        _result(f"{scope}::test_{i}", setup, teardown, shared=0.0 if i else setup / 2)
        for i, (scope, setup, teardown) in enumerate(spec)
    ]
    paid = fixtures.charges(results)
    by_id = {r.id: r for r in results}
    assert all(0 < extra <= by_id[test].seconds for test, extra in paid.per_test.items())
    assert all(cost >= 0 for cost in paid.scopes.values())
    assert 0 <= paid.startup <= spec[0][1] / 2 and paid.finish >= 0
    opened = {fixtures.scopes_of(r.id)[0] for r in results}
    assert opened <= set(paid.scopes)  # every file the process ran is measured (0 when cheap)


def _items(spec: dict[str, int], cls: str = "") -> list[TestItem]:
    return [TestItem(id=f"{f}::{cls}t{i}", file=f) for f, n in spec.items() for i in range(n)]


def test_a_costly_module_stays_in_one_shard_and_is_predicted_once() -> None:
    # db.py: forty 0.05 s tests behind a 3 s module fixture; x.py and y.py: four 1 s tests each
    tests = _items({"tests/db.py": 40}) + _items({"tests/x.py": 4, "tests/y.py": 4})
    timings = Timings(durations={t.id: 0.05 if t.file == "tests/db.py" else 1.0 for t in tests})
    costs = {"default": Costs(setup=0.0, interpreter=0.0, finish=0.0,
                              scopes={"tests/db.py": 3.0})}  # fmt: skip
    plan = make_plan(Config(shards=2), tests, timings, mode="parallel", mode_reason="t",
                     costs=costs)  # fmt: skip
    holding = [s for s in plan.shards if any(t.startswith("tests/db.py") for t in s.tests)]
    assert len(holding) == 1 and len(holding[0].tests) >= 40
    db = holding[0]
    assert db.prediction is not None
    # by hand: the fixture once, plus the shard's own tests
    own = sum(0.05 if t.startswith("tests/db.py") else 1.0 for t in db.tests)
    assert db.prediction.tests == pytest.approx(own + 3.0)
    # by hand: db.py whole (2 + 3 s) and one or two 1 s tests against the rest: 7 s; a split
    # db.py pays its fixture twice (2 + 6 + 8 = 16 s over two shards: 8 s)
    assert plan.makespan == pytest.approx(7.0)
    # timings that leave the fixture on the first test (as before) cut db.py: the test that
    # carried it goes one way, the rest the other, which then pays the fixture again unseen
    gross = Timings(durations={**timings.durations, "tests/db.py::t0": 3.05})
    blind = make_plan(Config(shards=2), tests, gross, mode="parallel", mode_reason="t",
                      costs={"default": Costs(setup=0.0, interpreter=0.0, finish=0.0)})  # fmt: skip
    assert sum(any(t.startswith("tests/db.py") for t in s.tests) for s in blind.shards) == 2


def test_a_class_fixture_is_charged_to_each_shard_holding_one_of_its_tests() -> None:
    tests = _items({"tests/k.py": 6}, cls="TestK::")
    timings = Timings(durations={t.id: 1.0 for t in tests})
    costs = {"default": Costs(setup=0.0, scopes={"tests/k.py::TestK": 0.5})}
    plan = make_plan(Config(shards=2), tests, timings, mode="parallel", mode_reason="t",
                     costs=costs)  # fmt: skip
    assert len(plan.shards) == 2
    for shard in plan.shards:
        assert shard.prediction is not None
        assert shard.prediction.tests == pytest.approx(len(shard.tests) * 1.0 + 0.5)


def test_the_session_fixtures_are_measured_as_start_up_and_finish() -> None:
    # the shard starts at 99 s, pytest at 100 s (configured at 100.5), runs its first test at
    # 101 s, whose set-up holds 2 s of session fixtures, ends its last at 110 s, whose
    # teardown holds 0.5 s of the session's, and the shard ends at 111 s
    process = ProcessTimes(100.0, 100.5, 101.0, 110.0, opening=2.0, closing=0.5)
    measured = measure(99.0, 111.0, [process], {}, reruns=False)
    assert measured is not None
    assert (measured.parts.startup, measured.parts.tests, measured.parts.finish) == (4.0, 6.5, 1.5)
    assert measured.interpreter == 3.5  # 1 s before pytest, 0.5 s to configure, the 2 s


def test_the_history_keeps_a_scope_once_it_costs_something_normalised_and_bounded() -> None:
    measured = Measured(scopes={"a.py": 1.0, "b.py": 0.0, "a.py::K": 0.004})
    after = learned({}, [("default", measured)], speed=2.0)
    assert after["default"].scopes == {"a.py": [0.5]}  # 1 s on a machine twice as slow
    # a known scope learns it got cheap; an old history without scopes still reads
    cheap = learned(after, [("default", Measured(scopes={"a.py": 0.0}))])
    assert cheap["default"].scopes == {"a.py": [0.5, 0.0]}
    assert LaneCosts.model_validate({"interpreter": [1.0]}).scopes == {}
    assert costs_of(cheap)["default"].scopes == {"a.py": 0.25}
    many = Measured(scopes={f"f{i}.py": 0.02 + i / 1e3 for i in range(MAX_SCOPES + 5)})
    kept = learned({}, [("default", many)])["default"].scopes
    assert len(kept) == MAX_SCOPES and "f0.py" not in kept  # the cheapest go first


_FIRST_TEST_OPENS = {
    ("tests/test_accounts.py", False): 0.0,  # test_plain: no fixture
    ("tests/test_accounts.py", True): 0.5,  # TestLedger's, given to the module it opens too
    ("tests/test_database.py", False): 1.0,
    ("tests/test_work.py", False): 0.0,
}
"""What examples/fixtures' first test of a shard sets up beside the session fixture, by its
file and whether it is in a class: the fixture of the scope it opens, by the example's code."""


@pytest.mark.slow
def test_the_example_is_planned_around_its_fixtures_and_predicted_on_the_second_run(
    tmp_path: Path,
) -> None:
    project = tmp_path / "fixtures"
    shutil.copytree(EXAMPLE, project)
    reports = []
    for _ in range(2):
        proc = subprocess.run(
            [sys.executable, "-m", "shard_action", "local", "--jobs", "1"],
            cwd=project, env=clean_env(), capture_output=True, text=True, timeout=300,
            check=False,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr
        out = project / "shard-action-out"
        reports.append(json.loads((out / "report" / "report.json").read_text("utf-8")))
        for shard in json.loads((out / "plan.json").read_text("utf-8"))["shards"]:
            # each shard's first test also sets up the session fixture (0.25 s, conftest.py):
            # the process's start-up, so its file is measured at its own module fixture
            first = shard["slices"][0]["tests"][0]
            manifest = json.loads((out / "shards" / shard["id"] / "manifest.json").read_text())
            file = first.split("::")[0]
            own = _FIRST_TEST_OPENS[file, "::Test" in first]
            got = manifest["measured"]["scopes"][file]
            assert got == pytest.approx(own, abs=0.15), (first, manifest["measured"])
    plan = json.loads((out / "plan.json").read_text("utf-8"))
    history = History.model_validate_json(
        (project / ".shard-action" / "history.json").read_text("utf-8")
    )
    learned_costs = costs_of(history.costs)["default"]
    assert learned_costs.scopes["tests/test_database.py"] == pytest.approx(1.0, abs=0.3)
    assert learned_costs.scopes["tests/test_accounts.py::TestLedger"] == pytest.approx(0.5, abs=0.2)
    # the session fixture's set-up and teardown are learned as start-up and finish
    assert learned_costs.interpreter is not None and learned_costs.interpreter >= 0.25
    assert learned_costs.finish is not None and learned_costs.finish >= 0.25
    # the first test's own time, without the module fixture it carried
    first = history.record("default", "tests/test_database.py::test_query[0]")
    assert first is not None and first.duration < 0.2
    # the second plan keeps the costly module whole
    files = [Counter(t.split("::")[0] for sl in s["slices"] for t in sl["tests"])
             for s in plan["shards"]]  # fmt: skip
    assert sum("tests/test_database.py" in f for f in files) == 1
    # and predicts each shard's tests, fixtures included, and its wall
    measured = {s["shard"]: s for s in reports[1]["shards"]}
    errors = []
    for shard in plan["shards"]:
        got = measured[shard["id"]]
        tests_error = abs(got["measured"]["tests"] - shard["prediction"]["tests"])
        wall_error = abs(got["actual_seconds"] - shard["predicted_seconds"])
        errors.append(wall_error / shard["predicted_seconds"])
        print(f"{shard['id']}: tests predicted {shard['prediction']['tests']:.2f} s, measured "
              f"{got['measured']['tests']:.2f} s; wall predicted {shard['predicted_seconds']:.2f}"
              f" s, measured {got['actual_seconds']:.2f} s")  # fmt: skip
        assert tests_error <= 0.25 * shard["prediction"]["tests"] + 0.2
    assert max(errors) <= 0.5  # start-up and finish are this loaded machine's noise
